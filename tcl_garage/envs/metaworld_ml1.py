"""Meta-World ML1 (v3) environments and tasks through the classic API.

``metaworld.ML1(name, seed=s)`` gives 50 training tasks and, from its own
held-out distribution, test tasks; its ``gym.make`` entry points are broken in
metaworld 3.1.1, so environments are built from its class table and set to a
task with ``set_task``. Observations are 39-d with the goal hidden, actions
4-d; episodes are truncated at 200 steps (the paper) instead of Meta-World's
500. Each step's info carries Meta-World's ``success``, which garage's
evaluation logs as ``SuccessRate``.
"""
from typing import List, Optional, Tuple

import metaworld
import numpy as np

from tcl_garage.envs.gymnasium_env import GymnasiumEnv

#: Episode length used by the paper for Meta-World.
METAWORLD_MAX_EPISODE_LENGTH = 200
#: ML1's training tasks, and the held-out test tasks drawn (paper: 50 / 10).
ML1_NUM_TRAIN_TASKS = 50
#: Meta-World 3's reward functions: v2 (its default) and v1 (the paper's).
REWARD_FUNCTION_VERSIONS = ('v2', 'v1')
ML1_NUM_TEST_TASKS = 10
#: Names of the 50 v3 environments.
ML1_ENV_NAMES: Tuple[str, ...] = tuple(sorted(metaworld.ALL_V3_ENVIRONMENTS))


class MetaWorldML1Env(GymnasiumEnv):
    """One Meta-World v3 environment, set to ML1 tasks.

    Args:
        env_name (str): A v3 name, e.g. ``push-v3``.
        max_episode_length (int): Episode length (paper: 200; Meta-World's
            own limit is 500).
        seed (int or None): Seed of the first reset.
        reward_function_version (str): ``v2`` (Meta-World 3's default) or
            ``v1`` (the reward of the v1 environments the paper ran).

    Raises:
        ValueError: If the name is not a v3 environment, the episode is
            longer than Meta-World allows, or the reward version unknown.

    """

    def __init__(self,
                 env_name: str,
                 max_episode_length: int = METAWORLD_MAX_EPISODE_LENGTH,
                 seed: Optional[int] = None,
                 reward_function_version: str = 'v2') -> None:
        check_env_name(env_name)
        if reward_function_version not in REWARD_FUNCTION_VERSIONS:
            raise ValueError(
                f'reward_function_version={reward_function_version!r}: '
                f'choose one of {", ".join(REWARD_FUNCTION_VERSIONS)}')
        self.env_kwargs = dict(env_name=env_name,
                               max_episode_length=max_episode_length,
                               seed=seed,
                               reward_function_version=reward_function_version)
        env = metaworld.ALL_V3_ENVIRONMENTS[env_name](
            reward_function_version=reward_function_version)
        if max_episode_length > env.max_path_length:
            raise ValueError(f'max_episode_length={max_episode_length} is '
                             'longer than Meta-World allows '
                             f'({env.max_path_length})')
        super().__init__(env, max_episode_length=max_episode_length,
                         seed=seed)
        self._env_name = env_name
        self._task = None

    def set_task(self, task: metaworld.Task) -> None:
        """Set an ML1 task (goal and object positions).

        Args:
            task (metaworld.Task): From ``ML1.train_tasks`` or ``test_tasks``.

        Raises:
            ValueError: If the task belongs to another environment.

        """
        if task.env_name != self._env_name:
            raise ValueError(f'task of {task.env_name} given to '
                             f'{self._env_name}')
        self._env.set_task(task)
        self._task = task

    @property
    def task(self) -> Optional[metaworld.Task]:
        """metaworld.Task or None: The current task."""
        return self._task

    def task_vector(self) -> np.ndarray:
        """The task's random vector: initial object and goal positions.

        What Meta-World randomises per task (for most environments the
        object's position, then the goal's; 3 to 9 numbers).

        Returns:
            np.ndarray: float32.

        Raises:
            RuntimeError: If no task was set.

        """
        if self._task is None:
            raise RuntimeError(f'{self._env_name} has no task: set one of '
                               'ml1_tasks(...) first')
        return np.asarray(self.unwrapped._last_rand_vec,
                          dtype=np.float32).copy()


def check_env_name(env_name: str) -> None:
    """Fail clearly on a name that is not a Meta-World v3 environment.

    Args:
        env_name (str): The name.

    Raises:
        ValueError: Naming the valid names.

    """
    if env_name not in metaworld.ALL_V3_ENVIRONMENTS:
        raise ValueError(f'unknown Meta-World environment {env_name!r}; the '
                         f'50 v3 names are: {", ".join(ML1_ENV_NAMES)}')


def ml1_tasks(env_name: str, seed: int,
              num_train_tasks: int = ML1_NUM_TRAIN_TASKS,
              num_test_tasks: int = ML1_NUM_TEST_TASKS
              ) -> Tuple[List[metaworld.Task], List[metaworld.Task]]:
    """ML1's training tasks and a seeded draw of its held-out test tasks.

    Args:
        env_name (str): A v3 name.
        seed (int): Seeds Meta-World's task generation and the test draw.
        num_train_tasks (int): Train tasks (ML1 has 50).
        num_test_tasks (int): Test tasks drawn from ML1's test tasks.

    Returns:
        tuple[list, list]: Train tasks and test tasks.

    """
    check_env_name(env_name)
    benchmark = metaworld.ML1(env_name, seed=seed)
    train = list(benchmark.train_tasks)[:num_train_tasks]
    pool = list(benchmark.test_tasks)
    picks = np.random.default_rng(seed).choice(len(pool), num_test_tasks,
                                               replace=False)
    return train, [pool[i] for i in picks]
