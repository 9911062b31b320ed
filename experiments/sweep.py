#!/usr/bin/env python3
"""Run an (environment x algorithm x seed) grid, skipping finished runs.

--epochs, --smoke, --profile and --set shape every new run's config (a
run already started keeps its own), and other launcher options go to every
new run as they are (e.g. --device cuda); the config of each environment
and algorithm is checked before any run starts. See
tcl_garage.experiment.sweep.

    python experiments/sweep.py --envs cheetah-vel ml1/push-v3 \
        --algos tcl-pearl pearl oracle --seeds 0 1 2 --smoke --epochs 3
"""
import argparse
import os

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.cli import (add_config_options, check_command_line,
                                       config_options)
from tcl_garage.experiment.sweep import sweep


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--envs', nargs='+', required=True,
                        help='benchmarks, e.g. cheetah-vel ml1/push-v3')
    parser.add_argument('--algos', nargs='+', default=['tcl-pearl', 'pearl'],
                        choices=list(ALGORITHMS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--runs-dir', default='runs',
                        help='runs go to RUNS_DIR/<env>/<algo>/seed<seed>')
    parser.add_argument('--ray', action='store_true',
                        help='run the grid as Ray tasks')
    parser.add_argument('--ray-address', help='join this Ray cluster')
    parser.add_argument('--cpus-per-run', type=float, default=1.0)
    parser.add_argument('--parallel', type=int, default=1,
                        help='runs at once on this machine (each on its '
                        'share of the cores)')
    add_config_options(parser)
    args, launcher_args = parser.parse_known_args()
    launcher_args = config_options(args) + launcher_args
    try:
        for env in args.envs:  # bad input stops the sweep before any run
            for algo in args.algos:
                check_command_line([env, '--algo', algo, '--seed',
                                    str(args.seeds[0]), *launcher_args])
    except ValueError as error:  # ConfigError included
        parser.exit(2, f'error: {error}\n')
    try:
        failed = sweep(args.envs, args.algos, args.seeds, args.runs_dir,
                       launcher_args, args.ray, args.ray_address,
                       args.cpus_per_run, args.parallel)
    except ValueError as error:
        parser.exit(2, f'error: {error}\n')
    if failed:
        raise SystemExit('failed: ' + ', '.join(failed))


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
