#!/usr/bin/env python3
"""Seconds per gradient step: stock garage PEARL vs TCL-PEARL, one process.

Builds, at the paper's sizes, (a) garage's own ``garage.torch.algos.PEARL``,
(b) our ``TCLPEARL`` and (c) our ``TCLPEARL`` with contrastive scale 0 (its
PEARL path), fills every task's buffers with the same synthetic 200-step
episodes, and times ``_optimize_policy`` (one gradient step of every network)
round-robin after ``--warmup`` untimed steps of each: one step of each
variant in turn, ``--steps`` times, so drifts in machine speed hit all three
alike. Prints the median seconds per step and the ratios: each the median
over rounds of one round's ratio, with its 95 % bootstrap interval over
rounds (:func:`~tcl_garage.analysis.statistics.paired_ratio`); a target
is ``met`` when the whole interval clears it, ``NOT met`` when none of it
does, and otherwise says which side the median is on. ``--device cuda``
runs all of them on the GPU (each step timed to its end on the device);
``--compile`` adds (d) our ``TCLPEARL`` with ``compile_step=True`` (CUDA
graphs on a GPU) and prints compiled / eager (its first steps compile:
give enough ``--warmup``); ``--compile-backward`` compiles its backward
passes too (dynamo's compiled autograd: the step as a few graphs instead
of one between each backward pass and optimizer call), a bound on what
fusing operators can give.

``--precision bf16`` times instead, at every preset of ``--presets``
(default both), our ``TCLPEARL`` and its PEARL path (contrastive scale 0)
in fp32 and in ``precision='bf16'``, round-robin, and ends with one line a
preset: ``fp32 / bf16: X.XXx [low, high] (target >= 2.0: ...)``
(TCLPEARL). It also times the sampling policy's forward pass on a
collection batch (one row per task of a round) in both precisions, which
decides whether the workers' policy copies should use bfloat16.

Beside each median it prints the step's operator calls (the events
``torch.profiler`` records in one step: operators, autograd nodes and
optimizer steps) and the share of its operator time spent in the matrix
products (``aten::mm``, ``aten::addmm``, ``aten::bmm``), from
``--op-steps`` untimed, profiled steps of each variant after the timing:
the gap between a step and its arithmetic.

``--against PATH`` times instead this checkout's code beside another
checkout's (PATH, e.g. a ``git worktree`` of an earlier commit): our
``TCLPEARL``, its scale-0 path and our ``PEARL``, each checkout's code in
its own process (this script with PATH's ``tcl_garage`` on its path),
round-robin: one step of every variant in this process, then in the
other, ``--steps`` times. It prints PATH / this per variant with its
interval (target >= 1.5: the ``cpu-hour`` speed-up), both checkouts'
TCL / scale-0 ratios, operator calls and matrix-product shares.
``--clock cpu`` reads each step's seconds from the process's CPU time
instead of the wall clock: on a machine shared with other work, what the
step cost rather than how long it waited (with one thread,
``OMP_NUM_THREADS=1``).

``--adam-loop`` adds our ``TCLPEARL`` stepping Adam with its per-tensor
loop (torch's CPU default, garage's) and prints loop / foreach (ours:
the multi-tensor step, bitwise the same results). ``--adam fused`` gives
this checkout's variants the opt-in fused Adam (the ``adam`` setting;
with ``--against``, PATH keeps its default): ``--against PATH --adam
fused`` is that setting's speed-up over PATH's default step.
``--profile cpu-hour`` takes the sizes from that profile (the networks
of the cpu-hour studies) instead of the paper's.

``--rows-scaling`` times instead our ``TCLPEARL``, its scale-0 path and
our ``PEARL`` at the preset's rows per task (its batch, context and TCL
window) and at 1/2, 1/4 and 1/8 of them, round-robin, and prints each
median with a straight line through them: seconds = fixed + per row x
rows. The fixed part (the line at no rows) is what a step costs whatever
its arithmetic: Python, operator dispatch, the autograd engine's nodes,
the optimizers' bookkeeping and the host's sampling; a smaller step of
the same networks only removes the per-row part. It ends with the step at
1/8 of the rows over the full step for each variant, and TCL / scale 0 at
each size.

Environment physics is not involved: a gradient step only sees the
observation and action sizes (Meta-World: 39 and 4; HalfCheetah: 20 and 6).

    python benchmarks/step_time.py --preset metaworld
    python benchmarks/step_time.py --preset cheetah-vel --steps 40
    python benchmarks/step_time.py --device cuda --compile --warmup 10
    python benchmarks/step_time.py --precision bf16 --steps 20
    python benchmarks/step_time.py --preset cheetah-vel --profile cpu-hour \
        --adam-loop --steps 200
    python benchmarks/step_time.py --preset cheetah-vel --profile cpu-hour \
        --against ../tcl_garage-before --steps 300
    python benchmarks/step_time.py --preset cheetah-vel --profile cpu-hour \
        --against ../tcl_garage-before --adam fused --steps 300 --clock cpu
    python benchmarks/step_time.py --preset cheetah-vel --profile cpu-hour \
        --rows-scaling --steps 200 --clock cpu
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

import tcl_garage  # noqa: F401  (adapts garage and gym before they load)
import akro  # pylint: disable=wrong-import-order
from garage import EnvSpec, Environment, EnvStep, StepType
from garage.experiment.deterministic import set_seed
from garage.torch.algos import PEARL as GaragePEARL

from tcl_garage.analysis.statistics import Estimate, paired_ratio
from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import benchmark_facts
from tcl_garage.experiment import ConfigError, load_config
from tcl_garage.experiment.algorithms import network_sizes

#: Each preset: the benchmark whose paper sizes it uses (configs/, TCL-PEARL's
#: networks for all three variants) and its observation and action sizes.
PRESETS = {'metaworld': ('ml1/push-v3', 39, 4),
           'cheetah-vel': ('cheetah-vel', 20, 6)}
EPISODE_LENGTH = 200
#: Synthetic episodes in each task's buffers.
EPISODES_PER_TASK = 8
#: Targets: TCL's cost over our PEARL path, and our speed-up over garage's
#: PEARL (same mathematics, fp32).
TCL_COST_TARGET = 1.05
SPEEDUP_TARGET = 1.3
#: Target of fp32 / bf16 seconds per TCLPEARL step at the metaworld preset.
BF16_TARGET = 2.0
#: Target of another checkout's seconds per step over this one's
#: (``--against``: the ``cpu-hour`` speed-up).
AGAINST_TARGET = 1.5
#: The variants ``--against`` times in both checkouts, with their labels.
AGAINST_KINDS = {'tcl': 'TCLPEARL', 'tcl0': 'TCLPEARL, scale 0',
                 'pearl': 'PEARL'}
#: Fractions of a preset's rows per task that ``--rows-scaling`` times.
ROW_FRACTIONS = (1.0, 0.5, 0.25, 0.125)
#: The matrix products, for their share of a step.
MATMUL_OPS = ('aten::mm', 'aten::addmm', 'aten::bmm')


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


def preset_sizes(name, profile=None):
    """A preset's sizes, from its benchmark's config.

    Args:
        name (str): A key of :data:`PRESETS`.
        profile (str or None): A config profile (e.g. ``cpu-hour``); None:
            the paper's sizes.

    Returns:
        dict: Sizes for :func:`build`.

    """
    benchmark, obs_dim, act_dim = PRESETS[name]
    config = load_config(benchmark, algo='tcl-pearl', profile=profile)
    return dict(obs_dim=obs_dim, act_dim=act_dim,
                meta_batch_size=config['meta_batch_size'],
                batch_size=config['batch_size'],
                context=config['embedding_batch_size'],
                window_size=config['window_size'],
                num_train_tasks=benchmark_facts(benchmark)[0],
                **network_sizes(config))


def build(kind, preset, device='cpu', precision='fp32', adam='foreach'):
    """Build one of the variants with its buffers filled (our variants
    with the ``adam`` setting's kernel; the stock one with garage's)."""
    set_seed(0)
    p = dict(preset)
    obs_dim, act_dim = p.pop('obs_dim'), p.pop('act_dim')
    context, window = p.pop('context'), p.pop('window_size')
    n_tasks = p.pop('num_train_tasks')
    envs = [SpecOnlyUpdate(obs_dim, act_dim)] * n_tasks
    # Only where asked: a checkout without the adam setting takes no such key.
    if adam != 'foreach' and kind not in ('stock', 'adam-loop'):
        p['adam'] = adam
    if kind in ('stock', 'pearl'):
        algo_class = GaragePEARL if kind == 'stock' else 'pearl'
        p.update(embedding_batch_size=context,
                 embedding_mini_batch_size=context)
    else:
        algo_class = 'tcl-pearl'
        p.update(window_size=window,
                 windows_per_task=max(1, round(context / window)),
                 contrastive_loss_scale=0.0 if kind == 'tcl0' else 1.0,
                 compile_step=kind == 'compiled',
                 precision=precision)
        if kind == 'adam-loop':  # torch's per-tensor loop on the CPU
            p['optimizer_class'] = torch.optim.Adam
    algo, _ = build_pearl(algo_class, envs, OneTaskSampler(),
                          num_test_tasks=1, device=device, **p)
    rng = np.random.default_rng(0)
    for task in range(n_tasks):
        for _ in range(EPISODES_PER_TASK):
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


def check_profile(parser: argparse.ArgumentParser, preset: str,
                  profile) -> None:
    """Stop with the parser's one-line error (status 2) on a profile the
    preset's benchmark does not have.

    Args:
        parser (argparse.ArgumentParser): The script's parser.
        preset (str): A key of :data:`PRESETS`.
        profile (str or None): ``--profile``.

    """
    if profile is None:
        return
    try:
        load_config(PRESETS[preset][0], algo='tcl-pearl', profile=profile)
    except ConfigError as error:
        parser.error(f'--profile {profile}: {error}')


def verdict(ratio: Estimate, target: float, at_least: bool = True) -> str:
    """How a measured ratio stands against its target.

    Args:
        ratio (Estimate): The ratio and its 95 % interval.
        target (float): The target.
        at_least (bool): The target is ``ratio >= target`` (else ``<=``).

    Returns:
        str: ``met`` (the whole interval clears the target), ``NOT met``
            (none of it does), or, when the interval straddles the target,
            which side the median is on.

    """
    def clears(value):
        return value >= target if at_least else value <= target

    low, high = clears(ratio.low), clears(ratio.high)
    if low == high:
        return 'met' if low else 'NOT met'
    side = 'met' if clears(ratio.value) else 'NOT met'
    return f'{side} by the median; the interval straddles it'


#: What a step's seconds are read from: the wall clock, or this process's
#: CPU time (``--clock cpu``: on a machine shared with other work, the time
#: the step itself ran, not the time it waited for a core).
CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def time_step(algo, meta_batch_size, num_tasks, device, clock='wall'):
    """Seconds of one gradient step on a random meta-batch, to its end on
    the device, read from ``CLOCKS[clock]``."""
    indices = np.random.choice(num_tasks, meta_batch_size)
    seconds = CLOCKS[clock]
    start = seconds()
    algo._optimize_policy(indices)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return seconds() - start


def round_robin(algos, preset, steps, warmup, device, clock='wall'):
    """Seconds of each algorithm's steps, timed in turn.

    Args:
        algos (dict): ``name -> algorithm``.
        preset (dict): Its sizes (:func:`preset_sizes`).
        steps (int): Timed steps of each.
        warmup (int): Untimed steps of each first.
        device (str): Where they run.
        clock (str): A key of :data:`CLOCKS`.

    Returns:
        dict: ``name -> [seconds of round 0, round 1, ...]``; element i of
            every list comes from round i (one step of each in turn).

    """
    np.random.seed(0)
    args_of_step = (preset['meta_batch_size'], preset['num_train_tasks'],
                    device)
    for algo in algos.values():
        for _ in range(warmup):
            time_step(algo, *args_of_step)
    times = {name: [] for name in algos}
    for _ in range(steps):  # round-robin, one step of each in turn
        for name, algo in algos.items():
            times[name].append(time_step(algo, *args_of_step, clock))
    return times


def medians(times):
    """``name -> median seconds`` of :func:`round_robin`'s times."""
    return {name: statistics.median(t) for name, t in times.items()}


def operator_calls(algo, preset, steps, device):
    """Operator calls per step and the matrix products' share of their time.

    Args:
        algo: The algorithm (warmed up).
        preset (dict): Its sizes (:func:`preset_sizes`).
        steps (int): Profiled steps.
        device (str): Where it runs.

    Returns:
        tuple[float, float]: Events ``torch.profiler`` records per step
            (operators, autograd nodes, optimizer steps), and the share of
            their self time in :data:`MATMUL_OPS`.

    """
    args_of_step = (preset['meta_batch_size'], preset['num_train_tasks'],
                    device)
    activities = [torch.profiler.ProfilerActivity.CPU]
    with torch.profiler.profile(activities=activities) as profile:
        for _ in range(steps):
            time_step(algo, *args_of_step)
    events = profile.key_averages()
    total = sum(event.self_cpu_time_total for event in events)
    matmul = sum(event.self_cpu_time_total for event in events
                 if event.key in MATMUL_OPS)
    return (sum(event.count for event in events) / steps,
            matmul / total if total else 0.0)


def sampling_policy_times(algo, rows, repeats, device):
    """Median seconds of the sampling policy's forward pass on ``rows``
    observations (a collection step: one row per task of a round), in fp32
    and under bfloat16 autocast.

    Returns:
        dict: ``{'fp32': s, 'bf16': s}``.

    """
    # pylint: disable=protected-access
    module = algo._policy.networks[1]._module
    width = module._input_dim
    inputs = torch.randn(rows, width, device=device)
    times = {'fp32': [], 'bf16': []}
    with torch.no_grad():
        for _ in range(repeats):
            for name in times:
                with torch.autocast(torch.device(device).type,
                                    dtype=torch.bfloat16,
                                    enabled=name == 'bf16'):
                    start = time.perf_counter()
                    module(inputs)
                    if device.startswith('cuda'):
                        torch.cuda.synchronize()
                    times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def compare_precisions(args):
    """fp32 against bf16 at each preset (``--precision bf16``)."""
    for preset_name in args.presets:
        preset = preset_sizes(preset_name)
        labels = {('tcl', 'fp32'): 'TCLPEARL fp32',
                  ('tcl', 'bf16'): 'TCLPEARL bf16',
                  ('tcl0', 'fp32'): 'PEARL path fp32',
                  ('tcl0', 'bf16'): 'PEARL path bf16'}
        algos = {key: build(key[0], preset, args.device, precision=key[1])
                 for key in labels}
        times = round_robin(algos, preset, args.steps, args.warmup,
                            args.device)
        median = medians(times)
        print(f'preset {preset_name}: torch {torch.__version__}, '
              f'{where(args.device)}, median of {args.steps} steps each')
        for key, label in labels.items():
            print(f'  {label:32s} {median[key]:.4f} s/step')
        rows = load_config(PRESETS[preset_name][0],
                           algo='tcl-pearl')['num_tasks_sample']
        policy = sampling_policy_times(algos['tcl', 'fp32'], rows, 200,
                                       args.device)
        print(f'  sampling policy, {rows} rows: fp32 '
              f'{policy["fp32"] * 1e6:.0f} us, bf16 '
              f'{policy["bf16"] * 1e6:.0f} us (fp32 / bf16 '
              f'{policy["fp32"] / policy["bf16"]:.2f}x)')
        pearl_ratio = paired_ratio(times['tcl0', 'fp32'],
                                   times['tcl0', 'bf16'])
        print(f'  PEARL path fp32 / bf16: {pearl_ratio.text(unit="x")}')
        ratio = paired_ratio(times['tcl', 'fp32'], times['tcl', 'bf16'])
        target = (f'target >= {BF16_TARGET}: '
                  f'{verdict(ratio, BF16_TARGET)}'
                  if preset_name == 'metaworld' else 'target >= '
                  f'{BF16_TARGET} at metaworld')
        print(f'{preset_name}: fp32 / bf16: {ratio.text(unit="x")} '
              f'({target})')


def scaled_rows(preset: dict, fraction: float) -> dict:
    """The preset with ``fraction`` of its rows per task: the batch, the
    context and TCL's window (at least one each; the networks unchanged).

    Args:
        preset (dict): Sizes (:func:`preset_sizes`).
        fraction (float): In (0, 1].

    Returns:
        dict: The scaled sizes.

    """
    def rows(count):
        return max(1, round(count * fraction))

    return dict(preset, batch_size=rows(preset['batch_size']),
                context=rows(preset['context']),
                window_size=rows(preset['window_size']))


def fixed_and_per_row(rows: Sequence[float],
                      seconds: Sequence[float]) -> Tuple[float, float]:
    """The least-squares line ``seconds = fixed + per_row * rows``.

    Args:
        rows (Sequence[float]): Rows per task of each size, :math:`(S,)`.
        seconds (Sequence[float]): The step's seconds at each, :math:`(S,)`.

    Returns:
        tuple[float, float]: ``fixed`` (seconds at no rows) and
            ``per_row`` (seconds per row per task).

    """
    per_row, fixed = np.polyfit(np.asarray(rows, float),
                                np.asarray(seconds, float), 1)
    return float(fixed), float(per_row)


def rows_scaling(args: argparse.Namespace) -> None:
    """The step at fewer rows per task (``--rows-scaling``)."""
    preset = preset_sizes(args.preset, args.profile)
    sizes = {fraction: scaled_rows(preset, fraction)
             for fraction in ROW_FRACTIONS}
    algos = {(kind, fraction): build(kind, sizes[fraction], args.device,
                                     adam=args.adam)
             for kind in AGAINST_KINDS for fraction in ROW_FRACTIONS}
    # Every size has the preset's tasks and meta-batch: one round-robin.
    times = round_robin(algos, preset, args.steps, args.warmup, args.device,
                        args.clock)
    median = medians(times)
    rows = [sizes[fraction]['batch_size'] for fraction in ROW_FRACTIONS]
    print(f'preset {args.preset}'
          f'{f" ({args.profile} sizes)" if args.profile else ""}: torch '
          f'{torch.__version__}, {where(args.device)}, {args.clock} clock, '
          f'median of {args.steps} rounds, adam={args.adam}; seconds per '
          'step at rows per task (the batch; the context and TCL windows '
          'scaled alike):')
    header = ''.join(f'{count:>9d}' for count in rows)
    print(f'  {"":20s}{header}  {"fixed s":>8s} {"per row s":>10s}'
          f'  {"fixed share":>11s}')
    for kind, label in AGAINST_KINDS.items():
        seconds = [median[kind, fraction] for fraction in ROW_FRACTIONS]
        fixed, per_row = fixed_and_per_row(rows, seconds)
        cells = ''.join(f'{value:9.4f}' for value in seconds)
        print(f'  {label:20s}{cells}  {fixed:8.4f} {per_row:10.2e}'
              f'  {fixed / seconds[0]:11.0%}')
    smallest = ROW_FRACTIONS[-1]
    for kind, label in AGAINST_KINDS.items():
        ratio = paired_ratio(times[kind, smallest], times[kind, 1.0])
        print(f'  {label + f" at {rows[-1]} / {rows[0]} rows":40s} '
              f'{ratio.text(3)}')
    for fraction, count in zip(ROW_FRACTIONS, rows):
        cost = paired_ratio(times['tcl', fraction], times['tcl0', fraction])
        print(f'  {f"TCL / scale 0 at {count} rows":40s} {cost.text(3)}')


def worker(args):
    """``--worker``: build :data:`AGAINST_KINDS` with the ``tcl_garage`` on
    this process's path, then answer the parent's lines on stdin: ``step
    [KIND ...]`` (one timed step of each variant, or of the named ones: a
    JSON list of seconds), ``ops N [KIND ...]`` (:func:`operator_calls` of
    each, or of the named ones, over N steps: a JSON list of pairs),
    ``quit``."""
    preset = preset_sizes(args.preset, args.profile)
    algos = {kind: build(kind, preset, args.device, adam=args.adam)
             for kind in AGAINST_KINDS}
    np.random.seed(0)
    args_of_step = (preset['meta_batch_size'], preset['num_train_tasks'],
                    args.device)
    for algo in algos.values():
        for _ in range(args.warmup):
            time_step(algo, *args_of_step)
    print(json.dumps(where(args.device)), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == 'step':
            answer = [time_step(algos[kind], *args_of_step, args.clock)
                      for kind in command[1:] or algos]
        elif command[0] == 'ops':
            answer = [operator_calls(algos[kind], preset, int(command[1]),
                                     args.device)
                      for kind in command[2:] or algos]
        else:
            return
        print(json.dumps(answer), flush=True)


class Checkout:
    """A :func:`worker` process running one checkout's ``tcl_garage``.

    Args:
        root (pathlib.Path): The checkout (its ``tcl_garage`` is imported).
        args (argparse.Namespace): This script's arguments.

    """

    def __init__(self, root, args, adam='foreach'):
        command = [sys.executable, str(pathlib.Path(__file__).resolve()),
                   '--worker', '--preset', args.preset, '--warmup',
                   str(args.warmup), '--device', args.device, '--clock',
                   args.clock, '--adam', adam]
        if args.profile:
            command += ['--profile', args.profile]
        env = dict(os.environ, PYTHONPATH=str(root))
        self.process = subprocess.Popen(command, cwd=root, env=env,
                                        stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.device = self._answer()

    def ask(self, line):
        """Send one command; its JSON answer."""
        self.process.stdin.write(line + '\n')
        self.process.stdin.flush()
        return self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f'step_time.py --against: the worker '
                             f'{self.process.args} ended')
        return json.loads(line)

    def close(self):
        """End the worker."""
        self.process.stdin.write('quit\n')
        self.process.stdin.close()
        self.process.wait()


def checkout_root(path: str) -> Optional[pathlib.Path]:
    """``--against``'s PATH, resolved, when it is the root of a checkout.

    Args:
        path (str): The path given.

    Returns:
        pathlib.Path or None: The resolved path; None when it holds no
            ``tcl_garage`` package.

    """
    root = pathlib.Path(path).resolve()
    return root if (root / 'tcl_garage' / '__init__.py').is_file() else None


def compare_checkouts(args):
    """This checkout's step against another's (``--against``)."""
    other = checkout_root(args.against)
    if other is None:
        print(f'step_time.py: --against {args.against} holds no tcl_garage/'
              ': give the root of a checkout', file=sys.stderr)
        raise SystemExit(2)
    this = pathlib.Path(__file__).resolve().parents[1]
    checkouts = {'this': Checkout(this, args, args.adam),
                 'other': Checkout(other, args)}
    times = {(name, kind): [] for name in checkouts for kind in AGAINST_KINDS}
    for _ in range(args.steps):  # round-robin over checkouts and variants
        for name, checkout in checkouts.items():
            for kind, seconds in zip(AGAINST_KINDS, checkout.ask('step')):
                times[name, kind].append(seconds)
    calls = {name: dict(zip(AGAINST_KINDS,
                            checkout.ask(f'ops {args.op_steps}')))
             for name, checkout in checkouts.items()}
    for checkout in checkouts.values():
        checkout.close()
    median = medians(times)
    print(f'preset {args.preset}'
          f'{f" ({args.profile} sizes)" if args.profile else ""}: torch '
          f'{torch.__version__}, {checkouts["this"].device}, {args.clock} '
          f'clock, median of {args.steps} rounds; this checkout {this} '
          f'(adam={args.adam}), other {other} (its default)')
    print(f'  {"":28s} {"this s/step":>12s} {"other s/step":>12s}  '
          f'{"ops/step":>17s}  {"matmul share":>13s}')
    for kind, label in AGAINST_KINDS.items():
        print(f'  {label:28s} {median["this", kind]:12.4f} '
              f'{median["other", kind]:12.4f}  '
              f'{calls["this"][kind][0]:8.0f} {calls["other"][kind][0]:8.0f}'
              f'  {calls["this"][kind][1]:6.1%} {calls["other"][kind][1]:6.1%}')
    for kind, label in AGAINST_KINDS.items():
        ratio = paired_ratio(times['other', kind], times['this', kind])
        print(f'  {label + " other / this":40s} {ratio.text(3)}  '
              f'(target >= {AGAINST_TARGET}: '
              f'{verdict(ratio, AGAINST_TARGET)})')
    for name in checkouts:
        cost = paired_ratio(times[name, 'tcl'], times[name, 'tcl0'])
        print(f'  {"TCL / scale 0, " + name:40s} {cost.text(3)}  '
              f'(target <= {TCL_COST_TARGET}: '
              f'{verdict(cost, TCL_COST_TARGET, at_least=False)})')


def where(device):
    """The device, in words."""
    return (torch.cuda.get_device_name(device)
            if device.startswith('cuda') else
            f'CPU, {torch.get_num_threads()} threads')


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
    parser.add_argument('--compile-backward', action='store_true',
                        help="with --compile: compile the step's backward "
                        'passes too (compiled autograd)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps of each variant first')
    parser.add_argument('--adam-loop', action='store_true',
                        help="also time Adam's per-tensor loop")
    parser.add_argument('--adam', choices=('foreach', 'fused'),
                        default='foreach',
                        help="Adam's kernel of this checkout's variants "
                        '(the adam setting)')
    parser.add_argument('--profile', default=None,
                        help='sizes of a config profile (e.g. cpu-hour)')
    parser.add_argument('--precision', choices=('bf16', ),
                        help='compare fp32 with bf16 at --presets instead')
    parser.add_argument('--presets', nargs='+', choices=sorted(PRESETS),
                        default=['metaworld', 'cheetah-vel'],
                        help='presets of the --precision comparison')
    parser.add_argument('--op-steps', type=int, default=5,
                        help='profiled steps of each variant that count its '
                        'operator calls (after the timing)')
    parser.add_argument('--against', metavar='PATH',
                        help="time this checkout's step beside the checkout "
                        'at PATH instead')
    parser.add_argument('--clock', choices=sorted(CLOCKS), default='wall',
                        help="wall: seconds on the wall clock; cpu: the "
                        "process's CPU seconds (a shared machine)")
    parser.add_argument('--rows-scaling', action='store_true',
                        help='time the step at 1, 1/2, 1/4 and 1/8 of the '
                        'rows per task instead: its fixed cost')
    parser.add_argument('--worker', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.op_steps < 1:
        parser.error('--steps and --op-steps must be >= 1, --warmup >= 0')
    check_profile(parser, args.preset, args.profile)
    if args.rows_scaling:
        others = [flag for flag, given in (
            ('--against', args.against), ('--precision', args.precision),
            ('--compile', args.compile), ('--adam-loop', args.adam_loop))
            if given]
        if others:
            parser.error(f'--rows-scaling times TCLPEARL, its scale-0 path '
                         f'and PEARL at four sizes: drop {", ".join(others)}')
    if args.against and (args.precision or args.compile or args.adam_loop):
        parser.error('--against times TCLPEARL, its scale-0 path and PEARL '
                     'in two checkouts: drop --precision, --compile and '
                     '--adam-loop')
    if args.compile_backward and not args.compile:
        parser.error('--compile-backward compiles the backward passes of '
                     'the compiled step: add --compile')
    if args.compile_backward:
        # pylint: disable=import-outside-toplevel
        from torch._dynamo import config as dynamo_config
        dynamo_config.compiled_autograd = True
    if args.precision and args.adam != 'foreach':
        parser.error('--precision compares fp32 with bf16 under the default '
                     'Adam: drop --adam')
    if args.worker:
        worker(args)
        return
    if args.against:
        compare_checkouts(args)
        return
    if args.rows_scaling:
        rows_scaling(args)
        return
    if args.precision:
        compare_precisions(args)
        return
    preset = preset_sizes(args.preset, args.profile)
    kinds = {'stock': 'stock garage PEARL',
             'tcl': 'TCLPEARL',
             'tcl0': 'TCLPEARL, contrastive scale 0'}
    if args.compile:
        kinds['compiled'] = 'TCLPEARL, compiled'
    if args.adam_loop:
        kinds['adam-loop'] = 'TCLPEARL, Adam per-tensor loop'
    algos = {kind: build(kind, preset, args.device, adam=args.adam)
             for kind in kinds}
    times = round_robin(algos, preset, args.steps, args.warmup, args.device,
                        args.clock)
    median = medians(times)
    print(f'preset {args.preset}'
          f'{f" ({args.profile} sizes)" if args.profile else ""}: torch '
          f'{torch.__version__}, {where(args.device)}, {args.clock} clock, '
          f'median of {args.steps} steps each, adam={args.adam}')
    for kind, label in kinds.items():
        calls, matmul = operator_calls(algos[kind], preset, args.op_steps,
                                       args.device)
        print(f'  {label:32s} {median[kind]:.4f} s/step  {calls:6.0f} '
              f'operator calls/step, matrix products {matmul:.0%} of them')
    tcl_cost = paired_ratio(times['tcl'], times['tcl0'])
    speedup = paired_ratio(times['stock'], times['tcl'])
    print(f'  TCLPEARL / TCLPEARL scale 0      {tcl_cost.text(3)}  '
          f'(target <= {TCL_COST_TARGET}: '
          f'{verdict(tcl_cost, TCL_COST_TARGET, at_least=False)})')
    print(f'  stock PEARL / TCLPEARL           {speedup.text(3)}  '
          f'(target >= {SPEEDUP_TARGET}: {verdict(speedup, SPEEDUP_TARGET)})')
    if args.compile:
        compiled = paired_ratio(times['compiled'], times['tcl'])
        label = ('compiled + backward' if args.compile_backward else
                 'compiled')
        print(f'  {"TCLPEARL " + label + " / eager":32s} {compiled.text(3)}'
              f'  (eager / compiled: {1 / compiled.value:.2f}x)')
    if args.adam_loop:
        adam = paired_ratio(times['adam-loop'], times['tcl'])
        print(f'  {"Adam loop / " + args.adam:32s} {adam.text(3)}')


if __name__ == '__main__':
    main()
