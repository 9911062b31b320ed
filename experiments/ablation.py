#!/usr/bin/env python3
"""TCL's design choices, arm by arm, at one budget: the ablation study of
``docs/results.md``.

Arms (each a run directory ``<out>/runs/<benchmark>/<arm>/seed<s>``):

* ``pearl``: PEARL;
* ``tcl-pearl``: TCL-PEARL as the paper describes it (trajectory-level
  positives, every other trajectory's key a negative);
* ``tcl-other-tasks``: ``tcl_negatives=other-tasks`` (keys of the query's
  own task are not negatives: hypothesis H1, same-task negatives hold TCL
  back);
* ``tcl-task-positive``: ``tcl_positive=task`` and
  ``tcl_negatives=other-tasks`` (task-level positives, as the authors'
  code before 2021-01-31: hypothesis H2);
* ``tcl-window-64`` (opt-in, ``--arms``): windows of 64 steps (H3);
* ``mql``, ``td3-context`` (``mql.adapt=false``) and ``tcl-mql`` (opt-in):
  the study of TCL on a second algorithm, beside ``pearl`` and
  ``tcl-pearl`` at the same budget;
* ``tcl-pearl-bf16`` (opt-in): TCL-PEARL with ``precision=bf16``, beside
  ``tcl-pearl`` (fp32): the check that bf16 learns as fp32 does;
* ``tcl-pearl-fused-adam`` (opt-in): TCL-PEARL with ``adam=fused``, beside
  ``tcl-pearl`` (``foreach``): the check that the faster kernel learns as
  the default does.

``--set key=value`` (repeatable) changes a setting of every arm's runs,
after the profile; a key that an arm itself sets is refused, so an arm
stays what its name says.

Runs are ordered seed by seed, finished runs are skipped and unfinished ones
resumed, so the study may run in parts (``--parallel`` at a time, one core
each). Then it writes ``<out>/<benchmark>/`` (``ml1/reach-v3`` nests):
``results.md`` (per arm: last-fifth return and success, mean, interquartile
mean and 95 % stratified-bootstrap interval over seeds; probability of
improvement over PEARL and over TCL-PEARL; first vs last 3 epochs; TCL
accuracy; seeds needed for a 10 % difference), ``curves.png`` and, with
``--embeddings``, the paper's Table 2 cluster metrics over seeds (measured
on the finished runs whose directories are here, with their t-SNE plots
under ``<out>/<benchmark>/embeddings/``; with ``--record`` they are kept in
the record, so that seeds measured on other machines count too).

With ``--record <folder>`` every run is also recorded in that folder as
soon as it finishes (its config, metadata and the columns the report reads:
a few KB, :mod:`tcl_garage.analysis.records`; with ``--embeddings`` its
cluster metrics too), so a study cut short keeps each run it finished;
recorded runs are not run again and the report reads the record. Commit the
record, and the next part of the study, on this machine or another, adds to
it (``--analyse-only`` records what has finished so far without starting
anything).

    python experiments/ablation.py --env cheetah-dir --seeds 10 \
        --record docs/results/ablation-record
    python experiments/ablation.py --env point --profile demo --seeds 5 \
        --set num_test_tasks=4 \
        --arms pearl tcl-pearl mql td3-context tcl-mql --out mql-study
    python experiments/ablation.py --env ml1/reach-v3 --seeds 3
    python experiments/ablation.py --env cheetah-vel --seeds 5 \
        --arms pearl tcl-pearl mql td3-context tcl-mql --out mql-study
    python experiments/ablation.py --env cheetah-vel --seeds 5 \
        --arms tcl-pearl tcl-pearl-bf16 --out precision-study
    python experiments/ablation.py --env cheetah-dir --seeds 10 \
        --arms tcl-pearl tcl-pearl-fused-adam \
        --record docs/results/ablation-record
"""
import argparse
import os
import pathlib
import shlex
import sys
import time
from typing import Sequence

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.analysis.records import (is_recorded,
                                         record_embedding_metrics,
                                         recorded_embedding_metrics,
                                         write_record)
from tcl_garage.experiment.config import (ConfigError, load_config,
                                          parse_overrides)
from tcl_garage.experiment.rundir import default_run_dir, status
from tcl_garage.experiment.sweep import Arm, sweep

#: Every arm, by name.
ARMS = {
    arm.name: arm
    for arm in (
        Arm('pearl', 'pearl'),
        Arm('tcl-pearl', 'tcl-pearl'),
        Arm('tcl-other-tasks', 'tcl-pearl',
            ('--set', 'tcl_negatives=other-tasks')),
        Arm('tcl-task-positive', 'tcl-pearl',
            ('--set', 'tcl_positive=task', '--set',
             'tcl_negatives=other-tasks')),
        Arm('tcl-window-64', 'tcl-pearl', ('--set', 'window_size=64',
                                           '--set', 'windows_per_task=1')),
        Arm('mql', 'mql'),
        Arm('td3-context', 'mql', ('--set', 'mql.adapt=false')),
        Arm('tcl-mql', 'tcl-mql'),
        Arm('tcl-pearl-bf16', 'tcl-pearl', ('--set', 'precision=bf16')),
        Arm('tcl-pearl-fused-adam', 'tcl-pearl', ('--set', 'adam=fused')),
    )
}
#: The arms run unless --arms says otherwise.
DEFAULT_ARMS = ('pearl', 'tcl-pearl', 'tcl-other-tasks', 'tcl-task-positive')
#: Test tasks and rollouts per task of each seed's embedding metrics.
EMBEDDING_TASKS, EMBEDDING_ROLLOUTS = 8, 50


def check_study_settings(env: str, arms: Sequence[Arm], profile: str,
                         settings: Sequence[str]) -> None:
    """Refuse, before any run starts, a study-wide ``--set`` that is not a
    valid setting of every arm, or that names a key an arm sets itself.

    Args:
        env (str): The benchmark.
        arms (Sequence[Arm]): The study's arms.
        profile (str): The profile.
        settings (Sequence[str]): The ``key=value`` strings.

    Raises:
        ConfigError: On an unknown key, a bad value or a clash with an arm.

    """
    for arm in arms:
        own = arm.launcher_args[1::2]
        clash = ({pair.partition('=')[0] for pair in settings} &
                 {pair.partition('=')[0] for pair in own})
        if clash:
            raise ConfigError(
                f'--set {sorted(clash)[0]}: arm {arm.name} sets it itself '
                f'({" ".join(own)}); drop it or leave that arm out')
        # No key is in both, so one parse merges them (blocks included).
        load_config(env, arm.algo, profile,
                    parse_overrides(list(settings) + list(own)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--env', default='cheetah-dir',
                        help='benchmark, e.g. cheetah-dir or ml1/reach-v3')
    parser.add_argument('--seeds', type=int, default=10)
    parser.add_argument('--arms', nargs='+', default=list(DEFAULT_ARMS),
                        choices=list(ARMS))
    parser.add_argument('--profile', default='cpu-hour')
    parser.add_argument('--set', action='append', default=[],
                        metavar='KEY=VALUE',
                        help='a setting of every arm\'s runs (repeatable)')
    parser.add_argument('--parallel', type=int, default=2,
                        help='runs at a time, one core each (default 2)')
    parser.add_argument('--out', default='ablation')
    parser.add_argument('--analyse-only', action='store_true',
                        help='skip training: tabulate the finished runs')
    parser.add_argument('--embeddings', action='store_true',
                        help='also the cluster metrics of every seed')
    parser.add_argument('--record', default=None,
                        help='folder of the study\'s record (commit it): '
                        'finished runs are recorded there, recorded runs '
                        'are not run again, and the report reads the '
                        'record, so a study may run in parts on machines '
                        'that keep nothing')
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    runs_dir = out / 'runs'
    record = pathlib.Path(args.record) if args.record else None
    arms = [ARMS[name] for name in args.arms]
    seeds = range(args.seeds)
    try:
        check_study_settings(args.env, arms, args.profile, args.set)
    except (ConfigError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        raise SystemExit(2) from None

    def run_dir(arm: Arm, seed: int) -> pathlib.Path:
        return default_run_dir(args.env, arm.name, seed, runs_dir)

    def record_dir(arm: Arm, seed: int) -> pathlib.Path:
        return default_run_dir(args.env, arm.name, seed, record)

    def seed_cluster_metrics(arm: Arm, seed: int):
        """One seed's embedding cluster metrics: from the record where it
        holds them, else measured on the finished run (and recorded); None
        for a seed with neither."""
        from tcl_garage.analysis.embeddings import analyse_embeddings
        kept = (recorded_embedding_metrics(record_dir(arm, seed))
                if record else None)
        if kept is None and status(run_dir(arm, seed)) == 'done':
            kept = analyse_embeddings(
                str(run_dir(arm, seed)),
                str(out / args.env / 'embeddings' / arm.name / f'seed{seed}'),
                EMBEDDING_TASKS, EMBEDDING_ROLLOUTS)
            if record:
                record_embedding_metrics(record_dir(arm, seed), kept)
        return kept

    def cluster_metrics(arm: Arm) -> list:
        """Each seed's embedding cluster metrics that can be had."""
        metrics = [seed_cluster_metrics(arm, seed) for seed in seeds]
        return [kept for kept in metrics if kept is not None]

    def record_as_it_finishes(directory: pathlib.Path) -> None:
        """Record a run the moment it finishes (with --embeddings, its
        cluster metrics too), so that a study cut short (a session's end)
        keeps it; a problem is said here and again, as the one-line error,
        when the study records what it finished."""
        arm, seed = run_of[pathlib.Path(directory)]
        try:
            write_record(directory, record_dir(arm, seed))
            if args.embeddings:
                seed_cluster_metrics(arm, seed)
        except ValueError as error:
            print(f'not recorded: {error}', file=sys.stderr, flush=True)

    run_of = {run_dir(arm, seed): (arm, seed) for arm in arms
              for seed in seeds}
    recorded = {(args.env, arm.name, seed) for arm in arms for seed in seeds
                if record and is_recorded(record_dir(arm, seed))}
    start = time.time()
    if not args.analyse_only:
        failed = sweep([args.env], arms, seeds, str(runs_dir),
                       ['--quiet', '--profile', args.profile] +
                       [word for pair in args.set for word in ('--set', pair)],
                       parallel=args.parallel, skip=recorded,
                       on_finished=record_as_it_finishes if record else None)
        if failed:
            raise SystemExit('error: some runs failed: ' + ', '.join(failed))
    finished = {arm.name: [run_dir(arm, seed) for seed in seeds
                           if status(run_dir(arm, seed)) == 'done']
                for arm in arms}
    reported = finished
    try:
        if record:
            for arm in arms:
                for seed in seeds:
                    if (not is_recorded(record_dir(arm, seed)) and
                            status(run_dir(arm, seed)) == 'done'):
                        write_record(run_dir(arm, seed),
                                     record_dir(arm, seed))
            reported = {arm.name: [record_dir(arm, seed) for seed in seeds
                                   if is_recorded(record_dir(arm, seed))]
                        for arm in arms}
        clusters = None
        if args.embeddings:
            clusters = {arm.name: cluster_metrics(arm) for arm in arms}
        from tcl_garage.analysis.ablation import write_ablation_report
        command = ('python experiments/ablation.py ' +
                   shlex.join(sys.argv[1:]))
        report = write_ablation_report(reported, out / args.env, command,
                                       train_seconds=time.time() - start,
                                       cluster_metrics=clusters)
    except ValueError as error:  # a record of another run, mixed settings,
        print(f'error: {error}', file=sys.stderr)  # a non-PEARL embedding
        raise SystemExit(2) from None
    print(report)


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
