#!/usr/bin/env python3
"""Where an epoch's time goes: collection, gradient steps, meta-test
evaluation, snapshot and logging, for one run's config.

Builds the run as the launcher does (``load_config`` + ``build_run``),
collects the initial data (timed, once per run), then times one epoch part
by part: the epoch's collection (the vectorised collector), its gradient
steps (``--timed-steps`` of ``num_steps_per_epoch`` timed, the rest at the
median of the timed ones after the first quarter), the meta-test
evaluation, the snapshot (the pickled algorithm and environment, as the
trainer writes it every epoch) and the epoch's logging (statistics and a
CSV and text dump). Prints the split and projects the whole run
(initial collection + epochs x epoch). ``--precision`` sets the step's
precision. ``--skip-initial-tasks N`` collects the initial data of only N
tasks (the paper-size ML1 run's 50 tasks x 4,000 steps take minutes here)
and scales its time to all of them; gradient steps then draw from those
tasks only. ``--eval-tasks N`` likewise meta-tests only N of the run's test
tasks and scales the time to all of them (a paper-size ML10 evaluation
covers 250 test tasks, each 10 exploration and one adapted episode of 500
steps: 1.4 M environment steps); the evaluation is then timed with N slots
in lockstep, so its batched policy calls are a larger share than with all
of them and the scaled time an upper bound. ``--clock process`` times
this process's CPU time instead of the wall-clock: on a machine that other
work shares, with ``--n-workers 0`` and one thread (``OMP_NUM_THREADS=1``)
it is about what the run takes on one free core.

    python benchmarks/epoch_profile.py --env cheetah-dir --profile cpu-hour
    python benchmarks/epoch_profile.py --env ml1/reach-v3 --profile cpu-hour
    python benchmarks/epoch_profile.py --env ml1/push-v3 --timed-steps 20 \\
        --initial-tasks 8
    python benchmarks/epoch_profile.py --env cheetah-vel --profile cpu-hour \\
        --algo tcl-mql      # MQL and TCL-MQL: their own parts
    python benchmarks/epoch_profile.py --env ml10 --timed-steps 10 \\
        --initial-tasks 2 --eval-tasks 5   # paper-size ML10, parts scaled
"""
import argparse
import pathlib
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, Optional

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


#: The clocks of ``--clock``: wall-clock, or this process's CPU time.
CLOCKS = {'wall': time.perf_counter, 'process': time.process_time}
#: The clock :func:`timed` reads.
clock = CLOCKS['wall']


def timed(function) -> float:
    """Seconds ``function()`` takes, on :data:`clock`."""
    start = clock()
    function()
    return clock() - start


def profile_epoch(config: Dict[str, Any], timed_steps: int,
                  initial_tasks: Optional[int] = None,
                  eval_tasks: Optional[int] = None) -> Dict[str, Any]:
    """One epoch of a run's config, part by part.

    Args:
        config (dict): Resolved config (``load_config``).
        timed_steps (int): Gradient steps timed (the rest extrapolated).
        initial_tasks (int or None): Tasks whose initial data is collected
            (None: all; the time is scaled to all tasks).
        eval_tasks (int or None): Test tasks meta-tested (None: the run's
            ``num_test_tasks``; fewer: the time is scaled to all of them).

    Returns:
        dict: ``parts`` (seconds each: initial collection, epoch
            collection, gradient steps, meta-test evaluation, snapshot,
            logging), ``epoch`` (seconds, without the initial collection),
            ``projected_run`` (initial + epochs x epoch), ``step_median``,
            ``timed_steps``, ``steps`` (gradient steps an epoch),
            ``test_tasks`` and ``eval_tasks`` (test tasks of the run, and
            those timed).

    """
    import torch

    from tcl_garage.envs import benchmark_facts
    from tcl_garage.experiment.launcher import build_run

    test_tasks = (config['num_test_tasks'] or
                  benchmark_facts(config['benchmark'])[1])
    eval_scale = 1.0
    if eval_tasks is not None and eval_tasks < test_tasks:
        eval_scale = test_tasks / eval_tasks
        config = dict(config, num_test_tasks=eval_tasks)
    built, _ = build_run(config)
    algo = built.algo
    if hasattr(algo, 'meta_test'):  # MQL's family: its own parts
        profile = _profile_mql_epoch(config, built, timed_steps, eval_scale)
        return dict(profile, test_tasks=test_tasks,
                    eval_tasks=round(test_tasks / eval_scale))
    # pylint: disable=protected-access
    collector, evaluator = algo._collector, algo._evaluator
    plan = algo.collection_plan
    n_train = plan.num_train_tasks
    parts = {}
    if initial_tasks is None or initial_tasks >= n_train:
        parts['initial collection'] = timed(collector.collect_initial)
        trained = list(range(n_train))
    else:  # the first initial_tasks tasks, scaled to all
        trained = list(range(initial_tasks))
        parts['initial collection'] = timed(
            lambda: collector.collect_initial(trained)) * n_train / len(
                trained)
    np.random.seed(0)
    tasks = [trained[np.random.randint(len(trained))]
             for _ in range(config['num_tasks_sample'])]
    parts['epoch collection'] = timed(lambda: collector.collect_epoch(tasks))
    steps = config['num_steps_per_epoch']
    times = []
    device = config['device']
    for _ in range(min(timed_steps, steps)):
        indices = np.random.choice(trained, config['meta_batch_size'])

        def step(indices=indices):
            algo._optimize_policy(indices)
            if device.startswith('cuda'):
                torch.cuda.synchronize()

        times.append(timed(step))
    step_median = statistics.median(times[len(times) // 4:] or times)
    parts['gradient steps'] = step_median * steps
    algo.policy.reset_belief()
    parts['meta-test evaluation'] = timed(
        lambda: evaluator.evaluate(algo)) * eval_scale
    return dict(_finish(config, built, parts, times, step_median, steps),
                test_tasks=test_tasks,
                eval_tasks=round(test_tasks / eval_scale))


def _profile_mql_epoch(config: Dict[str, Any], built, timed_steps: int,
                       eval_scale: float = 1.0) -> Dict[str, Any]:
    """:func:`profile_epoch` for MQL and TCL-MQL: the burn-in, an epoch's
    episodes, its TD3 steps (each with its batch draw) and the meta-test
    (exploration, adaptation of every test task, evaluation)."""
    algo = built.algo
    # pylint: disable=protected-access
    parts = {'initial collection': timed(algo._collect_initial)}
    tasks = np.random.default_rng(0).integers(algo._num_train_tasks,
                                              size=config['num_tasks_sample'])
    parts['epoch collection'] = timed(lambda: algo._collect(tasks))
    steps = algo._gradient_steps_per_epoch
    times = []
    for _ in range(min(timed_steps, steps)):
        times.append(timed(lambda: algo._train_step(
            algo._sample_training_batch(algo._batch_size))))
    step_median = statistics.median(times[len(times) // 4:] or times)
    parts['gradient steps'] = step_median * steps
    parts['meta-test evaluation'] = timed(algo.meta_test) * eval_scale
    return _finish(config, built, parts, times, step_median, steps)


def _finish(config, built, parts, times, step_median,
            steps) -> Dict[str, Any]:
    """Time the snapshot and the logging; total the epoch."""
    from dowel import CsvOutput, logger, tabular, TextOutput

    from tcl_garage.experiment.snapshots import atomic_pickle
    algo = built.algo
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder)
        parts['snapshot'] = timed(lambda: atomic_pickle(
            dict(algo=algo, env=built.env), str(path / 'params.pkl')))
        logger.add_output(CsvOutput(str(path / 'progress.csv')))
        logger.add_output(TextOutput(str(path / 'debug.log')))

        def log():
            for name, value in algo.train_statistics.items():
                tabular.record(f'Train/{name}', value)
            logger.log(tabular)
            logger.dump_all()

        parts['logging'] = timed(log)
        logger.remove_all()
    epoch = sum(seconds for name, seconds in parts.items()
                if name != 'initial collection')
    return dict(parts=parts, epoch=epoch, step_median=step_median,
                timed_steps=len(times), steps=steps,
                projected_run=parts['initial collection'] +
                config['epochs'] * epoch)


def print_profile(name: str, config: Dict[str, Any],
                  profile: Dict[str, Any], say=print) -> None:
    """The split as lines (``say`` prints each)."""
    say(f'{name}, {config["algo"]}: {config["epochs"]} epochs of '
        f'{profile["steps"]}'
        f' gradient steps ({profile["timed_steps"]} timed, median '
        f'{profile["step_median"] * 1e3:.1f} ms), precision '
        f'{config.get("precision", "fp32")}, device {config["device"]}, '
        f'{config["n_workers"]} workers')
    if profile['eval_tasks'] < profile['test_tasks']:
        say(f'  (meta-test evaluation: {profile["eval_tasks"]} of '
            f'{profile["test_tasks"]} test tasks timed, scaled to all)')
    epoch = profile['epoch']
    for part, seconds in profile['parts'].items():
        share = ('' if part == 'initial collection' else
                 f'  {100 * seconds / epoch:5.1f} % of an epoch')
        say(f'  {part:22s} {seconds:9.2f} s{share}')
    say(f'  one epoch              {epoch:9.2f} s')
    say(f'  projected run          {profile["projected_run"] / 3600:9.2f} h '
        f'({profile["projected_run"]:.1f} s: initial collection + '
        f'{config["epochs"]} epochs)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--env', default='cheetah-dir')
    parser.add_argument('--algo', default='tcl-pearl')
    parser.add_argument('--profile', default=None,
                        help='a config profile, e.g. cpu-hour (default: '
                        "the paper's sizes)")
    parser.add_argument('--precision', default='fp32')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--n-workers', type=int, default=None)
    parser.add_argument('--timed-steps', type=int, default=100)
    parser.add_argument('--initial-tasks', type=int, default=None)
    parser.add_argument('--eval-tasks', type=int, default=None)
    parser.add_argument('--clock', choices=sorted(CLOCKS), default='wall',
                        help="process: this process's CPU time (with "
                        '--n-workers 0 and one thread: one free core)')
    parser.add_argument('--set', action='append', default=[],
                        metavar='KEY=VALUE')
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import tcl_garage  # noqa: F401  (adapts garage before it is imported)
    from tcl_garage.experiment import load_config
    from tcl_garage.experiment.config import parse_overrides
    overrides = dict(parse_overrides(args.set), device=args.device, seed=0)
    if args.precision != 'fp32':  # (MQL has no precision setting)
        overrides['precision'] = args.precision
    if args.n_workers is not None:
        overrides['n_workers'] = args.n_workers
    config = load_config(args.env, algo=args.algo, profile=args.profile,
                         overrides=overrides)
    from dowel import logger, tabular
    # The timed parts log to no output (but the logging part): dowel's
    # warnings that nothing takes their lines say nothing here.
    logger.disable_warnings()
    tabular.disable_warnings()
    for name in ('initial_tasks', 'eval_tasks'):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    global clock  # pylint: disable=global-statement
    clock = CLOCKS[args.clock]
    if args.clock == 'process' and config['n_workers'] != 0:
        parser.error('--clock process counts this process only: add '
                     '--n-workers 0')
    profile = profile_epoch(config, args.timed_steps, args.initial_tasks,
                            args.eval_tasks)
    print_profile(f'{args.env} ({args.profile or "paper sizes"}'
                  f'{", CPU time" if args.clock == "process" else ""})',
                  config, profile)


if __name__ == '__main__':
    main()
