"""A ``garage.Environment`` around a gymnasium environment.

garage 2021.3.0's ``GymEnv`` speaks the old gym API (4-tuple ``step``,
``reset()`` without ``seed``) and rejects Meta-World 3 environments. This
adapter speaks gymnasium's: 5-tuple ``step``, ``reset(seed=)``; it ends
episodes with ``StepType.TERMINAL`` on termination and ``StepType.TIMEOUT``
at ``max_episode_length`` (or gymnasium's own truncation), converts spaces to
akro, passes ``info`` through (Meta-World's ``success`` included) and renders
only when asked.
"""
from typing import Any, Dict, Optional, Tuple

import akro
from garage import Environment, EnvSpec, EnvStep, StepType
import gymnasium
import numpy as np


def akro_space(space: gymnasium.spaces.Space) -> akro.Space:
    """The akro equivalent of a gymnasium Box or Discrete space.

    Args:
        space (gymnasium.spaces.Space): Box or Discrete.

    Returns:
        akro.Space: The same space for garage.

    Raises:
        TypeError: For other space types.

    """
    if isinstance(space, gymnasium.spaces.Box):
        return akro.Box(low=space.low, high=space.high, dtype=space.dtype)
    if isinstance(space, gymnasium.spaces.Discrete):
        return akro.Discrete(int(space.n))
    raise TypeError(f'no akro equivalent for {type(space).__name__}: only '
                    'Box and Discrete spaces are supported')


class GymnasiumEnv(Environment):
    """A gymnasium environment as a ``garage.Environment``.

    Args:
        env (gymnasium.Env): The environment (not wrapped in a TimeLimit:
            this adapter truncates episodes itself).
        max_episode_length (int): Steps after which an episode ends with
            ``StepType.TIMEOUT``.
        seed (int or None): Seed of the first ``reset``; later resets continue
            the environment's random stream. :meth:`seed` sets it again.

    """

    def __init__(self,
                 env: gymnasium.Env,
                 max_episode_length: int,
                 seed: Optional[int] = None) -> None:
        if max_episode_length < 1:
            raise ValueError('max_episode_length must be >= 1, got '
                             f'{max_episode_length}')
        self._env = env
        self._max_episode_length = int(max_episode_length)
        self._observation_space = akro_space(env.observation_space)
        self._action_space = akro_space(env.action_space)
        self._spec = EnvSpec(self._observation_space, self._action_space,
                             self._max_episode_length)
        self._next_seed = seed
        self._step_count: Optional[int] = None

    @property
    def unwrapped(self) -> gymnasium.Env:
        """gymnasium.Env: The gymnasium environment itself."""
        return self._env.unwrapped

    @property
    def action_space(self) -> akro.Space:
        """akro.Space: The action space."""
        return self._action_space

    @property
    def observation_space(self) -> akro.Space:
        """akro.Space: The observation space."""
        return self._observation_space

    @property
    def spec(self) -> EnvSpec:
        """EnvSpec: Spaces and max_episode_length."""
        return self._spec

    @property
    def render_modes(self) -> list:
        """list: Render modes of the gymnasium environment."""
        return list(self._env.metadata.get('render_modes', []))

    def seed(self, seed: Optional[int]) -> None:
        """Seed the next :meth:`reset`.

        Args:
            seed (int or None): The seed.

        """
        self._next_seed = seed

    def reset(self) -> Tuple[np.ndarray, Dict[str, Any]]:
        """Start an episode.

        Returns:
            tuple[np.ndarray, dict]: First observation and episode info.

        """
        if self._next_seed is not None:
            observation, _ = self._env.reset(seed=self._next_seed)
            self._next_seed = None
        else:
            observation, _ = self._env.reset()
        self._step_count = 0
        return observation, {}

    def step(self, action: np.ndarray) -> EnvStep:
        """Take one step.

        Args:
            action (np.ndarray): The action.

        Returns:
            EnvStep: The step; its ``step_type`` says how the episode ends.

        Raises:
            RuntimeError: If called before :meth:`reset` or after the
                episode ended.

        """
        if self._step_count is None:
            raise RuntimeError('call reset() before step(), and again after '
                               'an episode ends')
        observation, reward, terminated, truncated, info = self._env.step(
            action)
        reward, terminated = self._task_reward(action, reward, terminated,
                                               info)
        self._step_count += 1
        if terminated:
            step_type = StepType.TERMINAL
        elif truncated or self._step_count >= self._max_episode_length:
            step_type = StepType.TIMEOUT
        elif self._step_count == 1:
            step_type = StepType.FIRST
        else:
            step_type = StepType.MID
        if step_type in (StepType.TERMINAL, StepType.TIMEOUT):
            self._step_count = None
        return EnvStep(env_spec=self._spec,
                       action=action,
                       reward=float(reward),
                       observation=observation,
                       env_info=info,
                       step_type=step_type)

    def _task_reward(self, action: np.ndarray, reward: float,
                     terminated: bool,
                     info: Dict[str, Any]) -> Tuple[float, bool]:
        """Reward and termination of this task (hook; default: unchanged).

        Args:
            action (np.ndarray): The action taken.
            reward (float): The gymnasium environment's reward.
            terminated (bool): Its termination flag.
            info (dict): Its info (may be extended in place).

        Returns:
            tuple[float, bool]: Reward and termination.

        """
        del action, info
        return reward, terminated

    def render(self, mode: str):
        """Render, if the gymnasium environment was made with a render mode.

        Args:
            mode (str): Must be the environment's ``render_mode``.

        Returns:
            object: What gymnasium's ``render`` returns.

        Raises:
            ValueError: If the environment renders in another mode, or not
                at all.

        """
        if self._env.render_mode != mode:
            raise ValueError(f'this environment renders in mode '
                             f'{self._env.render_mode!r}, not {mode!r}: '
                             'build it with render_mode set')
        return self._env.render()

    def visualize(self) -> None:
        """Open a window: not supported (headless); use :meth:`render`."""
        raise NotImplementedError('no on-screen view: build the environment '
                                  "with render_mode='rgb_array' and call "
                                  'render()')

    def close(self) -> None:
        """Close the gymnasium environment."""
        self._env.close()
