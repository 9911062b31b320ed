#!/usr/bin/env python3
"""Seconds per gradient step: stock garage PEARL vs TCL-PEARL, one process.

Builds, at the paper's sizes, (a) garage's own ``garage.torch.algos.PEARL``,
(b) our ``TCLPEARL`` and (c) our ``TCLPEARL`` with contrastive scale 0 (its
PEARL path), fills every task's buffers with the same synthetic 200-step
episodes, and times ``_optimize_policy`` (one gradient step of every network)
round-robin after ``--warmup`` untimed steps of each: one step of each
variant in turn, ``--steps`` times, so drifts in machine speed hit all three
alike. Prints the median seconds per step and the ratios. ``--device cuda``
runs all of them on the GPU (each step timed to its end on the device);
``--compile`` adds (d) our ``TCLPEARL`` with ``compile_step=True`` (CUDA
graphs on a GPU) and prints compiled / eager (its first steps compile:
give enough ``--warmup``).

Environment physics is not involved: a gradient step only sees the
observation and action sizes (Meta-World: 39 and 4; HalfCheetah: 20 and 6).

    python benchmarks/step_time.py --preset metaworld
    python benchmarks/step_time.py --preset cheetah-vel --steps 40
    python benchmarks/step_time.py --device cuda --compile --warmup 10
"""
import argparse
import statistics
import time

import akro
import numpy as np
import torch

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from garage import EnvSpec, Environment, EnvStep, StepType
from garage.experiment.deterministic import set_seed
from garage.torch.algos import PEARL as GaragePEARL

from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import benchmark_facts
from tcl_garage.experiment import load_config
from tcl_garage.experiment.algorithms import network_sizes

#: Each preset: the benchmark whose paper sizes it uses (configs/, TCL-PEARL's
#: networks for all three variants) and its observation and action sizes.
PRESETS = {'metaworld': ('ml1/push-v3', 39, 4),
           'cheetah-vel': ('cheetah-vel', 20, 6)}
EPISODE_LENGTH = 200
#: Targets: TCL's cost over our PEARL path, and our speed-up over garage's
#: PEARL (same mathematics, fp32).
TCL_COST_TARGET = 1.05
SPEEDUP_TARGET = 1.3


class SpecOnlyEnv(Environment):
    """An environment with only spaces: enough to build PEARL's networks."""

    def __init__(self, obs_dim=39, act_dim=4):
        self._obs = akro.Box(-np.inf, np.inf, (obs_dim, ), np.float32)
        self._act = akro.Box(-1., 1., (act_dim, ), np.float32)
        self._spec = EnvSpec(self._obs, self._act, EPISODE_LENGTH)

    @property
    def action_space(self):
        return self._act

    @property
    def observation_space(self):
        return self._obs

    @property
    def spec(self):
        return self._spec

    @property
    def render_modes(self):
        return []

    def reset(self):
        return np.zeros(self._obs.shape, np.float32), {}

    def step(self, action):
        return EnvStep(self._spec, action, 0.0,
                       np.zeros(self._obs.shape, np.float32), {},
                       StepType.MID)

    def render(self, mode):
        return None

    def visualize(self):
        pass

    def close(self):
        pass


class SpecOnlyUpdate:
    """Stands in for a task's EnvUpdate."""

    def __init__(self, obs_dim, act_dim):
        self._dims = (obs_dim, act_dim)

    def __call__(self, old_env=None):
        return SpecOnlyEnv(*self._dims)


class OneTaskSampler:
    """Stands in for the test task sampler (never sampled here)."""
    n_tasks = 1


def preset_sizes(name):
    """A preset's sizes, from its benchmark's config.

    Args:
        name (str): A key of :data:`PRESETS`.

    Returns:
        dict: Sizes for :func:`build`.

    """
    benchmark, obs_dim, act_dim = PRESETS[name]
    config = load_config(benchmark, algo='tcl-pearl')
    return dict(obs_dim=obs_dim, act_dim=act_dim,
                meta_batch_size=config['meta_batch_size'],
                batch_size=config['batch_size'],
                context=config['embedding_batch_size'],
                window_size=config['window_size'],
                num_train_tasks=benchmark_facts(benchmark)[0],
                **network_sizes(config))


def build(kind, preset, device='cpu'):
    """Build one of the variants with its buffers filled."""
    set_seed(0)
    p = dict(preset)
    obs_dim, act_dim = p.pop('obs_dim'), p.pop('act_dim')
    context, window = p.pop('context'), p.pop('window_size')
    n_tasks = p.pop('num_train_tasks')
    envs = [SpecOnlyUpdate(obs_dim, act_dim)] * n_tasks
    if kind == 'stock':
        algo_class = GaragePEARL
        p.update(embedding_batch_size=context,
                 embedding_mini_batch_size=context)
    else:
        algo_class = 'tcl-pearl'
        p.update(window_size=window,
                 windows_per_task=max(1, round(context / window)),
                 contrastive_loss_scale=0.0 if kind == 'tcl0' else 1.0,
                 compile_step=kind == 'compiled')
    algo, _ = build_pearl(algo_class, envs, OneTaskSampler(),
                          num_test_tasks=1, device=device, **p)
    rng = np.random.default_rng(0)
    for task in range(n_tasks):
        for _ in range(8):
            path = {
                'observations': rng.normal(size=(EPISODE_LENGTH, obs_dim)),
                'actions': rng.uniform(-1, 1, (EPISODE_LENGTH, act_dim)),
                'rewards': rng.normal(size=(EPISODE_LENGTH, 1)),
                'next_observations': rng.normal(size=(EPISODE_LENGTH,
                                                      obs_dim)),
                'dones': np.zeros((EPISODE_LENGTH, 1), bool),
            }
            algo._replay_buffers[task].add_path(path)
            algo._context_replay_buffers[task].add_path(path)
    return algo


def verdict(met):
    """'met' or 'NOT met'."""
    return 'met' if met else 'NOT met'


def time_step(algo, meta_batch_size, num_tasks, device):
    """Seconds of one gradient step on a random meta-batch, to its end on
    the device."""
    indices = np.random.choice(num_tasks, meta_batch_size)
    start = time.perf_counter()
    algo._optimize_policy(indices)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', choices=sorted(PRESETS),
                        default='metaworld')
    parser.add_argument('--steps', type=int, default=20,
                        help='timed steps of each variant')
    parser.add_argument('--device', default='cpu',
                        help='cpu, cuda or cuda:<index>')
    parser.add_argument('--compile', action='store_true',
                        help='also time the compiled TCLPEARL step')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps of each variant first')
    args = parser.parse_args()
    preset = preset_sizes(args.preset)
    kinds = {'stock': 'stock garage PEARL',
             'tcl': 'TCLPEARL',
             'tcl0': 'TCLPEARL, contrastive scale 0'}
    if args.compile:
        kinds['compiled'] = 'TCLPEARL, compiled'
    algos = {kind: build(kind, preset, args.device) for kind in kinds}
    times = {kind: [] for kind in kinds}
    np.random.seed(0)
    args_of_step = (preset['meta_batch_size'], preset['num_train_tasks'],
                    args.device)
    for algo in algos.values():
        for _ in range(args.warmup):
            time_step(algo, *args_of_step)
    for _ in range(args.steps):  # round-robin, one step of each in turn
        for kind, algo in algos.items():
            times[kind].append(time_step(algo, *args_of_step))
    median = {kind: statistics.median(t) for kind, t in times.items()}
    where = (torch.cuda.get_device_name(args.device)
             if args.device.startswith('cuda') else
             f'CPU, {torch.get_num_threads()} threads')
    print(f'preset {args.preset}: torch {torch.__version__}, {where}, '
          f'median of {args.steps} steps each')
    for kind, label in kinds.items():
        print(f'  {label:32s} {median[kind]:.4f} s/step')
    tcl_cost = median['tcl'] / median['tcl0']
    speedup = median['stock'] / median['tcl']
    print(f'  TCLPEARL / TCLPEARL scale 0      {tcl_cost:.3f}  (target '
          f'<= {TCL_COST_TARGET}: {verdict(tcl_cost <= TCL_COST_TARGET)})')
    print(f'  stock PEARL / TCLPEARL           {speedup:.3f}  (target '
          f'>= {SPEEDUP_TARGET}: {verdict(speedup >= SPEEDUP_TARGET)})')
    if args.compile:
        print(f'  TCLPEARL compiled / eager        '
              f'{median["compiled"] / median["tcl"]:.3f}  (eager / compiled: '
              f'{median["tcl"] / median["compiled"]:.2f}x)')


if __name__ == '__main__':
    main()
