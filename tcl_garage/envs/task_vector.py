"""Environments whose observation carries the true task: the oracle's view.

The paper's oracle (its Table 5) is a multi-task policy that sees a
hand-made vector of the task (goal velocity, direction, goal, physical
parameters, ...) next to the observation. Every benchmark environment gives
that vector through ``task_vector()``; :class:`TaskVectorEnv` appends it to
each observation, and on each reset switches to a task drawn from its list
(uniformly), so that one environment serves all training tasks.
"""
from typing import Optional, Sequence

import akro
from garage import EnvSpec, EnvStep, Environment, Wrapper
from garage.sampler.env_update import EnvUpdate
import numpy as np


class TaskVectorEnv(Wrapper):
    """An environment of a benchmark, its task vector appended to observations.

    A garage ``Wrapper``: what it does not override (action space, render,
    close, ...) is the wrapped environment's.

    Args:
        task_updates (Sequence[EnvUpdate]): The tasks, as environment updates
            of one benchmark (their environments have ``task_vector()``).
        seed (int or None): Seed of the draw of a task at each reset.
        env (garage.Environment or None): An environment to reuse (set to
            the first task).
        task_names (Sequence[str] or None): A name per task, logged in
            ``env_info['task_name']`` (default ``Task #<index>``).

    Raises:
        ValueError: With no task, or an environment without ``task_vector``.

    """

    def __init__(self,
                 task_updates: Sequence[EnvUpdate],
                 seed: Optional[int] = None,
                 env: Optional[Environment] = None,
                 task_names: Optional[Sequence[str]] = None) -> None:
        if not task_updates:
            raise ValueError('TaskVectorEnv needs at least one task')
        self._updates = list(task_updates)
        self._names = list(task_names or [
            f'Task #{index}' for index in range(len(self._updates))
        ])
        self._rng = np.random.default_rng(seed)
        super().__init__(self._updates[0](env))
        self._task_index = 0
        if not hasattr(self._env, 'task_vector'):
            raise ValueError(f'{type(self._env).__name__} has no task_vector()'
                             ': the oracle needs a benchmark environment')
        self._vector = self._env.task_vector()
        inner = self._env.observation_space
        size = self._vector.shape[0]
        self._observation_space = akro.Box(
            low=np.concatenate([inner.low, np.full(size, -np.inf)]),
            high=np.concatenate([inner.high, np.full(size, np.inf)]),
            dtype=np.float32)
        self._spec = EnvSpec(self._observation_space,
                             self._env.action_space,
                             self._env.spec.max_episode_length)

    @property
    def inner(self) -> Environment:
        """garage.Environment: The wrapped environment."""
        return self._env

    @property
    def observation_space(self) -> akro.Space:
        """akro.Box: Observation, then task vector."""
        return self._observation_space

    @property
    def spec(self) -> EnvSpec:
        """EnvSpec: Spaces and episode length."""
        return self._spec

    def task_vector(self) -> np.ndarray:
        """The current task's vector.

        Returns:
            np.ndarray: float32.

        """
        return self._vector.copy()

    def _observe(self, observation: np.ndarray) -> np.ndarray:
        return np.concatenate([
            np.asarray(observation, dtype=np.float32).ravel(), self._vector
        ])

    def reset(self):
        """Draw a task (when there are several), then reset.

        Returns:
            tuple[np.ndarray, dict]: First observation (with the task
                vector) and episode info.

        """
        if len(self._updates) > 1:
            self._task_index = int(self._rng.integers(len(self._updates)))
            self._env = self._updates[self._task_index](self._env)
            self._vector = self._env.task_vector()
        observation, episode_info = self._env.reset()
        return self._observe(observation), episode_info

    def step(self, action: np.ndarray) -> EnvStep:
        """Step the wrapped environment.

        Args:
            action (np.ndarray): The action.

        Returns:
            EnvStep: Its step, the task vector appended to the observation
                and the task's name in ``env_info['task_name']`` (the
                wrapped environment's, when it gives one).

        """
        env_step = self._env.step(action)
        env_info = dict(env_step.env_info)
        # (an environment that names its task, Meta-World ML10/ML45 by
        # class, keeps its name: evaluations group by it)
        env_info.setdefault('task_name', self._names[self._task_index])
        return EnvStep(env_spec=self._spec,
                       action=env_step.action,
                       reward=env_step.reward,
                       observation=self._observe(env_step.observation),
                       env_info=env_info,
                       step_type=env_step.step_type)
