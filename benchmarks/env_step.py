#!/usr/bin/env python3
"""Cost of the gymnasium -> garage adapter, as a ratio to raw stepping.

Steps the same gymnasium MuJoCo environment (HalfCheetah-v5, built from its
class, as the benchmarks do) with the same actions, raw and through
``tcl_garage.envs.GymnasiumEnv``, alternating blocks so machine noise hits
both alike; prints steps per second and the ratio of seconds per step
(target: at most 1.10). ``--env ml1/push-v3`` measures a Meta-World env.

    python benchmarks/env_step.py --steps 20000
"""
import argparse
import statistics
import time

import numpy as np

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.envs import GymnasiumEnv


def make_raw(name):
    if name.startswith('ml1/'):
        import metaworld
        ml1 = metaworld.ML1(name[4:], seed=0)
        env = metaworld.ALL_V3_ENVIRONMENTS[name[4:]]()
        env.set_task(ml1.train_tasks[0])
        return env
    from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
    return HalfCheetahEnv()


def run(env, actions, length):
    """Seconds to take the actions, resetting every ``length`` steps."""
    start = time.perf_counter()
    for i, action in enumerate(actions):
        if i % length == 0:
            env.reset()
        env.step(action)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--env', default='HalfCheetah-v5',
                        help='HalfCheetah-v5 or ml1/<env>')
    parser.add_argument('--steps', type=int, default=20000)
    parser.add_argument('--blocks', type=int, default=5)
    args = parser.parse_args()
    length = 200
    raw = make_raw(args.env)
    adapted = GymnasiumEnv(make_raw(args.env), max_episode_length=length)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (args.steps, ) + raw.action_space.shape)
    actions = actions.astype(raw.action_space.dtype)
    raw_times, adapted_times = [], []
    raw.reset(seed=0)
    adapted.seed(0)
    run(raw, actions[:1000], length)  # warm-up
    run(adapted, actions[:1000], length)
    for _ in range(args.blocks):
        raw_times.append(run(raw, actions, length))
        adapted_times.append(run(adapted, actions, length))
    raw_s = statistics.median(raw_times) / args.steps
    adapted_s = statistics.median(adapted_times) / args.steps
    print(f'{args.env}: {args.blocks} blocks x {args.steps} steps, '
          f'episodes of {length}')
    print(f'  raw gymnasium     {1 / raw_s:10.0f} steps/s')
    print(f'  garage adapter    {1 / adapted_s:10.0f} steps/s')
    print(f'  adapter / raw     {adapted_s / raw_s:10.3f}  (target <= 1.10)')


if __name__ == '__main__':
    main()
