#!/usr/bin/env python3
"""Environment steps per second of PEARL's sampling: vectorised against
sequential, and (``--versus-raw``) the sampling path against raw stepping.

By default it times, interleaved round by round, at the paper's sizes of the
benchmark (configs/): one epoch's collection (``num_tasks_sample`` tasks,
PEARL's prior / posterior / extra-RL phases) and one meta-test evaluation
(every test task: exploration, then the adapted episode), each done
sequentially (garage's path: one task at a time through garage's sampler,
one observation per policy call) and vectorised (tcl_garage.sampling: every
task at once, one policy call per step) with the environments in this
process and in 2 worker processes. The last line per benchmark reads
``vectorised / sequential: X.XXx (target >= T)`` for the collection with the
benchmark's default workers (configs/: 2 processes, the point robot in this
process).

    python benchmarks/sampling.py --env ml1/push-v3
    python benchmarks/sampling.py --env cheetah-vel --rounds 3

With ``--versus-raw`` it times, in one process, (a) PEARL's sampling path on
one task: garage's ``LocalSampler`` with our ``PEARLWorker`` and a TCL-PEARL
policy at the paper's sizes (policy inference on every step, the garage
adapter and the task reward included), and (b) the raw gymnasium environment
of the same task stepped with the actions (a) took, so that both simulate
the same kind of motion (Meta-World's step costs more when the gripper
touches things); the two alternate, so that machine noise hits both alike.
Prints steps per second and the ratio of seconds per step (target: at most
1.5). With ``--ray`` it then measures garage's ``RaySampler`` with 1 and
with 2 worker processes and prints the scaling.

    python benchmarks/sampling.py --versus-raw --env cheetah-vel
    python benchmarks/sampling.py --versus-raw --env ml1/push-v3 --ray
"""
import argparse
import statistics
import time

from dowel import logger, tabular
import numpy as np

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from garage.experiment.deterministic import set_seed
from garage.sampler import RaySampler

from tcl_garage.algos import PEARLWorker
from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import make_benchmark, MUJOCO_FAMILIES
from tcl_garage.experiment import load_config
from tcl_garage.experiment.algorithms import network_sizes
from tcl_garage.garage_compat import ray_init

#: Target: PEARL's sampling path / raw stepping, seconds per step.
RATIO_TARGET = 1.5
#: Targets on a 2-core machine: vectorised / sequential steps per second,
#: (collection, evaluation).
VECTORISED_TARGETS = {'ml1/push-v3': (2.0, 2.0), 'cheetah-vel': (4.0, 2.0)}
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


class _SamplingTrainer:
    """What garage's ``PEARL._obtain_samples`` asks of a trainer."""

    def __init__(self, sampler):
        self._sampler = sampler

    def obtain_samples(self, itr, batch_size, agent_update, env_update):
        return self._sampler.obtain_samples(itr, batch_size, agent_update,
                                            env_update).to_list()


def sequential_epoch(algo, trainer, tasks):
    """garage's collection of an epoch: one task at a time."""
    # pylint: disable=protected-access
    for task in tasks:
        algo._task_idx = task
        algo._context_replay_buffers[task].clear()
        algo._obtain_samples(trainer, 0, algo._num_steps_prior, np.inf)
        if algo._num_steps_posterior > 0:
            algo._obtain_samples(trainer, 0, algo._num_steps_posterior,
                                 algo._update_post_train)
        algo._obtain_samples(trainer, 0, algo._num_extra_rl_steps_posterior,
                             algo._update_post_train, add_to_enc_buffer=False)


def timed(function):
    """Seconds ``function()`` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def vectorised_versus_sequential(env_name: str, rounds: int) -> None:
    """Print steps per second of an epoch's collection and of a meta-test
    evaluation, sequential and vectorised, and the ratios."""
    # pylint: disable=protected-access
    from tcl_garage.experiment.algorithms import windows_per_task
    from tcl_garage.sampling import (BatchedMetaEvaluator, InProcessEnvs,
                                     MultiTaskCollector, ProcessEnvs,
                                     rounds_of)
    set_seed(0)  # the same draw of tasks, and so of rounds, every time
    config = load_config(env_name, algo='tcl-pearl')
    benchmark = make_benchmark(env_name, seed=0)
    keys = ('num_tasks_sample', 'num_steps_prior', 'num_steps_posterior',
            'num_extra_rl_steps_posterior', 'num_exploration_episodes',
            'window_size', 'meta_batch_size', 'batch_size')
    settings = {key: config[key] for key in keys}
    settings['windows_per_task'] = windows_per_task(config)
    n_test = benchmark.num_test_tasks
    algo, _ = build_pearl('tcl-pearl', benchmark.train_envs(),
                          benchmark.test_sampler, num_test_tasks=n_test,
                          collector='sequential', num_initial_steps=1,
                          **settings, **network_sizes(config))
    trainer = _SamplingTrainer(algo._sampler)
    width = algo._num_tasks_sample
    slots = {'vectorised, this process': InProcessEnvs(0),
             'vectorised, 2 processes': ProcessEnvs(0, 2)}
    collectors = {name: MultiTaskCollector(algo, envs, width)
                  for name, envs in slots.items()}
    evaluators = {name: BatchedMetaEvaluator(benchmark.test_sampler, n_test,
                                             config['num_exploration_episodes'],
                                             envs, first_slot=width)
                  for name, envs in slots.items()}
    # Context for the posterior phases: one episode per task (not timed);
    # then a first round of each (starts the workers).
    collectors['vectorised, this process'].collect_initial()
    tasks = list(np.random.randint(algo._num_train_tasks, size=width))
    per_epoch = width * sum(config[k] for k in keys[1:4])
    collect = {'sequential': lambda: sequential_epoch(algo, trainer, tasks)}
    collect.update({name: (lambda c=c: c.collect_epoch(tasks))
                    for name, c in collectors.items()})
    evaluate = {'sequential': lambda: algo._evaluator.evaluate(algo)}
    evaluate.update({name: (lambda e=e: e.evaluate(algo))
                     for name, e in evaluators.items()})
    for function in (*collect.values(), *evaluate.values()):
        function()  # warm-up
    seconds = {(part, name): [] for part, functions in
               (('collect', collect), ('evaluate', evaluate))
               for name in functions}
    for _ in range(rounds):  # interleaved: noise hits every variant alike
        for part, functions in (('collect', collect),
                                ('evaluate', evaluate)):
            for name, function in functions.items():
                seconds[part, name].append(timed(function))
    tabular.clear()
    for envs in slots.values():
        envs.close()
    length = benchmark.max_episode_length
    per_eval = n_test * (config['num_exploration_episodes'] + 1) * length
    steps = {'collect': per_epoch, 'evaluate': per_eval}
    widths = [len(tasks_of_round) for tasks_of_round in rounds_of(tasks)]
    print(f'{env_name}: paper sizes, {rounds} round(s), median seconds; '
          f'an epoch collects about {per_epoch:,} steps in {width} tasks '
          f'(garage\'s draw with repeats: rounds of {widths} tasks), an '
          f'evaluation {per_eval:,} steps in {n_test} test tasks')
    rate = {}
    for (part, name), values in seconds.items():
        rate[part, name] = steps[part] / statistics.median(values)
        print(f'  {part:8} {name:26} {rate[part, name]:9.0f} steps/s')
    default = ('vectorised, 2 processes' if config['n_workers'] else
               'vectorised, this process')
    targets = VECTORISED_TARGETS.get(env_name, (None, None))
    for part in ('evaluate', 'collect'):
        best = max(rate[part, name] for name in slots)
        print(f'  {part}: best vectorised / sequential '
              f'{best / rate[part, "sequential"]:.2f}x')
    ratio = rate['collect', default] / rate['collect', 'sequential']
    wanted = f' (target >= {targets[0]:g})' if targets[0] else ''
    print(f'vectorised / sequential: {ratio:.2f}x{wanted}')


def main():
    parser = argparse.ArgumentParser(
        description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--env', default='cheetah-vel',
                        help='a benchmark name, e.g. cheetah-vel or '
                        'ml1/push-v3')
    parser.add_argument('--steps', type=int, default=2000,
                        help='steps per block (whole episodes of 200)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--ray', action='store_true',
                        help='also measure RaySampler with 1 and 2 workers')
    parser.add_argument('--versus-raw', action='store_true',
                        help="PEARL's sampling path against raw stepping")
    args = parser.parse_args()
    set_seed(0)
    # The timed sampling logs to no output: dowel's warnings that nothing
    # takes its lines say nothing here.
    logger.disable_warnings()
    tabular.disable_warnings()
    if not args.versus_raw:
        vectorised_versus_sequential(args.env, args.rounds)
        return
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


if __name__ == '__main__':  # worker processes import this module too
    main()
