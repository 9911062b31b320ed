"""PEARL's 2-D point-robot tasks on garage's ``PointEnv``: the small,
fast benchmark of the demo and the tests.

``garage.envs.PointEnv`` moves a point from the origin towards a goal; the
reward is minus the distance, the observation the position and the
distance. This subclass makes it the point robot of PEARL (Rakelly et al.
2019): goals on the upper half of the unit circle (garage draws them in a
square, where 40 training goals leave large gaps between them), 20-step
episodes (unbounded in garage), and the action space every other benchmark
has, ``[-1, 1]^2``, scaled to garage's step of at most 0.1 per coordinate
(garage's own ``[-0.1, 0.1]`` box lets a tanh policy saturate against the
clip, so most of its action range does the same thing). Standing still
earns -20 an episode, heading straight for the goal about -5.5.
``make_benchmark('point')`` splits its tasks.
"""
import dataclasses

import akro
from garage import EnvStep
from garage.envs import PointEnv
import numpy as np

#: Episode length of :class:`PointTaskEnv`.
POINT_MAX_EPISODE_LENGTH = 20
#: Largest move per coordinate and step (garage's action bound).
POINT_STEP_SIZE = 0.1
_ACTION_SPACE = akro.Box(low=-1., high=1., shape=(2, ), dtype=np.float32)


class PointTaskEnv(PointEnv):
    """garage's ``PointEnv``: goals on the upper unit half circle, episodes of
    :data:`POINT_MAX_EPISODE_LENGTH`, actions in ``[-1, 1]^2`` moving the
    point by :data:`POINT_STEP_SIZE` times the action.

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

    @property
    def action_space(self) -> akro.Box:
        """akro.Box: ``[-1, 1]^2`` (garage's step bound is applied in step)."""
        return _ACTION_SPACE

    def step(self, action: np.ndarray) -> EnvStep:
        """Moves by ``POINT_STEP_SIZE * clip(action, -1, 1)``.

        Args:
            action (np.ndarray): Shape (2,), in ``[-1, 1]``.

        Returns:
            EnvStep: garage's step, with the action as given; its info
                holds the ``goal`` and ``success`` (within one diagonal step
                of the goal, as in garage).

        """
        move = POINT_STEP_SIZE * np.clip(action, -1., 1.)
        env_step = super().step(move)
        distance = -env_step.reward
        success = distance < POINT_STEP_SIZE * np.sqrt(2.)
        # garage's info holds the task as a dict, which garage's rollout
        # stacks into a dict of arrays that EpisodeBatch cannot concatenate.
        return dataclasses.replace(env_step,
                                   action=action,
                                   env_info={
                                       'goal': self.task_vector(),
                                       'success': success
                                   })

    def sample_tasks(self, num_tasks: int) -> list:
        """Goals on the upper half of the unit circle, at uniform angles
        (from ``np.random``, as garage's).

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'goal': np.ndarray of shape (2,)}`` each.

        """
        angles = np.random.uniform(0., np.pi, size=num_tasks)
        goals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return [{'goal': goal.astype(np.float32)} for goal in goals]
