"""garage's PEARL worker with its two defects fixed (one action per step,
the true last next observation), for garage's sequential sampler and the
analysis rollouts; the vectorised collector runs its own episodes
(:mod:`tcl_garage.sampling.episodes`)."""
from garage import TimeStep
from garage.torch.algos.pearl import PEARLWorker as GaragePEARLWorker


class PEARLWorker(GaragePEARLWorker):
    """garage's PEARL worker, drawing one action per step and storing the
    true next observation of every step.

    With ``deterministic=True`` the action is the policy's mean (garage drew
    a second, stochastic action that overwrote it). The last step of each
    episode has the observation after its action as its next observation
    (garage stored the one before it, as if the final action had not moved
    the environment).

    Args:
        seed (int): Seed of the worker's random number generators.
        max_episode_length (int or float): Maximum episode length.
        worker_number (int): Index of the worker (offsets the seed).
        deterministic (bool): Act with the policy's mean action.
        accum_context (bool): Add every transition to the policy's context.

    """

    def step_episode(self) -> bool:
        """Take one time step of the current episode.

        Returns:
            bool: True when the episode ended (termination or time limit).

        """
        if self._eps_length < self._max_episode_length:
            action, agent_info = self.agent.get_action(self._prev_obs)
            if self._deterministic:
                action = agent_info['mean']
            env_step = self.env.step(action)
            self._observations.append(self._prev_obs)
            self._env_steps.append(env_step)
            for key, value in agent_info.items():
                self._agent_infos[key].append(value)
            self._eps_length += 1
            if self._accum_context:
                self.agent.update_context(
                    TimeStep.from_env_step(env_step=env_step,
                                           last_observation=self._prev_obs,
                                           agent_info=agent_info,
                                           episode_info=self._episode_info))
            # After the final action too: garage kept the observation
            # before it, so the episode's last next observation was wrong.
            self._prev_obs = env_step.observation
            if not env_step.last:
                return False
        self._lengths.append(self._eps_length)
        self._last_observations.append(self._prev_obs)
        return True
