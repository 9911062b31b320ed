"""PEARL (Rakelly et al., 2019): garage's, its update written out, its
known defects fixed and its training losses logged.

This is the PEARL baseline of the project and the base class of
:class:`~tcl_garage.algos.TCLPEARL`, so both run with the same code. It
subclasses ``garage.torch.algos.PEARL`` (data collection, buffers, the
meta-test evaluator) and writes its training step out in full in
:meth:`PEARL._update_networks` (``_optimize_policy`` samples the step's
data and calls it): critic and encoder, value function, target network, policy,
with a comment at each gradient fact. A test proves it equal to garage
2021.3.0's step on the same networks and draws. TCL joins that step as one
term of the encoder's loss and one after-step update when a subclass
builds its component (:class:`~tcl_garage.tcl.TCL`, ``self._tcl``;
:class:`~tcl_garage.algos.TCLPEARL`), with its key windows from
:meth:`PEARL._training_context`.

Fixed (docs/garage.md, "Fixes to garage's PEARL", lists each fix and
why): deterministic evaluation; ``num_exploration_episodes``;
``use_next_obs_in_context=True`` and ``use_information_bottleneck=False``;
each test task explores from the prior; gradients of the policy's mean/std
regularisers; exact resume
(:class:`~tcl_garage.algos.exact_resume.ExactResume`); losses logged under
``Train/`` with a non-finite check. The true last next observation is
:class:`~tcl_garage.algos.pearl_worker.PEARLWorker`'s fix.

Given ``env_slots`` (:mod:`tcl_garage.sampling`), it collects every task of
a round at once and evaluates every test task at once, one batched policy
call per step (:class:`~tcl_garage.sampling.MultiTaskCollector`,
:class:`~tcl_garage.sampling.BatchedMetaEvaluator`); without, it samples
one task at a time through garage's sampler, as garage does.
"""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from dowel import logger
from garage.experiment import MetaEvaluator
from garage.torch import global_device
from garage.torch.algos import PEARL as GaragePEARL
from garage.torch.distributions import TanhNormal
import numpy as np
import torch
import torch.nn.functional as F

from tcl_garage.algos.collection_plan import CollectionPlan
from tcl_garage.algos.context_encoder import (context_tensor, context_width,
                                              group_posteriors,
                                              sized_encoder_class)
from tcl_garage.algos.exact_resume import ExactResume
from tcl_garage.algos.optimizers import adam_class
from tcl_garage.algos.pearl_worker import PEARLWorker
from tcl_garage.algos.precision import (autocast, check_precision,
                                        matmul_precision, slow_bf16_warning)
from tcl_garage.algos.tensors import (distribution_checks_off, to_device,
                                      zero_grad)
from tcl_garage.algos.training_statistics import (EpochStatistics,
                                                  TrainingStatistics)
from tcl_garage.tcl.component import TCL
from tcl_garage.tcl.gaussian import kl_to_standard_normal
from tcl_garage.tcl.momentum import soft_update_
from tcl_garage.sampling import BatchedMetaEvaluator, MultiTaskCollector
from tcl_garage.sampling.collector import log_success_per_class
from tcl_garage.sampling.metaworld_protocol import (EVALUATIONS,
                                                    MetaWorldProtocolEvaluator)


class PEARL(EpochStatistics, ExactResume, GaragePEARL):
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
        adam (str): Adam's kernel for the five optimizers, ``foreach`` or
            ``fused`` (:mod:`tcl_garage.algos.optimizers`). An
            ``optimizer_class`` given in ``kwargs`` replaces ``foreach``;
            ``fused`` refuses one.
        compile_step (bool): ``torch.compile`` the device part of each
            training step (:meth:`_update_networks`); on a GPU with CUDA
            graphs.
        precision (str): The training step's precision: ``fp32``,
            ``bf16`` (autocast forward passes, float32 weights, optimizer
            and losses) or ``tf32`` (CUDA only); see
            :mod:`tcl_garage.algos.precision`.
        env_slots (InProcessEnvs or ProcessEnvs or RayEnvs or None): Where
            the vectorised collector's environments live
            (:func:`tcl_garage.sampling.make_env_slots`); None: sample one
            task at a time with ``sampler``, as garage.
        evaluation (str): Meta-test protocol: ``pearl`` (PEARL's) or
            ``metaworld`` (Meta-World's, counted per (task, goal):
            :mod:`tcl_garage.sampling.metaworld_protocol`).
        train_task_classes (Sequence[str] or None): The class of each
            training task (Meta-World ML10/ML45); with ``env_slots``, each
            epoch then logs the success rate of its training episodes per
            class, ``MetaTrain/<class>/SuccessRate`` and
            ``MetaTrain/Average/SuccessRate``
            (:func:`~tcl_garage.sampling.collector.log_success_per_class`).
            None: nothing logged.
        **kwargs: Keyword arguments of ``garage.torch.algos.PEARL``.

    """

    saved_buffer_attributes = ('_replay_buffers', '_context_replay_buffers')

    def __init__(self,
                 env,
                 inner_policy,
                 qf,
                 vf,
                 sampler,
                 *,
                 num_exploration_episodes: int = 10,
                 adam: str = 'foreach',
                 compile_step: bool = False,
                 precision: str = 'fp32',
                 env_slots=None,
                 evaluation: str = 'pearl',
                 train_task_classes: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        check_precision(precision, device_type=None)
        if evaluation not in EVALUATIONS:
            raise ValueError(f'evaluation={evaluation!r}: choose one of '
                             f'{", ".join(EVALUATIONS)}')
        self._evaluation = evaluation
        if (train_task_classes is not None
                and len(train_task_classes) != len(env)):
            raise ValueError(
                f'train_task_classes names {len(train_task_classes)} '
                f'classes for {len(env)} training tasks; give one class '
                'per training task')
        self._train_task_classes = (None if train_task_classes is None else
                                    tuple(train_task_classes))
        if num_exploration_episodes < 1:
            raise ValueError('num_exploration_episodes must be >= 1, got '
                             f'{num_exploration_episodes}')
        kwargs['encoder_class'] = sized_encoder_class(env, kwargs)
        # Adam's multi-tensor (foreach) step by default: bitwise the
        # per-tensor loop's results (garage's default on the CPU), with
        # fewer Python-level ops on small tensors (CUDA's default already).
        optimizer_class = adam_class(adam)
        if 'optimizer_class' in kwargs and adam != 'foreach':
            raise ValueError(f'adam={adam!r} picks the optimizer: give '
                             'optimizer_class or adam, not both')
        kwargs.setdefault('optimizer_class', optimizer_class)
        super().__init__(env, inner_policy, qf, vf, sampler, **kwargs)
        self._num_exploration_episodes = num_exploration_episodes
        self._env_slots = env_slots
        self._collector = (None if env_slots is None else MultiTaskCollector(
            self, env_slots, width=max(1, self._num_tasks_sample)))
        test_env_sampler = kwargs['test_env_sampler']
        self._evaluator = self._make_evaluator(
            test_env_sampler,
            kwargs.get('num_test_tasks') or test_env_sampler.n_tasks)
        self._train_stats = TrainingStatistics()
        self._compile_step = compile_step
        self._precision = precision
        self._compiled_step = None  # built at the first step
        self._epochs_trained = 0
        # TCL's component, on the context encoder: built by a subclass
        # (TCLPEARL); None in PEARL.
        self._tcl: Optional[TCL] = None

    def _make_evaluator(self, test_env_sampler, n_test_tasks):
        """Build the meta-test evaluator (overridable).

        Args:
            test_env_sampler (garage.experiment.TaskSampler): Test tasks.
            n_test_tasks (int): Test tasks per evaluation.

        Returns:
            garage.experiment.MetaEvaluator or BatchedMetaEvaluator: The
                evaluator (batched with ``env_slots``: test tasks in the slots
                after the collector's).

        """
        if self._evaluation == 'metaworld':
            return MetaWorldProtocolEvaluator(test_env_sampler, n_test_tasks,
                                              self._num_exploration_episodes)
        if self._env_slots is not None:
            return BatchedMetaEvaluator(
                test_env_sampler, n_test_tasks,
                self._num_exploration_episodes, self._env_slots,
                first_slot=self._collector.width)
        return MetaEvaluator(test_task_sampler=test_env_sampler,
                             n_test_tasks=n_test_tasks,
                             n_exploration_eps=self._num_exploration_episodes,
                             worker_class=PEARLWorker,
                             worker_args=dict(deterministic=True,
                                              accum_context=True))

    def __getstate__(self):
        """Pickled state: garage's, with the buffers and random states
        (:class:`~tcl_garage.algos.exact_resume.ExactResume`); this epoch's
        statistics (:class:`~tcl_garage.algos.training_statistics.
        EpochStatistics`) and the compiled step are left out.

        Returns:
            dict: The state.

        """
        state = super().__getstate__()
        state['_compiled_step'] = None  # compiled again when resumed
        return state

    def __setstate__(self, state):
        """Unpickle, buffers included (nothing to collect again); random
        states are restored when training resumes (:meth:`train`).

        Args:
            state (dict): From :meth:`__getstate__`.

        """
        has_buffers = '_saved_buffers' in state
        state.setdefault('_precision', 'fp32')  # snapshots before the setting
        state.setdefault('_tcl', None)
        state.setdefault('_train_task_classes', None)
        state['_train_stats'] = TrainingStatistics()  # 0.1 pickled a dict
        super().__setstate__(state)  # garage: empty buffers, re-collect
        if has_buffers:
            self._is_resuming = False

    def train(self, trainer):
        """garage's training loop, continuing a resumed run's random streams;
        with ``env_slots``, the same loop with every task of a round
        collected at once and the test tasks evaluated at once.

        Args:
            trainer (garage.Trainer): The trainer.

        Returns:
            object: garage's return value (None when vectorised).

        """
        self.continue_random_streams()
        device_type = getattr(global_device(), 'type', 'cpu')  # None: CPU
        check_precision(self._precision, device_type)
        slow = slow_bf16_warning(self._precision, device_type)
        if slow is not None:
            logger.log(slow)
        if self._collector is None:
            return super().train(trainer)
        for _ in trainer.step_epochs():
            if trainer.step_itr == 0 or self._is_resuming:
                trainer.total_env_steps += self._collector.collect_initial()
                self._is_resuming = False
            tasks = [np.random.randint(self._num_train_tasks)
                     for _ in range(self._num_tasks_sample)]
            trainer.total_env_steps += self._collector.collect_epoch(tasks)
            if self._train_task_classes is not None:
                log_success_per_class(self._collector.epoch_success,
                                      self._train_task_classes)
            logger.log('Training...')
            self._train_once()
            trainer.step_itr += 1
            logger.log('Evaluating...')
            self._policy.reset_belief()
            self._evaluator.evaluate(self)
        return None

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
            encoder(context_tensor(window_batch,
                                   self._use_next_obs_in_context)))

    def posteriors_from_encoder_output(
            self, params: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Posterior over z from the encoder's output on groups of transitions.

        As PEARL infers it (:meth:`_posterior`), as mean and standard
        deviation.

        Args:
            params (torch.Tensor): Encoder output, :math:`(N, W, D)`: N
                groups (windows) of W transitions.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Mean and standard deviation
                of each group, :math:`(N, L)` each (std 0 without the
                information bottleneck).

        """
        mean, variance = self._posterior(params)
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
        context = context_tensor({
            'observations': eps.observations,
            'actions': eps.actions,
            'rewards': eps.rewards.reshape(-1, 1),
            'next_observations': eps.next_observations,
        }, self._use_next_obs_in_context)
        self._policy.infer_posterior(context[None])
        return self._policy

    def infer_posteriors(self, tasks: Sequence[int]) -> None:
        """Condition the policy on each task's posterior given its context
        buffer, and draw z (posterior inference while collecting).

        Args:
            tasks (Sequence[int]): Distinct task indices; row ``i`` of the
                policy's belief becomes task ``tasks[i]``'s.

        """
        self._policy.infer_posterior(self._sample_context(list(tasks)))

    def set_posteriors(self, means: torch.Tensor,
                       variances: torch.Tensor) -> None:
        """Condition the policy on given posteriors and draw z from them.

        Args:
            means (torch.Tensor): One posterior mean per task, :math:`(T, L)`.
            variances (torch.Tensor): Their variances, :math:`(T, L)`
                (unused without the information bottleneck).

        """
        self._policy.z_means = means
        if self._use_information_bottleneck:  # else z_vars is unused
            self._policy.z_vars = variances
        self._policy.sample_from_belief()

    def get_exploration_policy(self):
        """The policy for a new task, its belief reset to the prior.

        Returns:
            garage.Policy: The exploration policy.

        """
        self._policy.reset_belief()
        return self._policy

    # ------------------------------------------------------------ the update
    def _optimize_policy(self, indices):
        """One gradient step of every network, on the tasks ``indices``.

        The host samples the step's data and sends it to the device; then
        :meth:`_update_networks` (compiled with ``compile_step=True``) does
        the rest on the device.

        Args:
            indices (list[int]): Tasks of this meta-batch (repeats allowed).

        """
        context, context_info = self._training_context(indices)
        batch = self._sample_data(indices)
        with distribution_checks_off(), matmul_precision(self._precision):
            statistics = self._step_function()(context, context_info, *batch)
        for name, value in statistics.items():
            self._record(name, value)

    def _step_function(self):
        """:meth:`_update_networks`, compiled once if asked for.

        Returns:
            callable: The eager method, or its ``torch.compile``: with
                CUDA graphs on a GPU (``mode='reduce-overhead'``), inductor's
                default on the CPU; static shapes (a shape change, e.g.
                shortened TCL windows, compiles again).

        """
        if not self._compile_step:
            return self._update_networks
        if self._compiled_step is None:
            on_gpu = global_device() is not None and (
                global_device().type == 'cuda')
            self._compiled_step = torch.compile(
                self._update_networks,
                mode='reduce-overhead' if on_gpu else None,
                dynamic=False)
        return self._compiled_step

    def _update_networks(self, context: torch.Tensor, context_info: Any,
                         obs: torch.Tensor, actions: torch.Tensor,
                         rewards: torch.Tensor, next_obs: torch.Tensor,
                         terms: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The step on the device: every loss, backward pass and optimizer
        step.

        garage's update (and PEARL's, Rakelly et al. 2019, Algorithm 1):
        critic and encoder, then value function, target and policy. It
        gives garage's results with less work: two backward passes where
        garage makes four (the encoder is back-propagated once, not twice;
        V's and the policy's losses share one pass, which stops at their
        parameters: garage also computed Q-function gradients it then
        zeroed). One difference is intended: the policy's mean/std
        regularisers have gradients (garage computed them from numpy
        copies; see :meth:`_policy_outputs`). Nothing here waits for the
        device: no ``.item()``, no copy back to the host, no branch on a
        tensor's value. With ``precision='bf16'`` the forward passes run
        under bfloat16 autocast and every network output is cast to
        float32 before a loss uses it (``.float()``: a no-op in fp32).

        Args:
            context (torch.Tensor): Each task's context, :math:`(T, N, C)`.
            context_info (object): What :meth:`_training_context` returned
                beside it: TCL's key windows and ids, or None.
            obs (torch.Tensor): Observations, :math:`(T, B, O)`.
            actions (torch.Tensor): Actions, :math:`(T, B, A)`.
            rewards (torch.Tensor): Rewards, :math:`(T, B, 1)`.
            next_obs (torch.Tensor): Next observations, :math:`(T, B, O)`.
            terms (torch.Tensor): Terminal flags, :math:`(T, B, 1)`.

        Returns:
            dict[str, torch.Tensor]: The step's statistics (detached).

        """
        obs, actions, rewards, next_obs, terms = (
            field.flatten(0, 1)
            for field in (obs, actions, rewards, next_obs, terms))

        with autocast(self._precision, context.device):
            # Posterior inference: the encoder runs once, on the step's
            # context (the posterior is float32: _posterior). z is drawn
            # with the reparameterisation trick, so losses through z reach
            # the encoder.
            encoder_output = self.context_encoder(context)
            z_means, z_vars = self._infer_posterior(encoder_output)
            task_z = self._policy.z.repeat_interleave(self._batch_size, 0)

            # Critic. Q(s, a, z) with z NOT detached: the encoder gets its
            # RL gradient from the Q-functions only (PEARL's design).
            obs_actions = torch.cat([obs, actions], dim=1)
            q1_pred = self._qf1(obs_actions, task_z).float()
            q2_pred = self._qf2(obs_actions, task_z).float()
            with torch.no_grad():
                target_v = self.target_vf(next_obs, task_z).float()
                q_target = (rewards * self._reward_scale +
                            (1. - terms) * self._discount * target_v)
            qf_loss = (F.mse_loss(q1_pred, q_target) +
                       F.mse_loss(q2_pred, q_target))

            # Encoder: KL(q(z|c) || N(0, I)) and, with TCL (TCLPEARL),
            # contrastive_loss_scale * L_TCL, its queries this same encoder
            # output and its keys the momentum encoder's.
            encoder_loss, statistics = 0., {}
            if context_info is not None:  # TCL's key windows
                encoder_loss, statistics = self._tcl_loss(encoder_output,
                                                          context_info)
            if self._use_information_bottleneck:
                kl_loss = self._kl_lambda * kl_to_standard_normal(
                    z_means, z_vars)
                encoder_loss = encoder_loss + kl_loss
                statistics['KLLoss'] = kl_loss.detach()

        # First backward pass: the Q-functions get gradients from qf_loss
        # alone (the encoder losses do not reach them); the encoder from
        # qf_loss (through z) and encoder_loss together, and takes ONE
        # optimizer step on their sum (TCL, Algorithm 2, line 15: the
        # encoder steps on KL + critic loss + contrastive_loss_scale * L_TCL).
        zero_grad(self.qf1_optimizer, self.qf2_optimizer,
                   self.context_optimizer)
        (qf_loss + encoder_loss).backward()
        self.qf1_optimizer.step()
        self.qf2_optimizer.step()
        self.context_optimizer.step()

        with autocast(self._precision, context.device):
            # Policy and value function see z detached: neither trains the
            # encoder. The Q-functions are the ones just stepped (garage's
            # order).
            z = task_z.detach()
            new_actions, log_pi, policy_regularizer = self._policy_outputs(
                obs, z)
            obs_new_actions = torch.cat([obs, new_actions], dim=1)
            q1 = self._qf1(obs_new_actions, z).float()
            q2 = self._qf2(obs_new_actions, z).float()
            min_q = torch.min(q1, q2)
            v_pred = self._vf(obs, z).float()
            # V towards min Q(s, a~pi, z) - log pi: the target is detached,
            # so this loss reaches V alone.
            vf_loss = F.mse_loss(v_pred, (min_q - log_pi).detach())
            # Reparameterised actions through the Q-functions.
            policy_loss = (log_pi - min_q).mean() + policy_regularizer

        # Second backward pass, for V and the policy only: the Q-functions
        # get no gradient from the policy loss (they are not stepped by it).
        zero_grad(self.vf_optimizer, self._policy_optimizer)
        (vf_loss + policy_loss).backward(
            inputs=list(self._vf.parameters()) + self._policy_parameters())
        self.vf_optimizer.step()
        self._update_target_network()
        if self._tcl is not None:
            # TCL's key encoder follows the encoder just stepped (its EMA).
            self._tcl.after_step(self.context_encoder)
        self._policy_optimizer.step()

        statistics.update(QLoss=qf_loss.detach(),
                          VLoss=vf_loss.detach(),
                          PolicyLoss=policy_loss.detach(),
                          PosteriorStd=z_vars.sqrt().mean().detach())
        return statistics

    def _training_context(self, indices) -> Tuple[torch.Tensor, Any]:
        """The context of a training step (a subclass's windows).

        Args:
            indices (list[int]): Tasks of this meta-batch.

        Returns:
            tuple: The context, :math:`(T, N, C)`, and TCL's key windows
                with their ids (:meth:`_tcl_loss`; None in PEARL, and
                with TCL off).

        """
        return self._sample_context(indices), None

    def _tcl_loss(
            self, encoder_output: torch.Tensor,
            keys: Tuple[torch.Tensor, Mapping[str, torch.Tensor]]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """TCL's term of the encoder's loss (:meth:`TCL.loss
        <tcl_garage.tcl.TCL.loss>`).

        Args:
            encoder_output (torch.Tensor): The encoder's output on the
                step's context, its K windows per task, :math:`(T, K W, D)`.
            keys (tuple): The key windows as context, :math:`(T K, W, C)`,
                and :meth:`TCL.pair_ids <tcl_garage.tcl.TCL.pair_ids>` on
                the device.

        Returns:
            tuple: ``contrastive_loss_scale * L_TCL`` and its statistics.

        """
        key_context, ids = keys
        window_size = key_context.shape[1]
        # Queries: the encoder's output on the context, window by window.
        query_mean, query_std = self.posteriors_from_encoder_output(
            encoder_output.reshape(-1, window_size, encoder_output.shape[-1]))
        # Keys: the momentum encoder (no gradient).
        key_mean, key_std = self.posteriors_from_encoder_output(
            self._tcl.key_encoder(key_context))
        return self._tcl.loss(query_mean, query_std, key_mean, key_std, ids)

    def _infer_posterior(
            self,
            encoder_output: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Set the policy's belief to q(z | context) and draw z from it.

        Args:
            encoder_output (torch.Tensor): The encoder's output on each
                task's context, :math:`(T, N, D)`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Mean and variance of each
                task's posterior, :math:`(T, L)` each; the drawn z is the
                policy's ``z``.

        """
        means, variances = self._posterior(encoder_output)
        self._policy.z_means = means
        self._policy.z_vars = variances
        if self._use_information_bottleneck:
            # Reparameterised: z = mean + noise * std. The noise is drawn
            # task by task, one normal_ each, as garage's
            # sample_from_belief draws it (the same random stream); the
            # arithmetic runs once for all tasks.
            noise = torch.stack(
                [torch.empty_like(mean).normal_() for mean in means])
            self._policy.z = means + noise * variances.sqrt()
        else:
            self._policy.z = means
        return means, variances

    def _policy_outputs(self, obs: torch.Tensor, z: torch.Tensor):
        """Reparameterised actions of the policy, and its regulariser.

        The regulariser is garage's (and PEARL's reference code's):
        ``policy_mean_reg_coeff * mean(mu^2) + policy_std_reg_coeff *
        mean(log_std^2) + policy_pre_activation_coeff * mean(sum(u^2))``,
        with mu and log_std those of the Gaussian before the tanh and u the
        pre-tanh sample. garage computed the first two terms from numpy
        copies, which gave them no gradient; here they have one, as in
        PEARL's reference code.

        Args:
            obs (torch.Tensor): Observations, :math:`(T B, O)`.
            z (torch.Tensor): Each row's z, :math:`(T B, L)`.

        Returns:
            tuple: Actions :math:`(T B, A)`, their log-likelihoods
                :math:`(T B, 1)`, and the regulariser (a scalar).

        """
        # The policy's module: garage's policy forward() also copies the
        # mean and std to the host for its agent_info (a sync each step).
        # pylint: disable=protected-access
        policy_module = self._policy.networks[1]._module
        dist = policy_module(torch.cat([obs, z], dim=1))
        # garage's TanhNormal keeps the Gaussian before the tanh as _normal.
        gaussian = dist._normal  # pylint: disable=protected-access
        if gaussian.mean.dtype != torch.float32:  # bf16 autocast: sample,
            # and take the log-likelihood and tanh correction, in float32
            dist = TanhNormal(gaussian.mean.float(), gaussian.stddev.float())
            gaussian = dist._normal  # pylint: disable=protected-access
        pre_tanh, actions = dist.rsample_with_pre_tanh_value()
        log_pi = dist.log_prob(value=actions,
                               pre_tanh_value=pre_tanh).unsqueeze(1)
        regularizer = (
            self._policy_mean_reg_coeff * gaussian.mean.pow(2).mean() +
            self._policy_std_reg_coeff * gaussian.stddev.log().pow(2).mean() +
            self._policy_pre_activation_coeff *
            pre_tanh.pow(2).sum(dim=1).mean())
        return actions, log_pi, regularizer

    def _posterior(
            self,
            encoder_output: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Posterior over z of each group of transitions (tasks' contexts,
        or windows), :math:`(N, W, D) \\to` mean and variance :math:`(N, L)`
        (:func:`~tcl_garage.algos.context_encoder.group_posteriors`), in
        float32 whatever the encoder's precision."""
        return group_posteriors(encoder_output.float(), self._latent_dim,
                                self._use_information_bottleneck)

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
        buffer), stacked into one array per field instead of growing arrays
        task by task, then moved to the device in one copy per field.

        Args:
            indices (list[int]): Task indices.

        Returns:
            tuple[torch.Tensor, ...]: Observations, actions, rewards, next
                observations and dones, each of shape
                :math:`(T, N, \\dim)`, float32 on garage's device.

        """
        batches = [
            self._replay_buffers[i].sample_transitions(self._batch_size)
            for i in indices
        ]
        return tuple(
            to_device(np.stack([batch[key] for batch in batches]))
            for key in ('observations', 'actions', 'rewards',
                        'next_observations', 'dones'))

    def _update_target_network(self):
        """Soft update of the target value function, as one fused op.

        ``target <- (1 - tau) target + tau vf`` for all parameters at once
        (garage loops over parameters with three ops each).
        """
        soft_update_(self.target_vf, self._vf, self._soft_target_tau)

    def _train_once(self):
        """One epoch of garage's updates (:meth:`_optimize_policy`), then
        the check and log of its statistics
        (:meth:`~tcl_garage.algos.training_statistics.EpochStatistics.
        _train_epoch`).

        Raises:
            NonFiniteLossError: If a training loss was not finite.

        """
        self._train_epoch(self._num_steps_per_epoch, super()._train_once)

    @property
    def collection_plan(self) -> CollectionPlan:
        """CollectionPlan: The collection protocol and the buffers (read
        afresh each time: a resumed run has new buffers)."""
        return CollectionPlan(
            num_train_tasks=self._num_train_tasks,
            num_initial_steps=self._num_initial_steps,
            num_steps_prior=self._num_steps_prior,
            num_steps_posterior=self._num_steps_posterior,
            num_extra_rl_steps_posterior=self._num_extra_rl_steps_posterior,
            update_post_train=self._update_post_train,
            max_episode_length=self.max_episode_length,
            task_envs=self._env,
            replay_buffers=self._replay_buffers,
            context_replay_buffers=self._context_replay_buffers,
            env_spec=self._single_env.spec)

    @property
    def context_encoder(self) -> torch.nn.Module:
        """torch.nn.Module: The context encoder (inference network)."""
        return self._policy.networks[0]

    @property
    def context_encoder_input_dim(self) -> int:
        """int: Features of one context transition: (o, a, r[, o'])."""
        env = self._single_env
        return context_width(env.observation_space.flat_dim,
                              env.action_space.flat_dim,
                              self._use_next_obs_in_context)

    @property
    def num_exploration_episodes(self) -> int:
        """int: Exploration episodes per test task at meta-test."""
        return self._num_exploration_episodes
