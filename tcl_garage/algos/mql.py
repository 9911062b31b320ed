"""Meta-Q-Learning (Fakoor et al., 2020): TD3 with a recurrent context,
trained on every training task, adapted at meta-test with propensity-
weighted updates on the training replay.

The paper's Table 3 baseline, and TCL's second host
(:class:`~tcl_garage.algos.TCLMQL`). :class:`MQL` is put together from one
module per concern:

* networks (:mod:`~tcl_garage.algos.mql_networks`: :class:`ContextActor`,
  :class:`ContextCritic`): the actor and the critic each read their own
  context, a GRU summary of the last ``H`` transitions of the episode
  (:mod:`tcl_garage.algos.recurrent_context`), concatenated to their
  inputs; the critic's two Q heads share its GRU;
* replay (:mod:`~tcl_garage.algos.mql_replay`): batches drawn uniformly
  over every training task's transitions (MQL's one replay over all tasks:
  the per-task buffers, sampled as their union), with their histories;
* collection (:mod:`~tcl_garage.algos.mql_collection`): each epoch, whole
  episodes of the sampled training tasks, every task at once, acting with
  Gaussian exploration noise;
* the TD3 step (:mod:`~tcl_garage.algos.td3`), written out with a comment
  at each gradient fact; meta-training (:meth:`MQL._train_step`) adds
  TCL's term to the critic's loss when a subclass builds TCL's component
  on the critic's context encoder (:class:`~tcl_garage.tcl.TCL`,
  ``self._tcl``; :class:`~tcl_garage.algos.TCLMQL`);
* meta-test (:mod:`~tcl_garage.algos.mql_adaptation`): explore, adapt
  with propensity-weighted proximal TD3 steps, evaluate, roll back;
* the epoch's statistics and non-finite check, shared with PEARL
  (:class:`~tcl_garage.algos.training_statistics.EpochStatistics`).

Logs ``Train/...`` each epoch and garage's ``MetaTest/...`` keys (with
``SuccessRate`` on Meta-World); snapshots hold the buffers and random
states (:class:`~tcl_garage.algos.exact_resume.ExactResume`).
"""
import copy
from typing import Dict, List, Optional

from dowel import logger
from garage.replay_buffer import PathBuffer
from garage.torch import global_device
import numpy as np
import torch
from torch import nn

from tcl_garage.algos.exact_resume import ExactResume
from tcl_garage.algos.mql_adaptation import MQLAdaptation
from tcl_garage.algos.mql_collection import MQLCollection
from tcl_garage.algos.mql_networks import ContextActor, ContextCritic
from tcl_garage.algos.mql_replay import BATCH_FIELDS, sample_uniformly
from tcl_garage.algos.recurrent_context import history_width
from tcl_garage.algos.td3 import TD3Step
from tcl_garage.algos.tensors import to_device
from tcl_garage.algos.training_statistics import (EpochStatistics,
                                                  TrainingStatistics)
from tcl_garage.tcl.component import TCL

__all__ = ['BATCH_FIELDS', 'ContextActor', 'ContextCritic', 'MQL']


class MQL(MQLCollection, MQLAdaptation, TD3Step, EpochStatistics,
          ExactResume):
    """Meta-Q-Learning on garage's environments and trainer.

    Args:
        env (list[EnvUpdate]): One update per training task.
        test_task_sampler (garage.experiment.TaskSampler): The test tasks.
        actor (ContextActor): The actor.
        critic (ContextCritic): The twin critic.
        env_slots (InProcessEnvs or ProcessEnvs or RayEnvs): Environment
            slots (:func:`tcl_garage.sampling.make_env_slots`).
        env_spec (EnvSpec): The tasks' spec.
        num_test_tasks (int): Test tasks per evaluation.
        max_episode_length (int): Episode length.
        seed (int): Seed of the algorithm's own stream (task draws, batch
            indices, exploration noise).
        batch_size (int): Transitions per gradient step (MQL: 256).
        gradient_steps_per_epoch (int): TD3 steps per epoch.
        num_initial_steps (int): Transitions per training task collected
            with uniform random actions before training (MQL's burn-in).
        num_tasks_sample (int): Training tasks drawn (with replacement)
            each epoch.
        episodes_per_task (int): Episodes per drawn task per epoch.
        replay_buffer_size (int): Capacity of each task's buffer.
        discount (float): Discount.
        soft_target_tau (float): Target networks' soft-update rate.
        lr (float): Adam's step size, actor and critic.
        exploration_noise (float): Std of the Gaussian action noise while
            collecting, a fraction of the half action range.
        policy_noise (float): Std of TD3's target policy smoothing noise
            (same units).
        noise_clip (float): Its clip.
        policy_update_every (int): TD3's delayed actor updates: one per
            this many critic steps (also the target networks' updates).
        adapt (bool): Adapt at meta-test (MQL); False: "TD3-context".
        exploration_episodes (int): Episodes per test task before adapting.
        plain_adaptation_steps (int): TD3 steps on the test episodes.
        weighted_adaptation_steps (int): Propensity-weighted, proximal TD3
            steps on the training replay.
        beta_clip (float): Largest log-propensity.
        logistic_c (float): The classifier's inverse regularisation.
        classifier_sample_mult (int): Training transitions per test
            transition in the classifier's data.
        classifier_observations (bool): The classifier also reads each
            transition's observation beside its context (MQL's
            ``enable_beta_obs_cxt``, on in its Ant-Goal, Humanoid and
            Walker runs).
        proximal_coef (float): Weight of the proximal penalty.

    """

    saved_buffer_attributes = ('_replay_buffers', )

    def __init__(self,
                 env,
                 test_task_sampler,
                 actor: ContextActor,
                 critic: ContextCritic,
                 env_slots,
                 *,
                 env_spec,
                 num_test_tasks: int,
                 max_episode_length: int,
                 seed: int,
                 batch_size: int = 256,
                 gradient_steps_per_epoch: int = 2000,
                 num_initial_steps: int = 1000,
                 num_tasks_sample: int = 5,
                 episodes_per_task: int = 5,
                 replay_buffer_size: int = 1000000,
                 discount: float = 0.99,
                 soft_target_tau: float = 0.005,
                 lr: float = 0.001,
                 exploration_noise: float = 0.3,
                 policy_noise: float = 0.3,
                 noise_clip: float = 0.5,
                 policy_update_every: int = 2,
                 adapt: bool = True,
                 exploration_episodes: int = 1,
                 plain_adaptation_steps: int = 10,
                 weighted_adaptation_steps: int = 100,
                 beta_clip: float = 1.0,
                 logistic_c: float = 0.1,
                 classifier_sample_mult: int = 5,
                 classifier_observations: bool = False,
                 proximal_coef: float = 0.1) -> None:
        for name, value in (('batch_size', batch_size),
                            ('policy_update_every', policy_update_every),
                            ('exploration_episodes', exploration_episodes),
                            ('episodes_per_task', episodes_per_task),
                            ('classifier_sample_mult',
                             classifier_sample_mult)):
            if value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        if not beta_clip > 0 or not logistic_c > 0:
            raise ValueError('beta_clip and logistic_c must be > 0, got '
                             f'{beta_clip} and {logistic_c}')
        self._env = list(env)
        self._test_task_sampler = test_task_sampler
        self._num_train_tasks = len(self._env)
        self._num_test_tasks = num_test_tasks
        self._env_spec = env_spec
        self.max_episode_length = max_episode_length
        self._envs = env_slots
        self._rng = np.random.default_rng(seed)
        self._batch_size = batch_size
        self._gradient_steps_per_epoch = gradient_steps_per_epoch
        self._num_initial_steps = num_initial_steps
        self._num_tasks_sample = num_tasks_sample
        self._episodes_per_task = episodes_per_task
        self._discount = discount
        self._tau = soft_target_tau
        self._lr = lr
        self._exploration_noise = exploration_noise
        self._policy_noise = policy_noise
        self._noise_clip = noise_clip
        self._policy_update_every = policy_update_every
        self._adapt = adapt
        self._exploration_episodes = exploration_episodes
        self._plain_adaptation_steps = plain_adaptation_steps
        self._weighted_adaptation_steps = weighted_adaptation_steps
        self._beta_clip = beta_clip
        self._logistic_c = logistic_c
        self._classifier_sample_mult = classifier_sample_mult
        self._classifier_observations = classifier_observations
        self._proximal_coef = proximal_coef
        self._history_length = actor.history_length
        self._history_width = history_width(env_spec.observation_space.flat_dim,
                                            env_spec.action_space.flat_dim)
        self._action_low = np.asarray(env_spec.action_space.low, np.float32)
        self._action_high = np.asarray(env_spec.action_space.high,
                                       np.float32)
        self._actor = actor
        self._critic = critic
        self._target_actor = copy.deepcopy(actor).requires_grad_(False)
        self._target_critic = copy.deepcopy(critic).requires_grad_(False)
        self._actor_optimizer = torch.optim.Adam(actor.parameters(), lr=lr)
        self._critic_optimizer = torch.optim.Adam(critic.parameters(), lr=lr)
        self._replay_buffers = {
            task: PathBuffer(replay_buffer_size)
            for task in range(self._num_train_tasks)
        }
        self._replay_buffer_size = replay_buffer_size
        self._critic_steps = 0
        self._epochs_trained = 0
        self._evaluations = 0
        self._train_stats = TrainingStatistics()
        # TCL's component, on the critic's context encoder: built by a
        # subclass (TCLMQL); None in MQL.
        self._tcl: Optional[TCL] = None

    def __setstate__(self, state):
        """Unpickle (buffers and random states: :class:`ExactResume`); a
        snapshot from before TCL's component has none.

        Args:
            state (dict): The pickled state.

        """
        state.setdefault('_tcl', None)
        super().__setstate__(state)

    # ------------------------------------------------------------- training
    def train(self, trainer) -> None:
        """Meta-train: each epoch collect, take TD3 steps, meta-test.

        Args:
            trainer (garage.Trainer): The trainer.

        """
        self.continue_random_streams()
        for _ in trainer.step_epochs():
            if trainer.step_itr == 0:
                trainer.total_env_steps += self._collect_initial()
            tasks = self._rng.integers(self._num_train_tasks,
                                       size=self._num_tasks_sample)
            trainer.total_env_steps += self._collect(tasks)
            logger.log('Training...')
            self._train_once()
            trainer.step_itr += 1
            logger.log('Evaluating...')
            self.meta_test()

    def _train_once(self) -> None:
        """One epoch of meta-training steps, then the check and log of
        their statistics.

        Raises:
            NonFiniteLossError: If a loss was not finite (before the epoch
                is snapshotted).

        """

        def take_steps() -> None:
            for _ in range(self._gradient_steps_per_epoch):
                self._train_step(
                    self._sample_training_batch(self._batch_size))

        self._train_epoch(self._gradient_steps_per_epoch, take_steps)

    def _train_step(self, batch: Dict[str, torch.Tensor]) -> None:
        """One meta-training step: the critic (with TCL's term, and then
        its after-step update, when a subclass built TCL), then every
        ``policy_update_every`` critic steps the actor and the targets.

        Args:
            batch (dict[str, torch.Tensor]): :data:`BATCH_FIELDS`.

        """
        tcl_on = self._tcl is not None and self._tcl.enabled
        critic_loss, q1, statistics = self._critic_step(
            batch, auxiliary_loss=self._tcl_loss if tcl_on else None)
        if self._tcl is not None:
            # TCL's key encoder follows the critic's encoder (its EMA).
            self._tcl.after_step(self._critic.context)
        self._record('QLoss', critic_loss.detach())
        self._record('QValue', q1.detach().mean())
        for name, value in statistics.items():
            self._record(name, value)
        if self._critic_steps % self._policy_update_every == 0:
            self._record('PolicyLoss', self._actor_step(batch).detach())
        self._critic_steps += 1

    def _sample_training_batch(self, size: int) -> Dict[str, torch.Tensor]:
        """Transitions drawn uniformly over every training task's
        (:func:`~tcl_garage.algos.mql_replay.sample_uniformly`).

        Args:
            size (int): Transitions.

        Returns:
            dict[str, torch.Tensor]: :data:`BATCH_FIELDS` on garage's
                device, rows in the order drawn.

        """
        buffers = [self._replay_buffers[t]
                   for t in range(self._num_train_tasks)]
        return self._to_device(sample_uniformly(buffers, size, self._rng,
                                                self._history_length))

    @staticmethod
    def _to_device(batch: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
        """Every field of a host batch on garage's device."""
        return {key: to_device(value) for key, value in batch.items()}

    def to(self, device=None) -> None:
        """Move every network, and the optimizers' states, to a device.

        Args:
            device (torch.device or None): None: garage's device.

        """
        device = device or global_device() or torch.device('cpu')
        for module in self.networks:
            module.to(device)
        for optimizer in (self._actor_optimizer, self._critic_optimizer):
            for state in optimizer.state.values():
                for key, value in state.items():
                    if isinstance(value, torch.Tensor) and value.dim() > 0:
                        state[key] = value.to(device)

    # ----------------------------------------------------------- interface
    @property
    def networks(self) -> List[nn.Module]:
        """list[nn.Module]: Actor, critic and their targets."""
        return [self._actor, self._critic, self._target_actor,
                self._target_critic]

    @property
    def actor(self) -> ContextActor:
        """ContextActor: The actor."""
        return self._actor

    @property
    def critic(self) -> ContextCritic:
        """ContextCritic: The twin critic."""
        return self._critic

    @property
    def replay_buffers(self) -> Dict[int, PathBuffer]:
        """dict[int, PathBuffer]: Each training task's transitions."""
        return self._replay_buffers

    @property
    def history_length(self) -> int:
        """int: H, the transitions each context reads."""
        return self._history_length

    @property
    def discount(self) -> float:
        """float: The discount."""
        return self._discount
