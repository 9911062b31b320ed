"""Meta-World ML10 and ML45 (v3): held-out task classes, through the classic
API.

``metaworld.ML10(seed=s)`` gives 10 training classes and 5 test classes,
``metaworld.ML45(seed=s)`` 45 and 5, each class with 50 goals (object and
goal positions), all fixed by the seed. A training task here is one (class,
goal) pair of a training class (ML10: 500, ML45: 2,250), a test task one of
a test class (250 each). Observations are 39-d with the goal hidden, actions
4-d; episodes are truncated at ``max_episode_length``; each step's info
carries Meta-World's ``success`` and the class name as ``task_name`` (which
garage's ``log_multitask_performance`` groups by: ``MetaTest/<class>/...``).

Tasks are listed class-interleaved (goal 0 of every class in Meta-World's
class order, then goal 1, ...), so the first N tasks cover the classes
evenly. Environments are built per class, not per task: a task's
environment update names its class, and a slot (or worker) holding an
environment of that class only sets the new goal on it.

Building the benchmark in Meta-World runs 50 resets per class, each
stepping the simulator 500 times to place the arm (16 s for ML10, about two
minutes for ML45, on two busy cores); the goals it draws depend only on
the seeded random stream, not on the arm. :func:`ml_tasks` builds the same
tasks with the arm placement skipped, and keeps them per (benchmark, seed)
in this process.
"""
import contextlib
import functools
from typing import Dict, List, Optional, Sequence, Tuple

import metaworld
from metaworld.sawyer_xyz_env import SawyerXYZEnv
import mujoco
import numpy as np

from tcl_garage.envs.metaworld_ml1 import (METAWORLD_MAX_EPISODE_LENGTH,
                                           MetaWorldML1Env)
from tcl_garage.envs.tasks import FixedTaskSampler, TaskUpdate

#: Meta-World's multi-class meta-learning benchmarks, by name.
ML_BENCHMARKS = {'ml10': metaworld.ML10, 'ml45': metaworld.ML45}
#: Each benchmark's classes: ``{'train': {name: class}, 'test': ...}``.
ML_SPLITS = {'ml10': metaworld.env_dict.ML10_V3,
             'ml45': metaworld.env_dict.ML45_V3}
#: Goals per class in Meta-World's benchmarks.
GOALS_PER_CLASS = 50
#: Width of the random vector (object and goal positions) in the oracle's
#: task vector: the longest of any v3 environment (shorter ones are padded).
RAND_VEC_WIDTH = 9


def check_ml_name(name: str) -> None:
    """Fail clearly on a name that is not ``ml10`` or ``ml45``.

    Args:
        name (str): The benchmark name.

    Raises:
        ValueError: Naming the valid names.

    """
    if name not in ML_BENCHMARKS:
        raise ValueError(f'unknown Meta-World benchmark {name!r}: choose one '
                         f'of {", ".join(ML_BENCHMARKS)}')


def is_metaworld_benchmark(name: str) -> bool:
    """Whether a benchmark name is Meta-World's (``ml1/<env>``, ``ml10``,
    ``ml45``): its steps report ``success``.

    Args:
        name (str): A benchmark name.

    Returns:
        bool: True for Meta-World's.

    """
    return name.startswith('ml1/') or name in ML_BENCHMARKS


def ml_task_counts(name: str) -> Tuple[int, int]:
    """A benchmark's training and test task counts, without building it.

    Args:
        name (str): ``ml10`` or ``ml45``.

    Returns:
        tuple[int, int]: Training tasks, test tasks.

    """
    check_ml_name(name)
    split = ML_SPLITS[name]
    return (len(split['train']) * GOALS_PER_CLASS,
            len(split['test']) * GOALS_PER_CLASS)


@contextlib.contextmanager
def goal_draws_only():
    """Skip the arm placement of Meta-World's resets while tasks are drawn.

    ``_reset_hand`` steps the simulator with the arm's mocap (which also
    computes the bodies' positions) and records where the gripper ended
    (``init_tcp``, read by some ``reset_model`` for their rewards); here
    the positions are computed without stepping. No environment's goal
    draw reads either (every rejection loop compares parts of the random
    vector), so the goals are
    unchanged. The drawing environments are thrown away.
    """
    original = SawyerXYZEnv._reset_hand  # pylint: disable=protected-access

    def record_gripper(self, steps=50):
        del steps
        mujoco.mj_forward(self.model, self.data)  # positions, no stepping
        self.init_tcp = self.tcp_center

    SawyerXYZEnv._reset_hand = record_gripper
    try:
        yield
    finally:
        SawyerXYZEnv._reset_hand = original


def build_metaworld_benchmark(name: str, seed: int,
                              fast: bool = True) -> metaworld.Benchmark:
    """Meta-World's own benchmark object (``metaworld.ML10(seed=seed)``).

    Args:
        name (str): ``ml10`` or ``ml45``.
        seed (int): Seed of Meta-World's goal draws.
        fast (bool): Skip the arm placement while drawing (same tasks).

    Returns:
        metaworld.Benchmark: With ``train_classes``, ``test_classes``,
            ``train_tasks`` and ``test_tasks``.

    """
    check_ml_name(name)
    state = np.random.get_state()  # Meta-World restores it; be sure
    try:
        with goal_draws_only() if fast else contextlib.nullcontext():
            return ML_BENCHMARKS[name](seed=int(seed))
    finally:
        np.random.set_state(state)


def interleave(tasks: Sequence[metaworld.Task],
               classes: Sequence[str]) -> List[metaworld.Task]:
    """Tasks ordered goal by goal across classes: goal 0 of each class in
    ``classes`` order, then goal 1, ...

    Args:
        tasks (Sequence[metaworld.Task]): Tasks of these classes, each
            class's in its own order.
        classes (Sequence[str]): Class names, in order.

    Returns:
        list[metaworld.Task]: The same tasks; task ``i`` is of class
            ``classes[i % len(classes)]`` when every class has as many.

    """
    by_class: Dict[str, List[metaworld.Task]] = {c: [] for c in classes}
    for task in tasks:
        by_class[task.env_name].append(task)
    longest = max(len(v) for v in by_class.values())
    return [by_class[c][g] for g in range(longest) for c in classes
            if g < len(by_class[c])]


@functools.lru_cache(maxsize=4)
def ml_tasks(name: str, seed: int
             ) -> Tuple[Tuple[metaworld.Task, ...], Tuple[metaworld.Task, ...],
                        Tuple[str, ...], Tuple[str, ...]]:
    """A benchmark's training and test tasks, class-interleaved.

    Args:
        name (str): ``ml10`` or ``ml45``.
        seed (int): Seed of Meta-World's goal draws.

    Returns:
        tuple: Training tasks, test tasks, training class names, test class
            names (Meta-World's order).

    """
    benchmark = build_metaworld_benchmark(name, seed)
    train_classes = tuple(benchmark.train_classes)
    test_classes = tuple(benchmark.test_classes)
    return (tuple(interleave(benchmark.train_tasks, train_classes)),
            tuple(interleave(benchmark.test_tasks, test_classes)),
            train_classes, test_classes)


def ml_class_names(name: str) -> Tuple[str, ...]:
    """Every class of a benchmark, training classes first (the order of the
    oracle's one-hot class code).

    Args:
        name (str): ``ml10`` or ``ml45``.

    Returns:
        tuple[str, ...]: Class names.

    """
    check_ml_name(name)
    return tuple(ML_SPLITS[name]['train']) + tuple(ML_SPLITS[name]['test'])


class MetaWorldMLEnv(MetaWorldML1Env):
    """One environment of a class of ML10 or ML45, set to its goals.

    Args:
        env_name (str): The class, e.g. ``push-v3``.
        benchmark (str): ``ml10`` or ``ml45`` (for the oracle's class code).
        max_episode_length (int): Episode length (Meta-World's limit: 500).
        seed (int or None): Seed of the first reset.

    Raises:
        ValueError: If the class is not one of the benchmark's.

    """

    def __init__(self,
                 env_name: str,
                 benchmark: str,
                 max_episode_length: int = METAWORLD_MAX_EPISODE_LENGTH,
                 seed: Optional[int] = None) -> None:
        classes = ml_class_names(benchmark)
        if env_name not in classes:
            raise ValueError(f'{env_name} is not a class of {benchmark}; its '
                             f'classes are: {", ".join(classes)}')
        super().__init__(env_name, max_episode_length=max_episode_length,
                         seed=seed)
        self.env_kwargs = dict(env_name=env_name, benchmark=benchmark,
                               max_episode_length=max_episode_length,
                               seed=seed)
        self._class_index = classes.index(env_name)
        self._num_classes = len(classes)

    @property
    def task_name(self) -> str:
        """str: The class name (logged as ``task_name``)."""
        return self.env_kwargs['env_name']

    def _task_reward(self, action, reward, terminated, info):
        """Meta-World's reward and termination; the class name added to
        ``info`` as ``task_name``."""
        info['task_name'] = self.task_name
        return reward, terminated

    def close(self) -> None:
        """Close the simulator (if the constructor got as far as
        building it)."""
        if hasattr(self, '_env'):
            super().close()

    def task_vector(self) -> np.ndarray:
        """The oracle's view of the task: a one-hot code of the class
        (among all the benchmark's, training classes first), then the
        random vector (object and goal positions) zero-padded to
        :data:`RAND_VEC_WIDTH`.

        Returns:
            np.ndarray: float32, ``(num_classes + RAND_VEC_WIDTH,)``.

        """
        rand_vec = super().task_vector()
        if rand_vec.shape[0] > RAND_VEC_WIDTH:
            raise ValueError(f'{self.task_name} randomises '
                             f'{rand_vec.shape[0]} numbers, more than '
                             f'RAND_VEC_WIDTH={RAND_VEC_WIDTH}')
        vector = np.zeros(self._num_classes + RAND_VEC_WIDTH,
                          dtype=np.float32)
        vector[self._class_index] = 1.0
        vector[self._num_classes:self._num_classes +
               rand_vec.shape[0]] = rand_vec
        return vector


class MetaWorldTaskSampler(FixedTaskSampler):
    """A fixed list of (class, goal) tasks of ML10 or ML45; each task's
    environment update builds an environment of its class.

    Asked for all its tasks, it returns them in order; asked for fewer, a
    random choice of goals that keeps the list's class pattern (position
    ``i`` of the answer has the class of task ``i``), so evaluation slots
    keep their class from one evaluation to the next.

    Args:
        tasks (Sequence[metaworld.Task]): The tasks, class-interleaved.
        env_kwargs (dict): Constructor arguments of :class:`MetaWorldMLEnv`
            but ``env_name`` (``benchmark``, ``max_episode_length``).

    """

    def __init__(self, tasks: Sequence[metaworld.Task],
                 env_kwargs: Dict) -> None:
        super().__init__(MetaWorldMLEnv, tasks, env_kwargs)
        self._kwargs = dict(env_kwargs)

    @property
    def class_names(self) -> List[str]:
        """list[str]: The class of each task, in order."""
        return [task.env_name for task in self.tasks]

    def first(self, n_tasks: int) -> 'MetaWorldTaskSampler':
        """A sampler of the first ``n_tasks`` tasks (every class alike).

        Args:
            n_tasks (int): How many (at most all).

        Returns:
            MetaWorldTaskSampler: The sampler.

        """
        return MetaWorldTaskSampler(self.tasks[:n_tasks], self._kwargs)

    def update(self, task: metaworld.Task) -> TaskUpdate:
        """The environment update of one task.

        Args:
            task (metaworld.Task): The task.

        Returns:
            TaskUpdate: Builds (or reuses) an environment of its class.

        """
        return TaskUpdate(MetaWorldMLEnv, task,
                          dict(self._kwargs, env_name=task.env_name))

    def sample(self, n_tasks: int, with_replacement: bool = False) -> list:
        """Environment updates of ``n_tasks`` tasks.

        Args:
            n_tasks (int): How many.
            with_replacement (bool): Draw with replacement.

        Returns:
            list[TaskUpdate]: The updates.

        """
        tasks = self.tasks
        if n_tasks == len(tasks):
            chosen = tasks
        elif n_tasks > len(tasks) and not with_replacement:
            raise ValueError(f'asked for {n_tasks} tasks of {len(tasks)} '
                             'without replacement')
        elif with_replacement:
            chosen = [tasks[i] for i in
                      np.random.choice(len(tasks), n_tasks, replace=True)]
        else:
            chosen = self._same_pattern(n_tasks)
        return [self.update(task) for task in chosen]

    def _same_pattern(self, n_tasks: int) -> List[metaworld.Task]:
        """``n_tasks`` distinct tasks, task ``i`` of the class of this
        list's task ``i``, goals drawn from the global numpy stream (which
        garage seeds from the run's seed)."""
        by_class: Dict[str, List[metaworld.Task]] = {}
        for task in self.tasks:
            by_class.setdefault(task.env_name, []).append(task)
        order = {name: list(np.random.permutation(len(goals)))
                 for name, goals in by_class.items()}
        taken = {name: 0 for name in by_class}
        chosen = []
        for task in self.tasks[:n_tasks]:
            name = task.env_name
            chosen.append(by_class[name][order[name][taken[name]]])
            taken[name] += 1
        return chosen


def ml_samplers(name: str, seed: int,
                max_episode_length: int = METAWORLD_MAX_EPISODE_LENGTH
                ) -> Tuple[MetaWorldTaskSampler, MetaWorldTaskSampler]:
    """Training and test task samplers of ML10 or ML45.

    Args:
        name (str): ``ml10`` or ``ml45``.
        seed (int): Seed of Meta-World's goal draws (fixes the split).
        max_episode_length (int): Episode length.

    Returns:
        tuple: Training sampler, test sampler.

    """
    train, test, _, _ = ml_tasks(name, int(seed))
    kwargs = dict(benchmark=name, max_episode_length=max_episode_length)
    return (MetaWorldTaskSampler(train, kwargs),
            MetaWorldTaskSampler(test, kwargs))
