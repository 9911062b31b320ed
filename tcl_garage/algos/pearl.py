"""garage's PEARL with its known defects fixed and its training losses logged.

This is the PEARL baseline of the project and the base class of
:class:`~tcl_garage.algos.TCLPEARL`, so both run with the same fixes. It
subclasses ``garage.torch.algos.PEARL`` and overrides small hooks only; the
update itself (``_optimize_policy``) is garage's.

Faster than garage's, with the same mathematics (benchmarks/step_time.py):
garage's backward calls are routed through :meth:`PEARL._backward_loss`,
which skips gradients garage computes and throws away, the training batch
is gathered into one array per field, and the target network's soft update
is one fused op.

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
from tcl_garage.momentum import soft_update_


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


class _BackwardRouter(TorchFunctionMode):
    """Hands every ``Tensor.backward`` call to ``route(loss, retain_graph)``.

    garage's update calls ``loss.backward()`` on each of its losses in turn;
    under this mode those calls go to ``route`` (``PEARL._route_backward``,
    which names and records the loss, then back-propagates it); the mode is
    off while ``route`` runs.
    """

    def __init__(self, route) -> None:
        super().__init__()
        self._route = route

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.backward:
            loss = args[0]
            unexpected = [
                name for name, value in kwargs.items()
                if name != 'retain_graph' and value not in (None, False)
            ]
            if len(args) > 1 or unexpected:
                raise RuntimeError(
                    'garage PEARL called backward() with arguments this '
                    'version of tcl_garage does not expect: is garage '
                    '2021.3.0 installed?')
            return self._route(loss, bool(kwargs.get('retain_graph')))
        return func(*args, **kwargs)


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
        self._step_losses: Dict[str, torch.Tensor] = {}
        self._pending_kl_loss: Optional[torch.Tensor] = None

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
        state['_step_losses'] = {}
        state['_pending_kl_loss'] = None
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
        return self.posteriors_from_encoder_output(
            encoder(self._context_tensor(window_batch)))

    def posteriors_from_encoder_output(
            self, params: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Posterior over z from the encoder's output on groups of transitions.

        As PEARL's ``infer_posterior``: with the information bottleneck, the
        product of the Gaussian factors of each group's transitions (mean,
        softplus variance); without it, the mean of their outputs.

        Args:
            params (torch.Tensor): Encoder output, :math:`(N, W, D)`: N
                groups (windows) of W transitions.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Mean and standard deviation
                of each group, :math:`(N, L)` each (std 0 without the
                information bottleneck).

        """
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
        """garage's update, its backward passes routed through
        :meth:`_backward_loss`.

        Args:
            indices (list[int]): Tasks of this meta-batch.

        Raises:
            RuntimeError: If garage's update no longer back-propagates the
                losses expected here.

        """
        names = self._loss_names()
        self._step_losses = {}
        with _BackwardRouter(self._route_backward):
            super()._optimize_policy(indices)
        if len(self._step_losses) != len(names):
            raise RuntimeError(
                f'expected garage PEARL to back-propagate {len(names)} '
                f'losses per step, saw {len(self._step_losses)}: is garage '
                '2021.3.0 installed?')
        for name, loss in self._step_losses.items():
            self._record(name, loss)
        self._record('PosteriorStd', self._policy.z_vars.sqrt().mean())

    def _loss_names(self) -> Tuple[str, ...]:
        """Names of the losses garage back-propagates per step, in order.

        Returns:
            tuple[str, ...]: ``KLLoss`` (with the information bottleneck),
                ``QLoss``, ``VLoss``, ``PolicyLoss``.

        """
        if self._use_information_bottleneck:
            return self._LOSS_NAMES_WITH_KL
        return self._LOSS_NAMES_WITH_KL[1:]

    def _route_backward(self, loss: torch.Tensor, retain_graph: bool) -> None:
        """Name the loss garage back-propagates and pass it on.

        Args:
            loss (torch.Tensor): The loss.
            retain_graph (bool): garage's ``retain_graph`` argument.

        Raises:
            RuntimeError: If garage back-propagates more losses than expected.

        """
        names = self._loss_names()
        if len(self._step_losses) == len(names):
            raise RuntimeError('garage PEARL back-propagated more losses per '
                               'step than expected: is garage 2021.3.0 '
                               'installed?')
        name = names[len(self._step_losses)]
        self._step_losses[name] = loss.detach()
        self._backward_loss(name, loss, retain_graph)

    def _backward_loss(self, name: str, loss: torch.Tensor,
                       retain_graph: bool) -> None:
        """Back-propagate one of garage's losses, without work it discards.

        Same gradients as garage's ``loss.backward()`` for every parameter
        that an optimiser then steps, with less work:

        * ``KLLoss`` waits for ``QLoss`` (garage steps the encoder after
          both), so the encoder is back-propagated once, not twice; losses
          from :meth:`_extra_encoder_losses` join that same pass;
        * ``PolicyLoss`` stops at the policy's parameters: garage also
          computed the Q-functions' weight gradients, which it zeroes
          before using them.

        Args:
            name (str): ``KLLoss``, ``QLoss``, ``VLoss`` or ``PolicyLoss``.
            loss (torch.Tensor): The loss.
            retain_graph (bool): garage's ``retain_graph`` argument.

        """
        if name == 'KLLoss':
            self._pending_kl_loss = loss
        elif name == 'QLoss':
            losses = [loss] + self._extra_encoder_losses()
            if self._pending_kl_loss is not None:
                losses.append(self._pending_kl_loss)
                self._pending_kl_loss = None
            torch.autograd.backward(losses, retain_graph=retain_graph)
        elif name == 'PolicyLoss':
            torch.autograd.backward(loss,
                                    inputs=self._policy_parameters(),
                                    retain_graph=retain_graph)
        else:
            torch.autograd.backward(loss, retain_graph=retain_graph)

    def _extra_encoder_losses(self) -> List[torch.Tensor]:
        """Losses back-propagated with PEARL's critic loss (a hook).

        Subclasses add terms to the context encoder's objective here: their
        gradients join the encoder's single step (TCLPEARL: the TCL loss).

        Returns:
            list[torch.Tensor]: Scalar losses; none in PEARL.

        """
        return []

    def _policy_parameters(self) -> List[torch.Tensor]:
        """The parameters the policy optimiser steps.

        Returns:
            list[torch.Tensor]: The parameters.

        """
        return [
            param for group in self._policy_optimizer.param_groups
            for param in group['params']
        ]

    def _sample_data(self, indices):
        """Sample each task's training batch (garage's ``_sample_data``).

        The same transitions as garage's (the same random draws, buffer by
        buffer), written into one array per field instead of growing arrays
        task by task, then moved to the device in one copy per field.

        Args:
            indices (list[int]): Task indices.

        Returns:
            tuple[torch.Tensor, ...]: Observations, actions, rewards, next
                observations and dones, each of shape
                :math:`(T, N, \\dim)`, float32 on garage's device.

        """
        device = global_device()
        batches = [
            self._replay_buffers[i].sample_transitions(self._batch_size)
            for i in indices
        ]
        fields = []
        for key in ('observations', 'actions', 'rewards',
                    'next_observations', 'dones'):
            host = torch.empty(
                (len(indices), self._batch_size, batches[0][key].shape[-1]),
                dtype=torch.float32,
                pin_memory=device.type == 'cuda')
            host_array = host.numpy()
            for row, batch in enumerate(batches):
                host_array[row] = batch[key]
            fields.append(host.to(device, non_blocking=True))
        return tuple(fields)

    def _update_target_network(self):
        """Soft update of the target value function, as one fused op.

        ``target <- (1 - tau) target + tau vf`` for all parameters at once
        (garage loops over parameters with three ops each).
        """
        soft_update_(self.target_vf, self._vf, self._soft_target_tau)

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
