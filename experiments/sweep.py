#!/usr/bin/env python3
"""Run an (environment x algorithm x seed) grid, skipping finished runs.

Each run goes to runs/<benchmark>/<algo>/seed<seed> (or under --runs-dir). A
run whose progress.csv already has all its epochs is skipped; one that
stopped part-way is resumed from its last snapshot; others start fresh.
Runs go one after another here, or as Ray tasks on a cluster (--ray, with
--ray-address to join one), each in its own process.

    python experiments/sweep.py --envs cheetah-vel ml1/push-v3 \
        --algos tcl-pearl pearl --seeds 0 1 2 --smoke
"""
import argparse
import csv
import json
import os
import pathlib
import subprocess
import sys
from typing import List

EXPERIMENTS = pathlib.Path(__file__).resolve().parent
LAUNCHERS = {
    'cheetah-vel': 'cheetah_vel.py',
    'cheetah-dir': 'cheetah_dir.py',
    'ant-dir': 'ant_dir.py',
    'ant-goal': 'ant_goal.py',
    'humanoid-dir': 'humanoid_dir.py',
    'walker-rand-params': 'walker_rand_params.py',
}


def run_dir(runs_dir: str, env: str, algo: str, seed: int) -> pathlib.Path:
    return pathlib.Path(runs_dir) / env / algo / f'seed{seed}'


def status(directory: pathlib.Path) -> str:
    """'new', 'partial' (resumable) or 'done'."""
    variant = directory / 'variant.json'
    snapshot = directory / 'params.pkl'
    if not variant.is_file() or not snapshot.is_file():
        return 'new'
    epochs = json.loads(variant.read_text())['config']['epochs']
    with open(directory / 'progress.csv', newline='') as f:
        rows = sum(1 for _ in csv.DictReader(f))
    return 'done' if rows >= epochs else 'partial'


def command(env: str, algo: str, seed: int, directory: pathlib.Path,
            extra: List[str]) -> List[str]:
    """The launcher command line of one run."""
    state = status(directory)
    if env.startswith('ml1/'):
        launcher = [str(EXPERIMENTS / 'metaworld_ml1.py'), '--env', env[4:]]
    elif env in LAUNCHERS:
        launcher = [str(EXPERIMENTS / LAUNCHERS[env])]
    else:
        raise SystemExit(f'error: unknown environment {env!r}: use one of '
                         f'{", ".join(LAUNCHERS)} or ml1/<env>')
    if state == 'partial':
        return [sys.executable, launcher[0], *launcher[1:], '--resume',
                str(directory)]
    if directory.exists() and any(directory.iterdir()):
        raise SystemExit(f'error: {directory} exists but is not a resumable '
                         'run: move it away first')
    return [sys.executable, *launcher, '--algo', algo, '--seed', str(seed),
            '--log-dir', str(directory), *extra]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--envs', nargs='+', required=True)
    parser.add_argument('--algos', nargs='+', default=['tcl-pearl', 'pearl'],
                        choices=['tcl-pearl', 'pearl'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0])
    parser.add_argument('--runs-dir', default='runs')
    parser.add_argument('--ray', action='store_true',
                        help='run the grid as Ray tasks')
    parser.add_argument('--ray-address', help='join this Ray cluster')
    parser.add_argument('--cpus-per-run', type=float, default=1.0)
    args, extra = parser.parse_known_args()
    grid = [(env, algo, seed) for env in args.envs for algo in args.algos
            for seed in args.seeds]
    jobs = []
    for env, algo, seed in grid:
        directory = run_dir(args.runs_dir, env, algo, seed)
        if status(directory) == 'done':
            print(f'skip (done): {directory}')
            continue
        jobs.append((directory, command(env, algo, seed, directory, extra)))
    if not jobs:
        print('nothing to run')
        return
    if args.ray or args.ray_address:
        import ray

        import tcl_garage.garage_compat as compat
        compat.ray_init(address=args.ray_address)

        @ray.remote(num_cpus=args.cpus_per_run)
        def launch(cmd):
            return subprocess.run(cmd, check=False).returncode

        codes = ray.get([launch.remote(cmd) for _, cmd in jobs])
    else:
        codes = []
        for directory, cmd in jobs:
            print(f'run: {directory}', flush=True)
            codes.append(subprocess.run(cmd, check=False).returncode)
    failed = [str(d) for (d, _), code in zip(jobs, codes) if code != 0]
    print(f'{len(jobs) - len(failed)} of {len(jobs)} runs finished')
    if failed:
        raise SystemExit('failed: ' + ', '.join(failed))


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
