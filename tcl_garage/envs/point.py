"""garage's 2-D point-goal tasks with a finite horizon: the small default.

``garage.envs.PointEnv`` moves a point towards a goal drawn per task; its
default episode length is unbounded, and ``SetTaskSampler`` builds each task's
environment with no arguments, so the horizon is fixed by this subclass.
"""
from typing import Tuple

from garage.envs import PointEnv
from garage.experiment.task_sampler import SetTaskSampler
import numpy as np

#: Episode length of :class:`PointTaskEnv`.
POINT_MAX_EPISODE_LENGTH = 20


class PointTaskEnv(PointEnv):
    """garage's ``PointEnv`` with episodes of :data:`POINT_MAX_EPISODE_LENGTH`.

    Args:
        goal (np.ndarray): Goal position, shape (2,).
        arena_size (float): Half-width of the square arena.
        done_bonus (float): Reward on reaching the goal.
        never_done (bool): Never end an episode at the goal.

    """

    def __init__(self,
                 goal: np.ndarray = np.array((1., 1.), dtype=np.float32),
                 arena_size: float = 5.,
                 done_bonus: float = 0.,
                 never_done: bool = True) -> None:
        super().__init__(goal=goal,
                         arena_size=arena_size,
                         done_bonus=done_bonus,
                         never_done=never_done,
                         max_episode_length=POINT_MAX_EPISODE_LENGTH)


def make_point_benchmark(
        seed: int = 0,
        num_train_tasks: int = 8,
        num_test_tasks: int = 4
) -> Tuple[list, SetTaskSampler, int, int]:
    """Point-goal train tasks and a test task sampler.

    Args:
        seed (int): Seeds the goals drawn for the training tasks.
        num_train_tasks (int): Number of training tasks.
        num_test_tasks (int): Test tasks per evaluation.

    Returns:
        tuple: Training environment updates (list), test task sampler,
            number of train tasks, number of test tasks.

    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        train_envs = SetTaskSampler(PointTaskEnv).sample(num_train_tasks)
    finally:
        np.random.set_state(state)
    return (train_envs, SetTaskSampler(PointTaskEnv), num_train_tasks,
            num_test_tasks)
