#!/usr/bin/env python3
"""Peak memory of a Meta-World TCL-PEARL run at its config's sizes.

Builds the ``ml1/<env>`` run of ``configs/ml1.yaml`` (50 training tasks,
replay buffers of 1e6 transitions per task, 3 x 400 networks), or with
``--benchmark ml10`` / ``ml45`` that of ``configs/ml10.yaml`` /
``ml45.yaml`` (500 / 2,250 training tasks), fills every task's RL and
encoder buffers with as many transitions as a run of ``--env-steps``
environment steps leaves there (PEARL's schedule: the initial steps of
every task, then ``num_tasks_sample`` tasks per epoch, prior steps into both
buffers, extra RL steps into the RL buffer only; a task's encoder buffer is
emptied at each visit, so it holds at most the larger of the initial and
the prior steps), takes a few gradient steps, and prints the process's
resident memory at each stage and its peak. With ``--fill-tasks N`` only
the first N tasks' buffers are filled and the filled memory is also
projected to every task (for a machine smaller than the run). With
``--snapshot-dir`` it then writes the run's snapshot as the launchers do
every epoch (atomically: ``params.pkl`` holds the networks, optimizers and
the filled part of every buffer) and loads it back, and prints its size and
the seconds of each.

garage allocates each buffer's arrays for its full capacity with
``np.zeros``, which the operating system commits page by page as they are
written: what a run uses is what it has written, which the report shows
beside the capacity reserved.

    python benchmarks/memory.py --env push-v3 --env-steps 1000000
    python benchmarks/memory.py --env push-v3 --snapshot-dir /tmp/snapshot
    python benchmarks/memory.py --benchmark ml45 --env-steps 31500000 \
        --fill-tasks 225
"""
import argparse
import os
import resource
import time

import cloudpickle
import numpy as np

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from garage.experiment.deterministic import set_seed

from tcl_garage.experiment import build_run, load_config
from tcl_garage.experiment.snapshots import atomic_pickle


def resident_gib():
    """Current resident set size of this process, GiB."""
    with open('/proc/self/statm', encoding='ascii') as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**30


def peak_gib():
    """Peak resident set size of this process so far, GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def transitions_per_task(config, env_steps):
    """Transitions each task's RL and encoder buffer hold after a run.

    Args:
        config (dict): Resolved config.
        env_steps (int): Environment steps of the run.

    Returns:
        tuple[int, int]: RL buffer and encoder buffer transitions per task.

    """
    from tcl_garage.envs import benchmark_facts
    tasks = config['num_train_tasks'] or benchmark_facts(
        config['benchmark'])[0]
    initial = config['num_initial_steps']
    prior = config['num_steps_prior'] + config['num_steps_posterior']
    extra = config['num_extra_rl_steps_posterior']
    per_epoch = config['num_tasks_sample'] * (prior + extra)
    epochs = max(0, env_steps - tasks * initial) / per_epoch
    visits = epochs * config['num_tasks_sample'] / tasks
    rl = int(initial + visits * (prior + extra))
    # (emptied at every visit: its pages are those of its fullest fill)
    encoder = max(initial, prior) if visits > 0 else initial
    capacity = config['replay_buffer_size']
    return min(rl, capacity), min(encoder, capacity)


def fill(buffer, transitions, obs_dim, act_dim, length, rng):
    """Add ``transitions`` synthetic transitions, episode by episode."""
    for start in range(0, transitions, length):
        n = min(length, transitions - start)
        buffer.add_path({
            'observations': rng.normal(size=(n, obs_dim)),
            'actions': rng.uniform(-1, 1, (n, act_dim)),
            'rewards': rng.normal(size=(n, 1)),
            'next_observations': rng.normal(size=(n, obs_dim)),
            'dones': np.zeros((n, 1), bool),
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--env', default='push-v3')
    parser.add_argument('--benchmark', choices=['ml10', 'ml45'],
                        help='Meta-World ML10 or ML45 instead of ML1')
    parser.add_argument('--fill-tasks', type=int,
                        help='fill only the first N tasks and project the '
                        'filled memory to all of them')
    parser.add_argument('--env-steps', type=int, default=1_000_000,
                        help='environment steps of the run (paper: 1e6)')
    parser.add_argument('--steps', type=int, default=3,
                        help='gradient steps taken after filling')
    parser.add_argument('--snapshot-dir',
                        help='also write and load the snapshot here')
    args = parser.parse_args()
    name = args.benchmark or f'ml1/{args.env}'
    config = load_config(name, algo='tcl-pearl')
    set_seed(0)
    start = resident_gib()
    built, _ = build_run(config)
    algo, env = built.algo, built.env
    built = resident_gib()
    obs_dim = env.observation_space.flat_dim
    act_dim = env.action_space.flat_dim
    rl, encoder = transitions_per_task(config, args.env_steps)
    rng = np.random.default_rng(0)
    # pylint: disable=protected-access
    length = env.spec.max_episode_length
    filled_tasks = min(args.fill_tasks or algo._num_train_tasks,
                       algo._num_train_tasks)
    for task in range(filled_tasks):
        fill(algo._replay_buffers[task], rl, obs_dim, act_dim, length, rng)
        fill(algo._context_replay_buffers[task], encoder, obs_dim, act_dim,
             length, rng)
    filled = resident_gib()
    for _ in range(args.steps):
        algo._optimize_policy(
            np.random.choice(filled_tasks, algo._meta_batch_size))
    reserved = sum(
        array.nbytes for buffers in (algo._replay_buffers,
                                     algo._context_replay_buffers)
        for buffer in buffers.values()
        for array in buffer._buffer.values()) / 2**30
    print(f'{name}: {algo._num_train_tasks} tasks, replay capacity '
          f'{config["replay_buffer_size"]:.0e} per buffer, a run of '
          f'{args.env_steps:.0e} env steps')
    print(f'  transitions per task: RL buffer {rl}, encoder buffer '
          f'{encoder}')
    print(f'  resident at start             {start:6.2f} GiB')
    print(f'  resident after building       {built:6.2f} GiB')
    print(f'  resident after filling        {filled:6.2f} GiB')
    print(f'  resident after {args.steps} grad steps    '
          f'{resident_gib():6.2f} GiB')
    print(f'  peak resident                 {peak_gib():6.2f} GiB')
    if filled_tasks < algo._num_train_tasks:
        scale = algo._num_train_tasks / filled_tasks
        print(f'  ({filled_tasks} of {algo._num_train_tasks} tasks filled) '
              'projected resident when all are filled: '
              f'{built + (filled - built) * scale:6.2f} GiB')
    print(f'  buffer capacity reserved      {reserved:6.1f} GiB (virtual; '
          'committed as written)')
    if args.snapshot_dir:
        os.makedirs(args.snapshot_dir, exist_ok=True)
        path = os.path.join(args.snapshot_dir, 'params.pkl')
        start = time.perf_counter()
        atomic_pickle({'algo': algo, 'env': env}, path)
        written = time.perf_counter() - start
        start = time.perf_counter()
        with open(path, 'rb') as f:
            restored = cloudpickle.load(f)['algo']
        loaded = time.perf_counter() - start
        assert restored._replay_buffers[0].n_transitions_stored == rl
        print(f'  snapshot size on disk         '
              f'{os.path.getsize(path) / 2**30:6.2f} GiB')
        print(f'  snapshot write (atomic)       {written:6.1f} s')
        print(f'  snapshot load                 {loaded:6.1f} s')
        print(f'  peak resident with snapshot   {peak_gib():6.2f} GiB')


if __name__ == '__main__':
    main()
