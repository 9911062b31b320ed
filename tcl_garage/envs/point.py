"""garage's 2-D point-goal tasks with a finite horizon: the small default.

``garage.envs.PointEnv`` moves a point towards a goal drawn per task
(``sample_tasks``, ``set_task``); its default episode length is unbounded, so
this subclass fixes it. ``make_benchmark('point')`` splits its tasks.
"""
from garage.envs import PointEnv
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
        self.env_kwargs = {}

    def task_vector(self) -> np.ndarray:
        """The goal position, ``[x, y]`` (what the oracle sees).

        Returns:
            np.ndarray: float32.

        """
        return np.asarray(self._goal, dtype=np.float32).copy()
