"""Meta-Q-Learning (Fakoor et al., 2020): TD3 with a recurrent context,
trained on every training task, adapted at meta-test with propensity-
weighted updates on the training replay.

The paper's Table 3 baseline, and TCL's second host
(:class:`~tcl_garage.algos.TCLMQL`). Its pieces:

* networks (:class:`ContextActor`, :class:`ContextCritic`): the actor and
  the critic each read their own context, a GRU summary of the last ``H``
  transitions of the episode (:mod:`tcl_garage.algos.recurrent_context`),
  concatenated to their inputs; the critic's two Q heads share its GRU;
* meta-training (:meth:`MQL.train`): each epoch, whole episodes of the
  sampled training tasks, every task at once (one actor call per step over
  the vectorised collector's environment slots), acting with Gaussian
  exploration noise; then TD3 steps (:meth:`MQL._update`, written out with
  a comment at each gradient fact) on batches drawn uniformly over every
  training task's transitions (MQL's one replay over all tasks: the
  per-task buffers, sampled as their union);
* meta-test (:meth:`MQL.adapt`), for each test task: one exploration
  episode; a few plain TD3 steps on it; a logistic regression telling its
  contexts from the training tasks'
  (:mod:`tcl_garage.algos.propensity`); many TD3 steps on the training
  replay, each transition's losses weighted by its propensity
  ``beta = exp(-clip(w.x + b, min=-beta_clip))``, with a proximal penalty
  ``proximal_coef * |theta - theta_meta|^2`` towards the meta-trained
  networks; then an evaluation episode with the adapted actor, and every
  network and optimizer rolled back bit for bit. ``adapt=False`` is the
  MQL paper's "TD3-context": the test episode straight away.

TCL joins the critic's step as one term of its loss and one after-step
update when a subclass builds its component on the critic's context encoder
(:class:`~tcl_garage.tcl.TCL`, ``self._tcl``;
:class:`~tcl_garage.algos.TCLMQL`).
Logs ``Train/...`` each epoch and garage's ``MetaTest/...`` keys (with
``SuccessRate`` on Meta-World); snapshots hold the buffers and random
states (:class:`~tcl_garage.algos.exact_resume.ExactResume`).
"""
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

from dowel import logger, tabular
from garage import EpisodeBatch, log_multitask_performance
from garage.replay_buffer import PathBuffer
from garage.torch import global_device
import numpy as np
import torch
from torch import nn

from tcl_garage.algos.exact_resume import ExactResume
from tcl_garage.algos.propensity import (effective_sample_size,
                                         fit_logistic_regression,
                                         propensity_weights)
from tcl_garage.algos.recurrent_context import (buffer_histories,
                                                history_width,
                                                HistoryTracker,
                                                RecurrentContext)
from tcl_garage.algos.tensors import to_device, zero_grad
from tcl_garage.algos.training_statistics import TrainingStatistics
from tcl_garage.sampling.collector import (one_torch_thread, rounds_of,
                                           to_buffer_path)
from tcl_garage.sampling.episodes import run_episodes
from tcl_garage.tcl.component import TCL
from tcl_garage.tcl.momentum import soft_update_

#: The fields of a training batch, each :math:`(B, ...)`.
BATCH_FIELDS = ('observations', 'actions', 'rewards', 'next_observations',
                'dones', 'history', 'next_history')


def _mlp(input_dim: int, hidden_sizes: Sequence[int],
         output_dim: int) -> nn.Sequential:
    layers: List[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(input_dim, size), nn.ReLU()]
        input_dim = size
    layers.append(nn.Linear(input_dim, output_dim))
    return nn.Sequential(*layers)


class ContextActor(nn.Module):
    """TD3's deterministic actor on ``(o_t, c_t)``, with its own context.

    Args:
        observation_dim (int): O.
        action_dim (int): A.
        hidden_sizes (Sequence[int]): Hidden sizes of the MLP (ReLU).
        context_size (int): The GRU's hidden units.
        history_length (int): H (kept for the samplers and TCL).
        action_low (np.ndarray): Lower action bounds, :math:`(A,)`.
        action_high (np.ndarray): Upper action bounds, :math:`(A,)`.

    """

    def __init__(self, observation_dim: int, action_dim: int,
                 hidden_sizes: Sequence[int], context_size: int,
                 history_length: int, action_low: np.ndarray,
                 action_high: np.ndarray) -> None:
        super().__init__()
        self.history_length = history_length
        self.context = RecurrentContext(
            history_width(observation_dim, action_dim), context_size)
        self.mlp = _mlp(observation_dim + context_size, hidden_sizes,
                        action_dim)
        self.register_buffer('action_low',
                             torch.as_tensor(action_low, dtype=torch.float32))
        self.register_buffer('action_high',
                             torch.as_tensor(action_high,
                                             dtype=torch.float32))

    def forward(self, observations: torch.Tensor,
                history: torch.Tensor) -> torch.Tensor:
        """Actions, within the bounds.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            history (torch.Tensor): :math:`(B, H, C)`.

        Returns:
            torch.Tensor: :math:`(B, A)`.

        """
        return self.act(observations, self.context(history))

    def act(self, observations: torch.Tensor,
            context: torch.Tensor) -> torch.Tensor:
        """Actions from a context already computed.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            context (torch.Tensor): :math:`(B, context\\_size)`.

        Returns:
            torch.Tensor: :math:`(B, A)`.

        """
        unit = torch.tanh(self.mlp(torch.cat([observations, context], -1)))
        return self.action_low + (unit + 1) * 0.5 * (self.action_high -
                                                     self.action_low)


class ContextCritic(nn.Module):
    """TD3's twin Q-functions on ``(o_t, a_t, c_t)``, sharing one context.

    Args:
        observation_dim (int): O.
        action_dim (int): A.
        hidden_sizes (Sequence[int]): Hidden sizes of each Q-function.
        context_size (int): The GRU's hidden units.

    """

    def __init__(self, observation_dim: int, action_dim: int,
                 hidden_sizes: Sequence[int], context_size: int) -> None:
        super().__init__()
        self.context = RecurrentContext(
            history_width(observation_dim, action_dim), context_size)
        width = observation_dim + action_dim + context_size
        self.q1 = _mlp(width, hidden_sizes, 1)
        self.q2 = _mlp(width, hidden_sizes, 1)

    def forward(self, observations: torch.Tensor, actions: torch.Tensor,
                history: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both Q-values.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            actions (torch.Tensor): :math:`(B, A)`.
            history (torch.Tensor): :math:`(B, H, C)`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Each :math:`(B, 1)`.

        """
        return self.q_values(observations, actions, self.context(history))

    def q_values(self, observations: torch.Tensor, actions: torch.Tensor,
                 context: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both Q-values from a context already computed.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            actions (torch.Tensor): :math:`(B, A)`.
            context (torch.Tensor): :math:`(B, context\\_size)`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Each :math:`(B, 1)`.

        """
        inputs = torch.cat([observations, actions, context], -1)
        return self.q1(inputs), self.q2(inputs)


def gather(buffer: PathBuffer, indices: np.ndarray,
           history_length: int) -> Dict[str, np.ndarray]:
    """Stored transitions with their histories.

    Args:
        buffer (PathBuffer): An MQL buffer (with ``episode_steps``).
        indices (np.ndarray): :math:`(B,)` stored slots.
        history_length (int): H.

    Returns:
        dict[str, np.ndarray]: :data:`BATCH_FIELDS`.

    """
    # pylint: disable=protected-access
    storage = buffer._buffer  # the layout windows.py relies on, too
    batch = {key: storage[key][indices]
             for key in BATCH_FIELDS[:5]}
    batch['history'], batch['next_history'] = buffer_histories(
        buffer, indices, history_length)
    return batch


class MQL(ExactResume):
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
        """One epoch of TD3 steps, then log the mean of each statistic.

        Raises:
            NonFiniteLossError: If a loss was not finite (before the epoch
                is snapshotted).

        """
        self._train_stats = TrainingStatistics()
        for _ in range(self._gradient_steps_per_epoch):
            batch = self._sample_training_batch(self._batch_size)
            self._update(batch, update_actor=(
                self._critic_steps % self._policy_update_every == 0),
                         training=True)
            self._critic_steps += 1
        self._train_stats.check_finite(self._epochs_trained,
                                       self._gradient_steps_per_epoch)
        for name, value in self._train_stats.means().items():
            tabular.record(f'Train/{name}', value)
        self._epochs_trained += 1

    def _update(self,
                batch: Dict[str, torch.Tensor],
                update_actor: bool,
                training: bool = False,
                weights: Optional[torch.Tensor] = None,
                anchor: Optional[Tuple[nn.Module, nn.Module]] = None) -> None:
        """One TD3 step: the critic, then (delayed) the actor and targets.

        Args:
            batch (dict[str, torch.Tensor]): :data:`BATCH_FIELDS`.
            update_actor (bool): Also step the actor and the targets.
            training (bool): A meta-training step: the auxiliary critic
                loss joins and the statistics are recorded.
            weights (torch.Tensor or None): :math:`(B, 1)` propensities
                weighting each transition's losses; None: equal.
            anchor (tuple or None): ``(actor, critic)`` of the meta-trained
                parameters: adds ``proximal_coef * |theta - theta_anchor|^2``
                to each loss; None: no penalty.

        """
        obs, actions = batch['observations'], batch['actions']
        rewards, dones = batch['rewards'], batch['dones']
        next_obs = batch['next_observations']
        history, next_history = batch['history'], batch['next_history']
        low, high = self._actor.action_low, self._actor.action_high

        # ---- critic: both Q-functions and the critic's context encoder ----
        with torch.no_grad():
            # TD3's target policy smoothing: clipped noise on the target
            # actor's action. The next observation's context reads the
            # history that ends with this transition.
            noise = (torch.randn_like(actions) * self._policy_noise).clamp(
                -self._noise_clip, self._noise_clip) * (high - low) / 2
            next_actions = torch.max(torch.min(
                self._target_actor(next_obs, next_history) + noise, high),
                                     low)
            target_q1, target_q2 = self._target_critic(next_obs, next_actions,
                                                       next_history)
            # Clipped double Q: the smaller target; no value past a terminal.
            q_target = rewards + (1 - dones) * self._discount * torch.min(
                target_q1, target_q2)
        # The critic's context encoder gets gradients from the critic loss
        # (and from a subclass's auxiliary loss) only.
        critic_context = self._critic.context(history)
        q1, q2 = self._critic.q_values(obs, actions, critic_context)
        squared_errors = (q1 - q_target).square() + (q2 - q_target).square()
        critic_loss = _weighted_mean(squared_errors, weights)
        critic_objective = critic_loss
        statistics = {}
        if training and self._tcl is not None and self._tcl.enabled:
            # TCL's term on the critic's context encoder (TCLMQL:
            # contrastive_loss_scale * L_TCL): one step on the sum.
            tcl_loss, statistics = self._tcl_loss()
            critic_objective = critic_objective + tcl_loss
        if anchor is not None:
            critic_objective = critic_objective + (
                self._proximal_coef * _squared_distance(self._critic,
                                                        anchor[1]))
        zero_grad(self._critic_optimizer)
        critic_objective.backward()
        self._critic_optimizer.step()
        if training and self._tcl is not None:
            # TCL's key encoder follows the critic's encoder (its EMA).
            self._tcl.after_step(self._critic.context)
        if training:
            self._record('QLoss', critic_loss.detach())
            self._record('QValue', q1.detach().mean())
            for name, value in statistics.items():
                self._record(name, value)
        if not update_actor:
            return

        # ---- actor (delayed): through the critic's first Q-function ----
        # The updated critic's context, as a constant: the actor's gradient
        # reaches Q through the action only.
        with torch.no_grad():
            critic_context = self._critic.context(history)
        actor_actions = self._actor(obs, history)
        q_actor = self._critic.q_values(obs, actor_actions,
                                        critic_context)[0]
        actor_loss = -_weighted_mean(q_actor, weights)
        actor_objective = actor_loss
        if anchor is not None:
            actor_objective = actor_objective + (
                self._proximal_coef * _squared_distance(self._actor,
                                                        anchor[0]))
        zero_grad(self._actor_optimizer)
        # The actor loss steps the actor and its own context encoder only:
        # the critic's parameters receive nothing from it.
        actor_objective.backward(inputs=list(self._actor.parameters()))
        self._actor_optimizer.step()
        soft_update_(self._target_critic, self._critic, self._tau)
        soft_update_(self._target_actor, self._actor, self._tau)
        if training:
            self._record('PolicyLoss', actor_loss.detach())

    # ------------------------------------------------------------ meta-test
    def meta_test(self) -> None:
        """Explore, adapt and evaluate every test task; log ``MetaTest/``.

        Test tasks run in the slots after the training tasks'; every
        network is as it was afterwards.
        """
        updates = self._test_task_sampler.sample(self._num_test_tasks)
        first = self._num_train_tasks
        slots = [first + i for i in range(len(updates))]
        self._envs.set_tasks(dict(zip(slots, updates)))
        actors: List[nn.Module] = [self._actor] * len(slots)
        if self._adapt:
            explored: List[List[dict]] = [[] for _ in slots]
            for _ in range(self._exploration_episodes):
                for row, path in enumerate(
                        self.run_episodes(slots, actors, noise=False)):
                    explored[row].append(path)
            statistics: Dict[str, List[float]] = {}
            for row, paths in enumerate(explored):
                actors[row], task_statistics = self.adapt(paths)
                for name, value in task_statistics.items():
                    statistics.setdefault(name, []).append(value)
            for name, values in statistics.items():
                tabular.record(f'MetaTest/{name}', float(np.mean(values)))
        paths = self.run_episodes(slots, actors, noise=False)
        logger.log('Finished meta-testing...')
        batch = EpisodeBatch.from_list(self._env_spec, paths)
        with tabular.prefix('MetaTest/'):
            log_multitask_performance(self._evaluations, batch,
                                      self._discount)
        self._evaluations += 1

    def adapt(self, episodes: Sequence[dict]) -> Tuple[ContextActor,
                                                       Dict[str, float]]:
        """MQL's adaptation to one test task, rolled back afterwards.

        Args:
            episodes (Sequence[dict]): The test task's exploration
                episodes, in garage's path format.

        Returns:
            tuple: A copy of the adapted actor, and the adaptation's
                statistics (``PropensityMean``, ``PropensityESS``,
                ``ClassifierAccuracy``).

        """
        saved = self.network_state()
        anchor = (copy.deepcopy(self._actor).requires_grad_(False),
                  copy.deepcopy(self._critic).requires_grad_(False))
        test_buffer = PathBuffer(sum(len(p['rewards']) for p in episodes))
        for path in episodes:
            test_buffer.add_path(self._buffer_path(path))
        n_test = test_buffer.n_transitions_stored
        # 1. Plain TD3 steps on the test task's own transitions.
        for step in range(self._plain_adaptation_steps):
            indices = self._rng.integers(n_test, size=self._batch_size)
            self._update(self._to_device(gather(test_buffer, indices,
                                                self._history_length)),
                         update_actor=step % self._policy_update_every == 0)
        # 2. The classifier: the test task's contexts (label 0) against the
        #    training tasks' (label 1), through the actor's context encoder.
        test_all = self._to_device(gather(test_buffer, np.arange(n_test),
                                          self._history_length))
        train_sample = self._sample_training_batch(
            self._classifier_sample_mult * n_test)
        with torch.no_grad():
            features = torch.cat([
                self._classifier_features(test_all),
                self._classifier_features(train_sample)
            ]).cpu().double().numpy()
        labels = np.concatenate([np.zeros(n_test),
                                 np.ones(len(features) - n_test)])
        weight, bias = fit_logistic_regression(features, labels,
                                               self._logistic_c)
        accuracy = float(((features @ weight + bias > 0) == labels).mean())
        weight = to_device(weight)  # once, not at every step
        # 3. Propensity-weighted, proximal TD3 steps on the training replay.
        betas = []
        for step in range(self._weighted_adaptation_steps):
            batch = self._sample_training_batch(self._batch_size)
            with torch.no_grad():
                beta = propensity_weights(self._classifier_features(batch),
                                          weight, bias, self._beta_clip)
            betas.append(beta)
            self._update(batch,
                         update_actor=step % self._policy_update_every == 0,
                         weights=beta,
                         anchor=anchor)
        adapted = copy.deepcopy(self._actor)
        self.load_network_state(saved)  # roll back
        statistics = dict(ClassifierAccuracy=accuracy)
        if betas:
            all_betas = torch.cat(betas)
            statistics.update(
                PropensityMean=float(all_betas.mean()),
                PropensityESS=float(effective_sample_size(all_betas)))
        return adapted, statistics

    def _classifier_features(self, batch: Dict[str, torch.Tensor]):
        """What the propensity classifier reads of each transition: the
        actor's context (and the observation, if asked for)."""
        context = self._actor.context(batch['history'])
        if self._classifier_observations:
            return torch.cat([batch['observations'], context], -1)
        return context

    def network_state(self) -> Dict[str, Any]:
        """Copies of every network's and optimizer's state.

        Returns:
            dict: What :meth:`load_network_state` takes.

        """
        return copy.deepcopy({
            name: module.state_dict()
            for name, module in self._stateful().items()
        })

    def load_network_state(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`network_state`'s copies, bit for bit.

        Args:
            state (dict): From :meth:`network_state`.

        """
        for name, module in self._stateful().items():
            module.load_state_dict(state[name])

    # ----------------------------------------------------------- collection
    def _collect_initial(self) -> int:
        """MQL's burn-in: random-action episodes in every training task.

        Returns:
            int: Environment steps.

        """
        length = self.max_episode_length
        episodes = -(-self._num_initial_steps // length)  # ceil
        tasks = list(range(self._num_train_tasks))
        slots = list(range(len(tasks)))
        self._envs.set_tasks({s: self._env[t] for s, t in zip(slots, tasks)})
        steps = 0
        for _ in range(episodes):
            for task, path in zip(tasks,
                                  self.run_episodes(slots, None, noise=True)):
                self._replay_buffers[task].add_path(self._buffer_path(path))
                steps += len(path['rewards'])
        return steps

    def _collect(self, tasks: Sequence[int]) -> int:
        """``episodes_per_task`` noisy episodes in each drawn task, every
        distinct task of a round at once.

        Args:
            tasks (Sequence[int]): Tasks, in the order drawn (repeats are
                collected in later rounds).

        Returns:
            int: Environment steps.

        """
        steps = 0
        for round_tasks in rounds_of([int(t) for t in tasks]):
            slots = list(range(len(round_tasks)))
            self._envs.set_tasks({s: self._env[t]
                                  for s, t in zip(slots, round_tasks)})
            actors = [self._actor] * len(slots)
            for _ in range(self._episodes_per_task):
                for task, path in zip(
                        round_tasks,
                        self.run_episodes(slots, actors, noise=True)):
                    self._replay_buffers[task].add_path(
                        self._buffer_path(path))
                    steps += len(path['rewards'])
        return steps

    @one_torch_thread()  # a few rows a call: more threads only spin
    def run_episodes(self, slots: Sequence[int],
                     actors: Optional[Sequence[nn.Module]],
                     noise: bool) -> List[dict]:
        """One episode in each slot, stepped together; each row acts with
        its actor on its own history.

        Args:
            slots (Sequence[int]): Environment slots.
            actors (Sequence[nn.Module] or None): One actor per slot (the
                same object for all: one call per step); None: uniform
                random actions.
            noise (bool): Add the exploration noise.

        Returns:
            list[dict]: The episodes, in garage's path format.

        """
        tracker = HistoryTracker(len(slots), self._history_length,
                                 self._history_width)
        low, high = self._action_low, self._action_high
        half_range = (high - low) / 2

        def act(observations: np.ndarray, rows: Sequence[int]) -> np.ndarray:
            if actors is None:
                return self._rng.uniform(low, high,
                                         (len(rows), len(low))).astype(
                                             np.float32)
            history = tracker.histories(rows)
            with torch.no_grad():
                if all(actors[row] is actors[rows[0]] for row in rows):
                    actions = actors[rows[0]](to_device(observations),
                                              to_device(history))
                else:
                    actions = torch.cat([
                        actors[row](to_device(observations[i:i + 1]),
                                    to_device(history[i:i + 1]))
                        for i, row in enumerate(rows)
                    ])
            actions = actions.cpu().numpy()
            if noise:
                actions = actions + self._rng.normal(
                    0, self._exploration_noise, actions.shape) * half_range
            return np.clip(actions, low, high).astype(np.float32)

        return run_episodes(self._envs, slots, act, self.max_episode_length,
                            observe=tracker.push)

    # -------------------------------------------------------------- helpers
    @staticmethod
    def _buffer_path(path: dict) -> Dict[str, np.ndarray]:
        """An episode in the format of MQL's buffers (with each step's
        index in its episode, for the histories)."""
        stored = to_buffer_path(path)
        stored['episode_steps'] = np.arange(len(path['rewards']),
                                            dtype=np.int64)[:, None]
        return stored

    def _sample_training_batch(self, size: int) -> Dict[str, torch.Tensor]:
        """Transitions drawn uniformly over every training task's.

        Args:
            size (int): Transitions.

        Returns:
            dict[str, torch.Tensor]: :data:`BATCH_FIELDS` on garage's
                device, rows in the order drawn.

        """
        sizes = np.array([self._replay_buffers[t].n_transitions_stored
                          for t in range(self._num_train_tasks)])
        ends = np.cumsum(sizes)
        flat = self._rng.integers(ends[-1], size=size)
        tasks = np.searchsorted(ends, flat, side='right')
        indices = flat - (ends - sizes)[tasks]
        parts = {}
        for task in np.unique(tasks):
            rows = np.flatnonzero(tasks == task)
            parts[int(task)] = (rows, gather(self._replay_buffers[int(task)],
                                             indices[rows],
                                             self._history_length))
        batch = {}
        for key in BATCH_FIELDS:
            first = next(iter(parts.values()))[1][key]
            array = np.empty((size, ) + first.shape[1:], first.dtype)
            for rows, part in parts.values():
                array[rows] = part[key]
            batch[key] = array
        return self._to_device(batch)

    @staticmethod
    def _to_device(batch: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
        return {key: to_device(value) for key, value in batch.items()}

    def _record(self, name: str, value) -> None:
        self._train_stats.record(name, value)

    def _stateful(self) -> Dict[str, Any]:
        return dict(actor=self._actor, critic=self._critic,
                    target_actor=self._target_actor,
                    target_critic=self._target_critic,
                    actor_optimizer=self._actor_optimizer,
                    critic_optimizer=self._critic_optimizer)

    def __getstate__(self):
        """Pickled state (buffers and random states added by
        :class:`ExactResume`), without the epoch's statistics."""
        state = super().__getstate__()
        state['_train_stats'] = TrainingStatistics()
        return state

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
    def train_statistics(self) -> Dict[str, float]:
        """dict[str, float]: This epoch's statistics so far (means)."""
        return self._train_stats.means()

    @property
    def discount(self) -> float:
        """float: The discount."""
        return self._discount


def _weighted_mean(values: torch.Tensor,
                   weights: Optional[torch.Tensor]) -> torch.Tensor:
    """The mean of ``values`` (each row times its weight, if given)."""
    return (values if weights is None else weights * values).mean()


def _squared_distance(module: nn.Module, anchor: nn.Module) -> torch.Tensor:
    """``sum |theta - theta_anchor|^2`` over the parameters (MQL's
    proximal term; the anchor's parameters are constants)."""
    return sum((p - q.detach()).square().sum()
               for p, q in zip(module.parameters(), anchor.parameters()))
