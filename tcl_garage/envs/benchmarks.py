"""One entry point for every benchmark of the paper: :func:`make_benchmark`.

Names: ``cheetah-vel``, ``cheetah-dir``, ``ant-dir``, ``ant-goal``,
``humanoid-dir``, ``walker-rand-params`` (MuJoCo Controls), ``ml1/<env>``
(Meta-World ML1, e.g. ``ml1/push-v3``), ``ml10`` and ``ml45`` (Meta-World's
held-out classes) and ``point`` (PEARL's point robot,
the small, fast one of the demo and the tests).
"""
import dataclasses
from typing import Optional, Tuple

import numpy as np

from tcl_garage.envs.metaworld_ml1 import (check_env_name,
                                           METAWORLD_MAX_EPISODE_LENGTH,
                                           ML1_NUM_TEST_TASKS,
                                           ML1_NUM_TRAIN_TASKS,
                                           MetaWorldML1Env, ml1_tasks)
from tcl_garage.envs.metaworld_ml import (ML_BENCHMARKS, ml_samplers,
                                          ml_task_counts)
from tcl_garage.envs.mujoco_tasks import (MUJOCO_FAMILIES,
                                          MUJOCO_MAX_EPISODE_LENGTH)
from tcl_garage.envs.point import PointTaskEnv, POINT_MAX_EPISODE_LENGTH
from tcl_garage.envs.tasks import FixedTaskSampler

BENCHMARK_NAMES = (*MUJOCO_FAMILIES, 'ml1/<env>', *ML_BENCHMARKS,
                   'point')
#: Training and test tasks of ``point``.
_POINT_TASKS = (40, 10)


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """The tasks of a benchmark, split into train and test.

    Attributes:
        name (str): Benchmark name.
        train_sampler (FixedTaskSampler): Training tasks;
            ``train_sampler.sample(num_train_tasks)`` gives them in order.
        test_sampler (FixedTaskSampler): Held-out test tasks.
        num_train_tasks (int): Number of training tasks.
        num_test_tasks (int): Number of test tasks.
        max_episode_length (int): Episode length.

    """

    name: str
    train_sampler: FixedTaskSampler
    test_sampler: FixedTaskSampler
    num_train_tasks: int
    num_test_tasks: int
    max_episode_length: int

    def train_envs(self) -> list:
        """Environment updates of the training tasks, in order.

        Returns:
            list[TaskUpdate]: One per training task.

        """
        return self.train_sampler.sample(self.num_train_tasks)


def make_benchmark(name: str,
                   seed: int = 0,
                   max_episode_length: Optional[int] = None,
                   reward_function_version: Optional[str] = None) -> Benchmark:
    """Build a benchmark's train and test task samplers.

    Tasks are drawn with a generator seeded by ``seed`` (the global
    ``np.random`` state is left as it was), so the train/test split is fixed
    for a seed.

    Args:
        name (str): A name of :data:`BENCHMARK_NAMES` (``ml1/<env>`` with any
            of Meta-World's 50 v3 names).
        seed (int): Seed of the task draw.
        max_episode_length (int or None): Episode length; None uses the
            benchmark's (200, or 20 for ``point``).
        reward_function_version (str or None): ML1 only: ``v2`` (None:
            Meta-World 3's default) or ``v1`` (the paper's reward).

    Returns:
        Benchmark: Samplers and counts.

    Raises:
        ValueError: For an unknown name, listing the valid ones.

    """
    n_train, n_test, default_length = benchmark_facts(name)  # checks it
    length = max_episode_length or default_length
    if name.startswith('ml1/'):
        env_name = name[len('ml1/'):]
        train, test = ml1_tasks(env_name, seed, n_train, n_test)
        kwargs = dict(env_name=env_name, max_episode_length=length,
                      reward_function_version=reward_function_version or 'v2')
        return Benchmark(name,
                         FixedTaskSampler(MetaWorldML1Env, train, kwargs),
                         FixedTaskSampler(MetaWorldML1Env, test, kwargs),
                         n_train, n_test, length)
    if reward_function_version is not None:
        raise ValueError(f'reward_function_version={reward_function_version}'
                         f': only Meta-World ML1 has reward versions, not '
                         f'{name}; leave it unset')
    if name in ML_BENCHMARKS:
        return Benchmark(name, *ml_samplers(name, seed, length), n_train,
                         n_test, length)
    if name == 'point':
        if length != POINT_MAX_EPISODE_LENGTH:
            raise ValueError('point tasks have a fixed episode length of '
                             f'{POINT_MAX_EPISODE_LENGTH}')
        tasks = _draw(PointTaskEnv(), n_train + n_test, seed)
        return Benchmark(name,
                         FixedTaskSampler(PointTaskEnv, tasks[:n_train]),
                         FixedTaskSampler(PointTaskEnv, tasks[n_train:]),
                         n_train, n_test, length)
    env_class = MUJOCO_FAMILIES[name][0]
    kwargs = dict(max_episode_length=length)
    if hasattr(env_class, 'ALL_TASKS'):
        train = test = list(env_class.ALL_TASKS)
    else:
        env = env_class(**kwargs)
        tasks = _draw(env, n_train + n_test, seed)
        env.close()
        train, test = tasks[:n_train], tasks[n_train:]
    return Benchmark(name, FixedTaskSampler(env_class, train, kwargs),
                     FixedTaskSampler(env_class, test, kwargs), n_train,
                     n_test, length)


def benchmark_facts(name: str) -> Tuple[int, int, int]:
    """A benchmark's task counts and episode length, without building it.

    Args:
        name (str): A name of :data:`BENCHMARK_NAMES` (``ml1/<env>``).

    Returns:
        tuple[int, int, int]: Training tasks, test tasks, default episode
            length.

    Raises:
        ValueError: For an unknown name, listing the valid ones.

    """
    if name.startswith('ml1/'):
        check_env_name(name[len('ml1/'):])
        return (ML1_NUM_TRAIN_TASKS, ML1_NUM_TEST_TASKS,
                METAWORLD_MAX_EPISODE_LENGTH)
    if name in ML_BENCHMARKS:
        return (*ml_task_counts(name), METAWORLD_MAX_EPISODE_LENGTH)
    if name == 'point':
        return (*_POINT_TASKS, POINT_MAX_EPISODE_LENGTH)
    if name not in MUJOCO_FAMILIES:
        raise ValueError(f'unknown benchmark {name!r}: choose one of '
                         f'{", ".join(BENCHMARK_NAMES)}')
    env_class, n_train, n_test = MUJOCO_FAMILIES[name]
    if hasattr(env_class, 'ALL_TASKS'):
        n_train = n_test = len(env_class.ALL_TASKS)
    return n_train, n_test, MUJOCO_MAX_EPISODE_LENGTH


def _draw(env, num_tasks: int, seed: int) -> list:
    """``env.sample_tasks`` under a seed, restoring ``np.random`` after.

    Args:
        env (garage.Environment): Has ``sample_tasks``.
        num_tasks (int): How many.
        seed (int): Seed.

    Returns:
        list: The tasks.

    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return env.sample_tasks(num_tasks)
    finally:
        np.random.set_state(state)
