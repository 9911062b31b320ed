#!/usr/bin/env python3
"""Environment steps per second of PEARL's sampling path against raw stepping.

Times, in one process, (a) PEARL's sampling path on one task: garage's
``LocalSampler`` with our ``PEARLWorker`` and a TCL-PEARL policy at the
paper's sizes (policy inference on every step, the garage adapter and the
task reward included), and (b) the raw gymnasium environment of the same
task stepped with the actions (a) took, so that both simulate the same kind
of motion (Meta-World's step costs more when the gripper touches things);
the two alternate, so that machine noise hits both alike. Prints steps per second and the ratio of seconds per step (target:
at most 1.5). With ``--ray`` it then measures garage's ``RaySampler`` with 1
and with 2 worker processes and prints the scaling.

    python benchmarks/sampling.py --env cheetah-vel
    python benchmarks/sampling.py --env ml1/push-v3 --ray
"""
import argparse
import statistics
import time

import numpy as np

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from garage.experiment.deterministic import set_seed
from garage.sampler import RaySampler

from tcl_garage.algos import PEARLWorker
from tcl_garage.build import build_pearl
from tcl_garage.envs import make_benchmark, MUJOCO_FAMILIES
from tcl_garage.experiment import load_config
from tcl_garage.experiment.algorithms import network_sizes
from tcl_garage.garage_compat import ray_init

#: Target: PEARL's sampling path / raw stepping, seconds per step.
RATIO_TARGET = 1.5
def raw_seconds(gym_env, actions, length):
    """Seconds for the raw gymnasium env to take ``actions``."""
    start = time.perf_counter()
    for i, action in enumerate(actions):
        if i % length == 0:
            gym_env.reset()
        gym_env.step(action)
    return time.perf_counter() - start


def sampler_seconds(sampler, policy, update, steps):
    """Seconds for the sampler to collect ``steps`` steps of the task.

    Returns:
        tuple[float, np.ndarray]: Seconds (scaled to exactly ``steps``
            steps) and the actions taken.

    """
    policy.reset_belief()
    start = time.perf_counter()
    batch = sampler.obtain_samples(0, steps, agent_update=policy,
                                   env_update=update)
    elapsed = time.perf_counter() - start
    return elapsed / len(batch.actions) * steps, batch.actions[:steps]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--env', default='cheetah-vel',
                        help='a benchmark name, e.g. cheetah-vel or '
                        'ml1/push-v3')
    parser.add_argument('--steps', type=int, default=2000,
                        help='steps per block (whole episodes of 200)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--ray', action='store_true',
                        help='also measure RaySampler with 1 and 2 workers')
    args = parser.parse_args()
    set_seed(0)
    if not args.env.startswith('ml1/') and args.env not in MUJOCO_FAMILIES:
        parser.error(f'--env {args.env}: give a MuJoCo family ('
                     f'{", ".join(MUJOCO_FAMILIES)}) or ml1/<env>, whose '
                     'raw gymnasium env can be stepped alone')
    benchmark = make_benchmark(args.env, seed=0)
    update = benchmark.train_envs()[0]
    # The paper's networks for this benchmark (configs/).
    sizes = network_sizes(load_config(args.env, algo='tcl-pearl'))
    algo, env = build_pearl('tcl-pearl', [update], benchmark.test_sampler,
                            num_test_tasks=1, **sizes)
    length = env.spec.max_episode_length
    gym_env = update(env)._env  # the raw gymnasium env of the same task
    policy = algo._policy  # pylint: disable=protected-access
    sampler = algo._sampler  # pylint: disable=protected-access
    raw, path = [], []
    sampler_seconds(sampler, policy, update, length)  # warm-up
    for _ in range(args.rounds):
        seconds, actions = sampler_seconds(sampler, policy, update,
                                           args.steps)
        path.append(seconds)
        raw.append(raw_seconds(gym_env, actions, length))
    raw_s, path_s = statistics.median(raw), statistics.median(path)
    ratio = path_s / raw_s
    print(f'{args.env}: {args.rounds} rounds x {args.steps} steps, '
          f'networks {sizes["net_sizes"]}')
    print(f'  raw gymnasium, same actions {args.steps / raw_s:9.0f} steps/s')
    print(f'  PEARL sampling path         {args.steps / path_s:9.0f} steps/s')
    print(f'  PEARL path / raw            {ratio:.2f}  (target <= '
          f'{RATIO_TARGET}: {"met" if ratio <= RATIO_TARGET else "NOT met"})')
    if args.ray:
        import ray  # pylint: disable=import-outside-toplevel
        rates = {}
        for workers in (1, 2):
            ray_init(num_cpus=2)  # a fresh Ray session per sampler
            ray_sampler = RaySampler(agents=policy,
                                     envs=env,
                                     max_episode_length=length,
                                     n_workers=workers,
                                     worker_class=PEARLWorker)
            # The first call starts the workers; time the next ones.
            sampler_seconds(ray_sampler, policy, update, workers * length)
            seconds = statistics.median(
                sampler_seconds(ray_sampler, policy, update, args.steps)[0]
                for _ in range(args.rounds))
            rates[workers] = args.steps / seconds
            ray_sampler.shutdown_worker()
            ray.shutdown()
            print(f'  RaySampler, {workers} worker(s)      '
                  f'{rates[workers]:9.0f} steps/s')
        print(f'  2 workers / 1 worker        {rates[2] / rates[1]:.2f}  '
              '(2 cores)')


if __name__ == '__main__':
    main()
