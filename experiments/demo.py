#!/usr/bin/env python3
"""`make demo`: PEARL and TCL-PEARL learning the point-goal tasks, side by
side, in about 3 minutes on a 2-core CPU.

Both algorithms train with the same seed and the `demo` profile
(configs/profiles/demo.yaml), each in its own process on one CPU thread;
their progress lines are printed as they go (dowel's full tables stay in
each run's debug.log). At the end it writes one figure, ``demo.png``: the
meta-test return of both, and the t-SNE of TCL-PEARL's final context
embeddings coloured by test task; and prints a two-line summary.

    python experiments/demo.py [--seed N] [--epochs N] [--out DIR] [--smoke]
"""
import argparse
import pathlib
import sys
import time
import warnings

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.analysis.curves import draw_curves
from tcl_garage.analysis.embeddings import (collect_embeddings,
                                            draw_embeddings, tsne)
from tcl_garage.analysis.runs import first_and_last_mean, load_run
from tcl_garage.experiment.sweep import run_commands

BENCHMARK = 'point'
ALGOS = ('pearl', 'tcl-pearl')
NAMES = {'pearl': 'PEARL', 'tcl-pearl': 'TCL-PEARL'}
ROOT = pathlib.Path(__file__).resolve().parent.parent


def fresh_dir(path: pathlib.Path) -> pathlib.Path:
    """``path``, or ``path_1``, ``path_2``, ... if it exists (nothing is
    overwritten)."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f'{path.name}_{n}')
    return candidate


def train_both(out: pathlib.Path, seed: int, epochs, profile: str) -> None:
    """Train both algorithms at once, one process and one core each,
    printing their progress lines; exits with a failing run's status."""
    jobs = []
    for algo in ALGOS:
        command = [sys.executable, '-m', 'tcl_garage.experiment', BENCHMARK,
                   '--algo', algo, '--profile', profile, '--seed', str(seed),
                   '--quiet', '--log-dir', str(out / algo)]
        if epochs is not None:
            command += ['--epochs', str(epochs)]
        jobs.append((NAMES[algo], command))
    codes = run_commands(jobs, parallel=len(jobs), cwd=str(ROOT),
                         show=lambda line: line.startswith('[progress]'))
    for code in codes:
        if code != 0:
            sys.exit(code)


def draw_figure(out: pathlib.Path, runs, seed: int) -> pathlib.Path:
    """``demo.png``: both curves, and TCL-PEARL's context embeddings."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():  # garage's, about its own code
        warnings.filterwarnings('ignore', category=UserWarning,
                                module='garage')
        points, labels, _ = collect_embeddings(str(out / 'tcl-pearl'),
                                               num_tasks=10, rollouts=30,
                                               seed=seed)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    draw_curves(left, runs)
    left.set_title(f'{BENCHMARK}: meta-test return (seed {seed})')
    draw_embeddings(right, tsne(points, seed), labels,
                    title='TCL-PEARL: t-SNE of final context embeddings')
    figure.tight_layout()
    path = out / 'demo.png'
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--epochs', type=int,
                        help="default: the demo profile's")
    parser.add_argument('--out', help='output folder (default '
                        'runs/demo/seed<N>; never overwritten)')
    parser.add_argument('--smoke', action='store_true',
                        help='tiny sizes (seconds): checks the pipeline')
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 2:
        parser.exit(2, f'error: --epochs {args.epochs}: give at least 2\n')
    out = fresh_dir(pathlib.Path(args.out or
                                 ROOT / 'runs' / 'demo' / f'seed{args.seed}'))
    start = time.time()
    train_both(out, args.seed, args.epochs,
               'smoke' if args.smoke else 'demo')
    runs = [load_run(out / algo) for algo in ALGOS]
    figure = draw_figure(out, runs, args.seed)
    edges = min(3, len(runs[0].column('TotalEnvSteps')) // 2)
    gains = ', '.join(
        '{}: {:.1f} -> {:.1f}'.format(NAMES[run.algo],
                                      *first_and_last_mean(run, epochs=edges))
        for run in runs)
    print(f'Meta-test return, mean of the first vs the last {edges} epochs: '
          f'{gains}')
    print(f'Figure {figure}; runs (progress.csv, debug.log) in {out} '
          f'({time.time() - start:.0f} s)')


if __name__ == '__main__':
    main()
