"""garage's PEARL with its known defects fixed and its training losses logged.

This is the PEARL baseline of the project and the base class of
:class:`~tcl_garage.algos.TCLPEARL`, so both run with the same fixes. It
subclasses ``garage.torch.algos.PEARL`` and overrides small hooks only; the
update itself (``_optimize_policy``) is garage's.

Fixed (DESIGN section 5):

* deterministic evaluation: garage's ``PEARLWorker.step_episode`` draws a
  second action after choosing the mean, so ``deterministic`` had no effect;
* the number of exploration episodes at meta-test is a setting
  (``num_exploration_episodes``; garage hard-codes 10);
* ``use_next_obs_in_context=True`` (the encoder's input lacked the next
  observation, and ``adapt_policy`` ignored it) and
  ``use_information_bottleneck=False`` (the encoder's output was still twice
  the latent size);
* meta-test exploration of each test task starts from the prior (garage kept
  the posterior of the previous test task);
* the KL, Q-function, value-function and policy losses and the posterior's
  standard deviation are logged each epoch under ``Train/`` (garage logs
  none).
"""
from typing import Dict, List, Mapping, Optional, Tuple

from dowel import tabular
from garage import TimeStep
from garage.experiment import MetaEvaluator
from garage.torch import global_device
from garage.torch.algos import PEARL as GaragePEARL
from garage.torch.algos.pearl import PEARLWorker as GaragePEARLWorker
from garage.torch.embeddings import MLPEncoder
import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from tcl_garage.gaussian import product_of_gaussians


class PEARLWorker(GaragePEARLWorker):
    """garage's PEARL worker, drawing one action per step.

    With ``deterministic=True`` the action is the policy's mean (garage drew
    a second, stochastic action that overwrote it).

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
            if not env_step.last:
                self._prev_obs = env_step.observation
                return False
        self._lengths.append(self._eps_length)
        self._last_observations.append(self._prev_obs)
        return True


def _context_width(obs_dim: int, action_dim: int, use_next_obs: bool) -> int:
    """Features of one context transition: (o, a, r[, o']).

    Args:
        obs_dim (int): Observation size.
        action_dim (int): Action size.
        use_next_obs (bool): The next observation is in the context.

    Returns:
        int: The width.

    """
    return obs_dim * (2 if use_next_obs else 1) + action_dim + 1


class _EncoderWithDims:
    """Builds the context encoder with the input and output sizes PEARL needs.

    garage sizes the encoder for (o, a, r) inputs and a Gaussian output
    whatever the settings; this factory overrides both sizes.

    Args:
        encoder_class (type): The encoder class, e.g. ``MLPEncoder``.
        input_dim (int): Size of one context transition.
        output_dim (int): Size of the encoder's output per transition.

    """

    def __init__(self, encoder_class: type, input_dim: int,
                 output_dim: int) -> None:
        self._encoder_class = encoder_class
        self._input_dim = input_dim
        self._output_dim = output_dim

    def __call__(self, *, input_dim: int, output_dim: int, **kwargs):
        """Build the encoder, ignoring garage's sizes.

        Args:
            input_dim (int): garage's input size (ignored).
            output_dim (int): garage's output size (ignored).
            **kwargs: Other encoder arguments (``hidden_sizes``).

        Returns:
            garage.torch.embeddings.ContextEncoder: The encoder.

        """
        del input_dim, output_dim
        return self._encoder_class(input_dim=self._input_dim,
                                   output_dim=self._output_dim,
                                   **kwargs)


class _BackwardRecorder(TorchFunctionMode):
    """Records every loss that ``Tensor.backward`` is called on, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: List[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.backward:
            self.losses.append(args[0].detach())
        return func(*args, **(kwargs or {}))


class PEARL(GaragePEARL):
    """PEARL (Rakelly et al., 2019) as in garage, with the fixes above.

    Takes every argument of ``garage.torch.algos.PEARL`` (same defaults),
    plus the settings below.

    Args:
        env (list[EnvUpdate]): One environment update per training task.
        inner_policy (garage.torch.policies.Policy): Policy on
            (observation, z).
        qf (torch.nn.Module): Q-function on (observation, action, z).
        vf (torch.nn.Module): Value function on (observation, z).
        sampler (garage.sampler.Sampler): Sampler; give it
            ``worker_class=PEARLWorker`` from this module.
        num_exploration_episodes (int): Episodes collected in each test task
            before the policy adapts at meta-test (PEARL's MuJoCo protocol:
            2; Meta-World: 10).
        **kwargs: Keyword arguments of ``garage.torch.algos.PEARL``.

    """

    _LOSS_NAMES_WITH_KL = ('KLLoss', 'QLoss', 'VLoss', 'PolicyLoss')

    def __init__(self,
                 env,
                 inner_policy,
                 qf,
                 vf,
                 sampler,
                 *,
                 num_exploration_episodes: int = 10,
                 **kwargs) -> None:
        if num_exploration_episodes < 1:
            raise ValueError('num_exploration_episodes must be >= 1, got '
                             f'{num_exploration_episodes}')
        use_next_obs = kwargs.get('use_next_obs_in_context', False)
        use_ib = kwargs.get('use_information_bottleneck', True)
        if use_next_obs or not use_ib:
            probe = env[0]()
            obs_dim = probe.observation_space.flat_dim
            action_dim = probe.action_space.flat_dim
            probe.close()
            kwargs['encoder_class'] = _EncoderWithDims(
                kwargs.get('encoder_class', MLPEncoder),
                input_dim=_context_width(obs_dim, action_dim, use_next_obs),
                output_dim=2 * kwargs['latent_dim']
                if use_ib else kwargs['latent_dim'])
        super().__init__(env, inner_policy, qf, vf, sampler, **kwargs)
        self._num_exploration_episodes = num_exploration_episodes
        test_env_sampler = kwargs['test_env_sampler']
        self._evaluator = self._make_evaluator(
            test_env_sampler,
            kwargs.get('num_test_tasks') or test_env_sampler.n_tasks)
        self._train_stats: Dict[str, List[torch.Tensor]] = {}

    def _make_evaluator(self, test_env_sampler, n_test_tasks):
        """Build the meta-test evaluator (overridable).

        Args:
            test_env_sampler (garage.experiment.TaskSampler): Test tasks.
            n_test_tasks (int): Test tasks per evaluation.

        Returns:
            garage.experiment.MetaEvaluator: The evaluator.

        """
        return MetaEvaluator(test_task_sampler=test_env_sampler,
                             n_test_tasks=n_test_tasks,
                             n_exploration_eps=self._num_exploration_episodes,
                             worker_class=PEARLWorker,
                             worker_args=dict(deterministic=True,
                                              accum_context=True))

    def __getstate__(self):
        """Pickled state: garage's, without this epoch's statistics.

        Returns:
            dict: The state.

        """
        state = super().__getstate__()
        state['_train_stats'] = {}
        return state

    def _context_tensor(self, batch: Mapping[str, np.ndarray]) -> torch.Tensor:
        """Join transition fields into PEARL's context layout.

        Args:
            batch (dict[str, np.ndarray]): ``observations``, ``actions``,
                ``rewards`` (trailing size 1) and, when next observations are
                used in the context, ``next_observations``; any leading shape.

        Returns:
            torch.Tensor: (o, a, r[, o']) concatenated on the last axis, as a
                float tensor on garage's device.

        """
        fields = [batch['observations'], batch['actions'], batch['rewards']]
        if self._use_next_obs_in_context:
            fields.append(batch['next_observations'])
        return torch.as_tensor(np.concatenate(fields, axis=-1),
                               dtype=torch.float32,
                               device=global_device())

    def window_posteriors(
            self,
            window_batch: Mapping[str, np.ndarray],
            encoder: Optional[torch.nn.Module] = None
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Posterior over z of each window: product of its Gaussian factors.

        Args:
            window_batch (dict[str, np.ndarray]): Transition fields of shape
                :math:`(N, W, \\dim)`.
            encoder (torch.nn.Module or None): Encoder with PEARL's output
                head; default the context encoder.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Mean and standard deviation
                of each window, :math:`(N, L)` each (std 0 without the
                information bottleneck).

        """
        if encoder is None:
            encoder = self.context_encoder
        params = encoder(self._context_tensor(window_batch))
        latent = self._latent_dim
        if not self._use_information_bottleneck:
            mean = params.mean(dim=1)
            return mean, torch.zeros_like(mean)
        mean, variance = product_of_gaussians(
            params[..., :latent], F.softplus(params[..., latent:]), dim=1)
        return mean, variance.sqrt()

    def adapt_policy(self, exploration_policy, exploration_episodes):
        """Infer the posterior of a test task from its exploration episodes.

        Args:
            exploration_policy (garage.Policy): The policy that explored.
            exploration_episodes (garage.EpisodeBatch): Its episodes.

        Returns:
            garage.Policy: The policy, conditioned on the posterior.

        """
        del exploration_policy
        eps = exploration_episodes
        context = self._context_tensor({
            'observations': eps.observations,
            'actions': eps.actions,
            'rewards': eps.rewards.reshape(-1, 1),
            'next_observations': eps.next_observations,
        })
        self._policy.infer_posterior(context[None])
        return self._policy

    def get_exploration_policy(self):
        """The policy for a new task, its belief reset to the prior.

        Returns:
            garage.Policy: The exploration policy.

        """
        self._policy.reset_belief()
        return self._policy

    def _record(self, name: str, value: torch.Tensor) -> None:
        """Keep one step's value of a statistic for this epoch's log.

        Args:
            name (str): Key, logged as ``Train/<name>``.
            value (torch.Tensor): Scalar (kept on its device, no sync).

        """
        self._train_stats.setdefault(name, []).append(value.detach())

    def _optimize_policy(self, indices):
        """garage's update, recording the losses it back-propagates.

        Args:
            indices (list[int]): Tasks of this meta-batch.

        Raises:
            RuntimeError: If garage's update no longer back-propagates the
                losses expected here.

        """
        with _BackwardRecorder() as recorder:
            super()._optimize_policy(indices)
        names = (self._LOSS_NAMES_WITH_KL if self._use_information_bottleneck
                 else self._LOSS_NAMES_WITH_KL[1:])
        if len(recorder.losses) != len(names):
            raise RuntimeError(
                f'expected garage PEARL to back-propagate {len(names)} '
                f'losses per step, saw {len(recorder.losses)}: is garage '
                '2021.3.0 installed?')
        for name, loss in zip(names, recorder.losses):
            self._record(name, loss)
        self._record('PosteriorStd', self._policy.z_vars.sqrt().mean())

    def _train_once(self):
        """One epoch of updates, then log the mean of each statistic."""
        self._train_stats = {}
        super()._train_once()
        for name, value in self.train_statistics.items():
            tabular.record(f'Train/{name}', value)

    @property
    def train_statistics(self) -> Dict[str, float]:
        """This epoch's statistics so far, averaged over steps.

        Returns:
            dict[str, float]: ``name -> mean``.

        """
        return {
            name: torch.stack(values).float().mean().item()
            for name, values in self._train_stats.items()
        }

    @property
    def context_encoder(self) -> torch.nn.Module:
        """torch.nn.Module: The context encoder (inference network)."""
        return self._policy.networks[0]

    @property
    def context_encoder_input_dim(self) -> int:
        """int: Features of one context transition: (o, a, r[, o'])."""
        env = self._single_env
        return _context_width(env.observation_space.flat_dim,
                              env.action_space.flat_dim,
                              self._use_next_obs_in_context)

    @property
    def num_exploration_episodes(self) -> int:
        """int: Exploration episodes per test task at meta-test."""
        return self._num_exploration_episodes
