"""Every task sampler of the project, and the environment updates they give.

garage's ``SetTaskSampler`` draws new tasks at every call and builds
environments without arguments; a benchmark needs a train/test split fixed
by its seed and environments built with arguments (episode length, env name):
:class:`FixedTaskSampler`. :class:`ResamplingTaskSampler` draws with
replacement when asked for more tasks than it has (a meta-batch larger than
the task set); :class:`WrappedTaskSampler` wraps every environment of a
sampler (RL2's ``RL2Env``).
"""
from typing import Any, Callable, Dict, Optional, Sequence

from garage import Environment
from garage.experiment.task_sampler import TaskSampler
from garage.sampler.env_update import EnvUpdate
import numpy as np


class TaskUpdate(EnvUpdate):
    """Builds (or reuses) an environment and sets one task on it.

    Args:
        env_type (type): Environment class with ``set_task(task)``.
        task (object): The task.
        env_kwargs (dict or None): Constructor arguments of ``env_type``.

    """

    def __init__(self,
                 env_type: type,
                 task: Any,
                 env_kwargs: Optional[Dict[str, Any]] = None) -> None:
        self._env_type = env_type
        self._task = task
        self._env_kwargs = dict(env_kwargs or {})

    @property
    def task(self) -> Any:
        """object: The task this update sets."""
        return self._task

    def _built_alike(self, env) -> bool:
        """Whether ``env`` is of this update's type and agrees with every
        constructor argument it names (an env records all of its own in
        ``env_kwargs``, defaults such as ``seed=None`` included).

        Args:
            env (garage.Environment or None): The environment.

        Returns:
            bool: True when this update may reuse it.

        """
        if env is None or type(env) is not self._env_type:
            return False
        built_with = getattr(env, 'env_kwargs', None)
        if built_with is None:
            return False
        return all(key in built_with and built_with[key] == value
                   for key, value in self._env_kwargs.items())

    def __call__(self, old_env=None):
        """Set the task, on ``old_env`` when it was built the same way.

        Args:
            old_env (garage.Environment or None): Environment to reuse.

        Returns:
            garage.Environment: The environment, set to the task.

        """
        if not self._built_alike(old_env):
            if old_env is not None:
                old_env.close()
            old_env = self._env_type(**self._env_kwargs)
        old_env.set_task(self._task)
        return old_env


class FixedTaskSampler(TaskSampler):
    """Samples from a fixed list of tasks.

    Asked for all its tasks, it returns them in order (so the meta-test set
    is the same at every evaluation); asked for fewer, a random subset
    without replacement.

    Args:
        env_type (type): Environment class with ``set_task(task)``.
        tasks (Sequence): The tasks.
        env_kwargs (dict or None): Constructor arguments of ``env_type``.

    """

    def __init__(self,
                 env_type: type,
                 tasks: Sequence[Any],
                 env_kwargs: Optional[Dict[str, Any]] = None) -> None:
        if len(tasks) == 0:
            raise ValueError('FixedTaskSampler needs at least one task')
        self._env_type = env_type
        self._tasks = list(tasks)
        self._env_kwargs = dict(env_kwargs or {})

    @property
    def n_tasks(self) -> int:
        """int: Number of tasks."""
        return len(self._tasks)

    @property
    def tasks(self) -> list:
        """list: The tasks, in order."""
        return list(self._tasks)

    def first(self, n_tasks: int) -> 'FixedTaskSampler':
        """A sampler of the first ``n_tasks`` of these tasks.

        Args:
            n_tasks (int): How many (at most all).

        Returns:
            FixedTaskSampler: The sampler.

        """
        return FixedTaskSampler(self._env_type, self._tasks[:n_tasks],
                                self._env_kwargs)

    def sample(self, n_tasks: int, with_replacement: bool = False) -> list:
        """Environment updates for ``n_tasks`` of the tasks.

        Args:
            n_tasks (int): How many.
            with_replacement (bool): Draw with replacement (when fewer than
                all are asked for).

        Returns:
            list[TaskUpdate]: The updates.

        """
        if n_tasks == len(self._tasks):
            chosen = self._tasks
        elif n_tasks > len(self._tasks) and not with_replacement:
            raise ValueError(f'asked for {n_tasks} tasks of '
                             f'{len(self._tasks)} without replacement')
        else:
            indices = np.random.choice(len(self._tasks), n_tasks,
                                       replace=with_replacement)
            chosen = [self._tasks[i] for i in indices]
        return [
            TaskUpdate(self._env_type, task, self._env_kwargs)
            for task in chosen
        ]


class ResamplingTaskSampler(TaskSampler):
    """A task sampler that draws with replacement when asked for more tasks
    than it has (MAML's meta-batch of 40 on Cheetah-Dir's 2 tasks).

    Args:
        sampler (TaskSampler): The training tasks.

    """

    def __init__(self, sampler: TaskSampler) -> None:
        self._sampler = sampler

    @property
    def n_tasks(self) -> int:
        """int: Number of tasks."""
        return self._sampler.n_tasks

    def sample(self, n_tasks: int, with_replacement: bool = False) -> list:
        """Updates of ``n_tasks`` tasks.

        Args:
            n_tasks (int): How many.
            with_replacement (bool): Draw with replacement (always, when
                more tasks than there are are asked for).

        Returns:
            list[EnvUpdate]: The updates.

        """
        return self._sampler.sample(
            n_tasks, with_replacement or n_tasks > self._sampler.n_tasks)


class WrappedTaskUpdate(EnvUpdate):
    """A task's environment update, its environment wrapped.

    Args:
        update (EnvUpdate): The task's update.
        wrap (callable): ``wrap(update, old_env) -> environment``; gets the
            previous wrapped environment (or None) to reuse.

    """

    def __init__(self, update: EnvUpdate,
                 wrap: Callable[[EnvUpdate, Any], Environment]) -> None:
        self._update = update
        self._wrap = wrap

    def __call__(self, old_env=None):
        """Build or reuse the wrapped environment, set to the task.

        Args:
            old_env (garage.Environment or None): Environment to reuse.

        Returns:
            garage.Environment: The wrapped environment.

        """
        return self._wrap(self._update, old_env)


class WrappedTaskSampler(TaskSampler):
    """A task sampler whose environments are wrapped.

    Args:
        sampler (TaskSampler): The benchmark's sampler.
        wrap (callable): As in :class:`WrappedTaskUpdate`.

    """

    def __init__(self, sampler: TaskSampler,
                 wrap: Callable[[EnvUpdate, Any], Environment]) -> None:
        self._sampler = sampler
        self._wrap = wrap

    @property
    def n_tasks(self) -> int:
        """int: Number of tasks."""
        return self._sampler.n_tasks

    def sample(self, n_tasks: int, with_replacement: bool = False) -> list:
        """Wrapped updates of ``n_tasks`` tasks (see the inner sampler).

        Args:
            n_tasks (int): How many.
            with_replacement (bool): Passed on.

        Returns:
            list[WrappedTaskUpdate]: The updates.

        """
        return [
            WrappedTaskUpdate(update, self._wrap)
            for update in self._sampler.sample(n_tasks, with_replacement)
        ]
