#!/usr/bin/env python3
"""PEARL vs TCL-PEARL on one benchmark, same budget, S seeds, then analysis.

Runs both algorithms through the sweep (tcl_garage.experiment.sweep:
finished runs are skipped, unfinished ones resumed; --parallel runs at a
time), then writes into --out: results.md / results.csv (meta-test return,
and success rate on Meta-World, over the last part of training, mean and
spread over seeds; winner; relative gain), curves.png, embeddings/<algo>/
(t-SNE and cluster metrics of seed 0) and summary.md (the command, the
budget, the wall-clock and all of the above).

Presets: `cpu-hour` (configs/profiles/cpu-hour.yaml: about an hour per
benchmark for 3 seeds of both algorithms on a 2-core CPU, two runs at a
time), `paper` (the paper's settings, on --device cuda), `smoke` (seconds;
a check). Each run's budget (epochs, gradient steps, environment steps) is
printed first. The table averages the last 100k environment steps (the
paper's) or, for the smaller presets, the last fifth of the run. The paper's
budget per run and algorithm: ML1 (any env) 50 epochs, 200,000 gradient
steps, 1.4M environment steps; Cheetah-Vel 500 epochs, 1M gradient steps,
2.7M environment steps (the other MuJoCo families alike). At the paper's
ML1 sizes a gradient step takes about 0.45 s on a 2-core CPU (25 hours a
run): the paper preset needs a CUDA GPU.

    python experiments/reproduce.py --env cheetah-vel --seeds 3 --out repro
"""
import argparse
import json
import pathlib
import shlex
import sys
import time

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.analysis.curves import plot_curves
from tcl_garage.analysis.embeddings import analyse_embeddings
from tcl_garage.analysis.runs import load_run
from tcl_garage.analysis.table import (LAST_STEPS, results_table, to_csv,
                                       to_markdown)
from tcl_garage.envs import benchmark_facts
from tcl_garage.experiment import load_config
from tcl_garage.experiment.rundir import default_run_dir
from tcl_garage.experiment.sweep import sweep

ALGOS = ('tcl-pearl', 'pearl')


def budget(benchmark, preset):
    """What each run of a preset costs.

    Args:
        benchmark (str): The benchmark.
        preset (str): The preset.

    Returns:
        dict: ``epochs``, ``gradient_steps``, ``env_steps`` (about: whole
            episodes round it up).

    """
    profile = {'paper': None, 'smoke': 'smoke'}.get(preset, preset)
    config = load_config(benchmark, algo='tcl-pearl', profile=profile)
    n_train = config['num_train_tasks'] or benchmark_facts(benchmark)[0]
    per_visit = (config['num_steps_prior'] + config['num_steps_posterior'] +
                 config['num_extra_rl_steps_posterior'])
    return {
        'epochs': config['epochs'],
        'gradient_steps': config['epochs'] * config['num_steps_per_epoch'],
        'env_steps': (n_train * config['num_initial_steps'] +
                      config['epochs'] * config['num_tasks_sample'] *
                      per_visit),
    }


def budget_line(benchmark, preset):
    """One line stating what each run of the preset costs.

    Args:
        benchmark (str): The benchmark.
        preset (str): The preset.

    Returns:
        str: Epochs, gradient steps and environment steps of one run.

    """
    cost = budget(benchmark, preset)
    return (f'budget of each run ({preset}, {benchmark}): {cost["epochs"]} '
            f'epochs, {cost["gradient_steps"]:,} gradient steps, about '
            f'{cost["env_steps"]:,} environment steps (whole episodes round '
            'it up)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--env', default='cheetah-vel',
                        help='benchmark, e.g. cheetah-vel or ml1/push-v3')
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--preset', choices=['cpu-hour', 'paper', 'smoke'],
                        default='cpu-hour')
    parser.add_argument('--device', default=None,
                        help='default: cuda for paper, cpu otherwise')
    parser.add_argument('--parallel', type=int, default=None,
                        help='runs at a time (default: 1 for paper, '
                        '2 otherwise)')
    parser.add_argument('--out', default='reproduce')
    parser.add_argument('--embedding-tasks', type=int, default=8)
    parser.add_argument('--embedding-rollouts', type=int, default=50)
    args = parser.parse_args()
    command = 'python experiments/reproduce.py ' + shlex.join(sys.argv[1:])
    print(budget_line(args.env, args.preset), flush=True)
    cost = budget(args.env, args.preset)
    last_steps = (LAST_STEPS if args.preset == 'paper' else
                  max(1, cost['env_steps'] // 5))
    parallel = args.parallel or (1 if args.preset == 'paper' else 2)
    out = pathlib.Path(args.out)
    runs_dir = out / 'runs'
    device = args.device or ('cuda' if args.preset == 'paper' else 'cpu')
    preset = [] if args.preset == 'paper' else (
        ['--smoke'] if args.preset == 'smoke' else ['--profile', args.preset])
    start = time.time()
    if sweep([args.env], ALGOS, range(args.seeds), str(runs_dir),
             ['--device', device, '--quiet', *preset], parallel=parallel):
        raise SystemExit('error: some runs failed (see above)')
    train_seconds = time.time() - start
    run_dirs = [default_run_dir(args.env, algo, seed, runs_dir)
                for algo in ALGOS for seed in range(args.seeds)]
    runs = [load_run(d) for d in run_dirs]
    rows, summary = results_table(runs, last_steps)
    table = to_markdown(rows, summary)
    (out / 'results.md').write_text(table)
    (out / 'results.csv').write_text(to_csv(rows))
    plot_curves(runs, str(out / 'curves.png'))
    metrics = {}
    for algo in ALGOS:
        metrics[algo] = analyse_embeddings(
            str(default_run_dir(args.env, algo, 0, runs_dir)),
            str(out / 'embeddings' / algo), args.embedding_tasks,
            args.embedding_rollouts)
    lines = [f'# PEARL vs TCL-PEARL on {args.env}', '',
             f'`{command}`', '',
             f'Preset `{args.preset}`, {args.seeds} seed(s), device '
             f'`{device}`, {parallel} run(s) at a time; training took '
             f'{train_seconds / 60:.0f} min, everything '
             f'{(time.time() - start) / 60:.0f} min.', '',
             f'Each run: {cost["epochs"]} epochs, '
             f'{cost["gradient_steps"]:,} gradient steps, about '
             f'{cost["env_steps"]:,} environment steps.', '',
             f'## Meta-test return over the last {last_steps:,} '
             'environment steps (mean ± std over seeds)', '', table,
             '## Context embeddings (seed 0)', '',
             '| algo | space | intra-task distance | inter-centroid distance |',
             '| --- | --- | --- | --- |']
    for algo, result in metrics.items():
        for space in ('latent', 'tsne'):
            m = result[space]
            lines.append(f'| {algo} | {space} | '
                         f'{m["intra_task_distance"]:.3f} | '
                         f'{m["inter_centroid_distance"]:.3f} |')
    lines += ['', 'Figures: `curves.png`, `embeddings/<algo>/'
              'embeddings_tsne.png`; runs in `runs/`.', '']
    (out / 'summary.md').write_text('\n'.join(lines))
    (out / 'embeddings' / 'metrics.json').write_text(
        json.dumps(metrics, indent=2))
    print('\n'.join(lines))
    print(f'wrote {out / "summary.md"}')


if __name__ == '__main__':
    main()
