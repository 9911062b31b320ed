"""The six MuJoCo Controls task families of PEARL's suite, on mujoco 3.

Each family is a ``garage.Environment`` built on a gymnasium MuJoCo v5
environment, following garage's set-task protocol (``sample_tasks(n)``,
``set_task(task)``). Rewards and terminations are the families' own (PEARL's
task suite, Rakelly et al. 2019; each class's docstring gives its formula),
computed from the simulator state after each step; observations are the v5
defaults.

| family | base | task |
| --- | --- | --- |
| :class:`HalfCheetahVelEnv` | HalfCheetah-v5 | goal velocity ~ U[0, 3) |
| :class:`HalfCheetahDirEnv` | HalfCheetah-v5 | direction -1 or +1 |
| :class:`AntDirEnv` | Ant-v5 | direction angle 0 or pi |
| :class:`AntGoalEnv` | Ant-v5 | goal in the disc of radius 3 |
| :class:`HumanoidDirEnv` | Humanoid-v5 | direction angle ~ U[0, 2 pi) |
| :class:`WalkerRandParamsEnv` | Walker2d-v5 | masses, inertias, frictions, damping |
"""
from typing import Any, Dict, List, Optional, Tuple

from gymnasium.envs.mujoco.ant_v5 import AntEnv
from gymnasium.envs.mujoco.half_cheetah_v5 import HalfCheetahEnv
from gymnasium.envs.mujoco.humanoid_v5 import HumanoidEnv
from gymnasium.envs.mujoco.walker2d_v5 import Walker2dEnv
import numpy as np

from tcl_garage.envs.gymnasium_env import GymnasiumEnv

#: Episode length of the MuJoCo Controls suite.
MUJOCO_MAX_EPISODE_LENGTH = 200

Task = Dict[str, Any]


class MujocoTaskEnv(GymnasiumEnv):
    """Base of the families: a v5 environment, a task, a task reward.

    Subclasses set ``base_class`` (and ``base_kwargs``), and implement
    :meth:`sample_tasks`, :meth:`set_task` and :meth:`_task_reward`.

    Args:
        max_episode_length (int): Episode length (suite: 200).
        seed (int or None): Seed of the first reset.

    """

    base_class: type = None
    base_kwargs: Dict[str, Any] = {}

    def __init__(self,
                 max_episode_length: int = MUJOCO_MAX_EPISODE_LENGTH,
                 seed: Optional[int] = None) -> None:
        self.env_kwargs = dict(max_episode_length=max_episode_length,
                               seed=seed)
        super().__init__(self.base_class(**self.base_kwargs),
                         max_episode_length=max_episode_length,
                         seed=seed)
        self._task: Optional[Task] = None

    def sample_tasks(self, num_tasks: int) -> List[Task]:
        """Draw tasks (with ``np.random``: seed it for reproducible tasks).

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: The tasks.

        """
        raise NotImplementedError

    def set_task(self, task: Task) -> None:
        """Switch to a task; takes effect from the next reset.

        Args:
            task (dict): A task from :meth:`sample_tasks`.

        """
        self._task = task

    @property
    def task(self) -> Optional[Task]:
        """dict or None: The current task."""
        return self._task

    def task_vector(self) -> np.ndarray:
        """The current task as a flat vector (what the oracle sees).

        Returns:
            np.ndarray: float32, one size for every task of the family.

        Raises:
            RuntimeError: If no task was set.

        """
        return np.asarray(self._task_vector(self._require_task()),
                          dtype=np.float32).ravel()

    def _task_vector(self, task: Task) -> np.ndarray:
        """The vector of one task (each family defines it).

        Args:
            task (dict): The task.

        Returns:
            np.ndarray: Its vector.

        """
        raise NotImplementedError

    def _require_task(self) -> Task:
        """The current task, or a clear error.

        Returns:
            dict: The task.

        Raises:
            RuntimeError: If no task was set.

        """
        if self._task is None:
            raise RuntimeError(f'{type(self).__name__} has no task: call '
                               'set_task(env.sample_tasks(1)[0]) first')
        return self._task

    def _contact_cost(self, weight: float) -> float:
        """``weight * sum(clip(cfrc_ext, -1, 1)**2)``.

        Args:
            weight (float): Cost weight.

        Returns:
            float: The cost.

        """
        forces = np.clip(self.unwrapped.data.cfrc_ext, -1.0, 1.0)
        return weight * float(np.square(forces).sum())


class HalfCheetahVelEnv(MujocoTaskEnv):
    """Cheetah-Vel: run at a goal velocity.

    Reward ``-|v_x - v_goal| - 0.05 * sum(a^2)``; never terminates.
    """

    base_class = HalfCheetahEnv

    def sample_tasks(self, num_tasks):
        """Goal velocities uniform in [0, 3).

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'velocity': float}`` each.

        """
        return [{'velocity': float(v)}
                for v in np.random.uniform(0.0, 3.0, size=(num_tasks, ))]

    def _task_vector(self, task):
        """The goal velocity, ``[v_goal]``."""
        return [task['velocity']]

    def _task_reward(self, action, reward, terminated, info):
        velocity = info['x_velocity']
        goal = self._require_task()['velocity']
        return (-abs(velocity - goal) - 0.05 * float(np.square(action).sum()),
                False)


class HalfCheetahDirEnv(MujocoTaskEnv):
    """Cheetah-Dir: run forwards or backwards.

    Reward ``d * v_x - 0.05 * sum(a^2)``, ``d`` in {-1, +1}; never
    terminates.
    """

    base_class = HalfCheetahEnv
    #: The family's whole task set (train and test alike).
    ALL_TASKS = ({'direction': -1.0}, {'direction': 1.0})

    def sample_tasks(self, num_tasks):
        """Directions, -1 or +1 with equal chance.

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'direction': -1.0 or 1.0}`` each.

        """
        return [{'direction': float(d)}
                for d in np.random.choice([-1.0, 1.0], size=(num_tasks, ))]

    def _task_vector(self, task):
        """One-hot direction over :attr:`ALL_TASKS` (backward, forward)."""
        return [float(task == option) for option in self.ALL_TASKS]

    def _task_reward(self, action, reward, terminated, info):
        direction = self._require_task()['direction']
        return (direction * info['x_velocity'] -
                0.05 * float(np.square(action).sum()), False)


class AntDirEnv(MujocoTaskEnv):
    """Ant-Dir: run forwards (angle 0) or backwards (angle pi).

    Reward ``v_xy . (cos, sin) - 0.5 * sum(a^2)
    - 5e-4 * sum(clip(cfrc_ext, -1, 1)^2) + 1``; terminates when the torso's
    height leaves [0.2, 1.0] (Ant-v5's health check).
    """

    base_class = AntEnv
    #: The family's whole task set (train and test alike).
    ALL_TASKS = ({'angle': 0.0}, {'angle': float(np.pi)})

    def sample_tasks(self, num_tasks):
        """Direction angles, 0 or pi with equal chance.

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'angle': float}`` each.

        """
        return [{'angle': float(a)}
                for a in np.random.choice([0.0, np.pi], size=(num_tasks, ))]

    def _task_vector(self, task):
        """One-hot direction over :attr:`ALL_TASKS` (forward, backward)."""
        return [float(task == option) for option in self.ALL_TASKS]

    def _task_reward(self, action, reward, terminated, info):
        angle = self._require_task()['angle']
        forward = (info['x_velocity'] * np.cos(angle) +
                   info['y_velocity'] * np.sin(angle))
        return (forward - 0.5 * float(np.square(action).sum()) -
                self._contact_cost(5e-4) + 1.0, terminated)


class AntGoalEnv(MujocoTaskEnv):
    """Ant-Goal-2D: walk to a goal position.

    Reward ``-|x - gx| - |y - gy| - 0.1 * sum(a^2) - 5e-4 *
    sum(clip(cfrc_ext, -1, 1)^2)``; never terminates.
    """

    base_class = AntEnv
    base_kwargs = {'terminate_when_unhealthy': False}

    def sample_tasks(self, num_tasks):
        """Goals uniform in the disc of radius 3.

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'goal': np.ndarray of shape (2,)}`` each.

        """
        radius = 3.0 * np.sqrt(np.random.uniform(size=(num_tasks, )))
        angle = np.random.uniform(0.0, 2.0 * np.pi, size=(num_tasks, ))
        goals = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
        return [{'goal': goal} for goal in goals]

    def _task_vector(self, task):
        """The goal position, ``[x, y]``."""
        return task['goal']

    def _task_reward(self, action, reward, terminated, info):
        goal = self._require_task()['goal']
        position = np.array([info['x_position'], info['y_position']])
        return (-float(np.abs(position - goal).sum()) -
                0.1 * float(np.square(action).sum()) -
                self._contact_cost(5e-4), False)


class HumanoidDirEnv(MujocoTaskEnv):
    """Humanoid-Dir-2D: walk in a direction of the plane.

    Reward ``0.25 * d . v_com_xy - 0.1 * sum(ctrl^2) -
    min(5e-7 * sum(cfrc_ext^2), 10) + 5``; terminates when the torso's
    height leaves [1, 2] (Humanoid-v5's health check).
    """

    base_class = HumanoidEnv

    def sample_tasks(self, num_tasks):
        """Direction angles uniform in [0, 2 pi).

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{'angle': float}`` each.

        """
        return [{'angle': float(a)} for a in np.random.uniform(
            0.0, 2.0 * np.pi, size=(num_tasks, ))]

    def _task_vector(self, task):
        """The goal direction as a unit vector, ``[cos a, sin a]``."""
        return [np.cos(task['angle']), np.sin(task['angle'])]

    def _task_reward(self, action, reward, terminated, info):
        angle = self._require_task()['angle']
        data = self.unwrapped.data
        forward = (info['x_velocity'] * np.cos(angle) +
                   info['y_velocity'] * np.sin(angle))
        contact = min(5e-7 * float(np.square(data.cfrc_ext).sum()), 10.0)
        return (0.25 * forward - 0.1 * float(np.square(data.ctrl).sum()) -
                contact + 5.0, terminated)


class WalkerRandParamsEnv(MujocoTaskEnv):
    """Walker-2D-Rand-Params: walk forwards with randomised physics.

    Each task scales every body mass, body inertia and geom friction by
    ``1.5 ** U(-3, 3)`` and every dof damping by ``1.3 ** U(-3, 3)``, each
    element independently. Setting a task sets the model to the ORIGINAL
    values times the task's scales, so tasks never drift.
    Reward ``dx/dt + 1 - 1e-3 * sum(a^2)``; terminates unless
    ``0.8 < height < 2`` and ``|angle| < 1`` (Walker2d-v5's health check).
    """

    base_class = Walker2dEnv
    #: model field -> base of the log-uniform scale.
    RANDOMISED = {
        'body_mass': 1.5,
        'body_inertia': 1.5,
        'geom_friction': 1.5,
        'dof_damping': 1.3,
    }
    LOG_SCALE_LIMIT = 3.0

    def __init__(self,
                 max_episode_length: int = MUJOCO_MAX_EPISODE_LENGTH,
                 seed: Optional[int] = None) -> None:
        super().__init__(max_episode_length=max_episode_length, seed=seed)
        model = self.unwrapped.model
        self._original = {
            name: getattr(model, name).copy()
            for name in self.RANDOMISED
        }

    def sample_tasks(self, num_tasks):
        """Per-element scales of the randomised model parameters.

        Args:
            num_tasks (int): How many.

        Returns:
            list[dict]: ``{field: scale array of the field's shape}`` each.

        """
        return [{
            name: base**np.random.uniform(-self.LOG_SCALE_LIMIT,
                                          self.LOG_SCALE_LIMIT,
                                          size=self._original[name].shape)
            for name, base in self.RANDOMISED.items()
        } for _ in range(num_tasks)]

    def set_task(self, task):
        """Set the model's parameters to the original ones times the scales.

        Args:
            task (dict): Scales from :meth:`sample_tasks`.

        """
        model = self.unwrapped.model
        for name, original in self._original.items():
            getattr(model, name)[:] = original * task[name]
        super().set_task(task)

    def model_parameters(self) -> Dict[str, np.ndarray]:
        """The current values of the randomised model parameters.

        Returns:
            dict[str, np.ndarray]: Copies, by field name.

        """
        model = self.unwrapped.model
        return {name: getattr(model, name).copy() for name in self.RANDOMISED}

    def _task_vector(self, task):
        """The randomised parameters: each scale's exponent, in [-3, 3].

        Every element of every field of :attr:`RANDOMISED`, in that order
        (``scale = base ** exponent``; 8 masses, 8x3 inertias, 8x3
        frictions and 9 dampings in Walker2d-v5: 65 numbers).
        """
        return np.concatenate([
            np.log(task[name]).ravel() / np.log(base)
            for name, base in self.RANDOMISED.items()
        ])

    def _task_reward(self, action, reward, terminated, info):
        self._require_task()
        return (info['x_velocity'] + 1.0 -
                1e-3 * float(np.square(action).sum()), terminated)


#: name -> (environment class, train tasks, test tasks). The forward/backward
#: families (classes with ``ALL_TASKS``) test on their two train tasks.
MUJOCO_FAMILIES: Dict[str, Tuple[type, int, int]] = {
    'cheetah-vel': (HalfCheetahVelEnv, 100, 30),
    'cheetah-dir': (HalfCheetahDirEnv, 2, 2),
    'ant-dir': (AntDirEnv, 2, 2),
    'ant-goal': (AntGoalEnv, 150, 30),
    'humanoid-dir': (HumanoidDirEnv, 100, 30),
    'walker-rand-params': (WalkerRandParamsEnv, 40, 10),
}
