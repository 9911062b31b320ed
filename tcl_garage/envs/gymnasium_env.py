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
            None draws it from numpy's global stream, which garage seeds
            from the run's seed in every sampler worker (never from OS
            entropy).

    A pickled environment keeps its random stream (and its pending seed) but
    no episode in progress: call :meth:`reset` after unpickling. An
    environment with ``env_kwargs`` and a ``task`` (the benchmarks' task
    environments) pickles as those and is rebuilt, not as its simulator.

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
        if seed is None:
            seed = int(np.random.randint(2**31))
        self._next_seed: Optional[int] = seed
        self._step_count: Optional[int] = None

    def random_state(self) -> Dict[str, Any]:
        """The environment's random stream: enough to continue it exactly.

        Returns:
            dict: The gymnasium environment's generator state (None before
                its first reset) and the seed of the next reset (None when
                the stream simply continues).

        """
        generator = getattr(self._env.unwrapped, '_np_random', None)
        return dict(generator=None if generator is None else
                    generator.bit_generator.state,
                    next_seed=self._next_seed)

    def set_random_state(self, state: Dict[str, Any]) -> None:
        """Continue the random stream of :meth:`random_state`.

        Args:
            state (dict): From :meth:`random_state`.

        """
        self._next_seed = state['next_seed']
        if state['generator'] is not None:
            bit_generator = getattr(np.random,
                                    state['generator']['bit_generator'])()
            bit_generator.state = state['generator']
            self._env.unwrapped.np_random = np.random.Generator(bit_generator)

    def __getstate__(self) -> Dict[str, Any]:
        """Pickled state: no episode in progress, the random stream kept.

        Returns:
            dict: The state.

        """
        state = self.__dict__.copy()
        state['_step_count'] = None
        state['_random_state'] = self.random_state()
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        """Unpickle, continuing the random stream.

        Args:
            state (dict): From :meth:`__getstate__`.

        """
        random_state = state.pop('_random_state')
        self.__dict__.update(state)
        self.set_random_state(random_state)

    def __reduce__(self):
        """A task environment pickles as its constructor arguments, task and
        random stream (an ML1 simulator would be tens of MB); others as
        their state.

        Returns:
            tuple: What pickle needs.

        """
        if not hasattr(self, 'env_kwargs') or not hasattr(self, 'task'):
            return object.__reduce_ex__(self, 2)
        return (_rebuild_task_env, (type(self), self.env_kwargs, self.task,
                                    self.random_state()))

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


def _rebuild_task_env(env_type: type, env_kwargs: Dict[str, Any], task: Any,
                      random_state: Dict[str, Any]) -> GymnasiumEnv:
    """Rebuild a pickled task environment (see ``GymnasiumEnv.__reduce__``).

    Args:
        env_type (type): Its class.
        env_kwargs (dict): Its constructor arguments.
        task (object or None): Its task.
        random_state (dict): Its :meth:`GymnasiumEnv.random_state`.

    Returns:
        GymnasiumEnv: The environment, set to the task, its stream continued.

    """
    # A placeholder seed: the pickled stream replaces it (and no global
    # random number is drawn while unpickling).
    env = env_type(**{**env_kwargs, 'seed': 0})
    env.env_kwargs = dict(env_kwargs)
    if task is not None:
        env.set_task(task)
    env.set_random_state(random_state)
    return env
