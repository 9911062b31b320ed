"""MQL's meta-test: for each test task, explore, adapt with propensity-
weighted proximal TD3 steps on the training replay, evaluate, and roll every
network back bit for bit.

:class:`MQLAdaptation` is a mixin of :class:`~tcl_garage.algos.MQL`: one
exploration episode (``exploration_episodes``); a few plain TD3 steps on
it; a logistic regression telling its contexts from the training tasks'
(:mod:`tcl_garage.algos.propensity`); many TD3 steps on the training
replay, each transition's losses weighted by its propensity
``beta = exp(-clip(w.x + b, min=-beta_clip))``, with a proximal penalty
``proximal_coef * |theta - theta_meta|^2`` towards the meta-trained
networks; then an evaluation episode with the adapted actor.
``adapt=False`` is the MQL paper's "TD3-context": the test episode straight
away.
"""
import copy
from typing import Any, Dict, List, Sequence, Tuple

from dowel import logger, tabular
from garage import EpisodeBatch, log_multitask_performance
from garage.replay_buffer import PathBuffer
import numpy as np
import torch
from torch import nn

from tcl_garage.algos.mql_networks import ContextActor
from tcl_garage.algos.mql_replay import buffer_path, gather
from tcl_garage.algos.propensity import (effective_sample_size,
                                         fit_logistic_regression,
                                         propensity_weights)
from tcl_garage.algos.tensors import to_device


class MQLAdaptation:
    """Meta-test and adaptation of an :class:`~tcl_garage.algos.MQL`."""

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
            test_buffer.add_path(buffer_path(path))
        n_test = test_buffer.n_transitions_stored
        # 1. Plain TD3 steps on the test task's own transitions.
        for step in range(self._plain_adaptation_steps):
            indices = self._rng.integers(n_test, size=self._batch_size)
            batch = self._to_device(gather(test_buffer, indices,
                                           self._history_length))
            self._critic_step(batch)
            if step % self._policy_update_every == 0:
                self._actor_step(batch)
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
            self._critic_step(batch, weights=beta, anchor=anchor)
            if step % self._policy_update_every == 0:
                self._actor_step(batch, weights=beta, anchor=anchor)
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

    def _stateful(self) -> Dict[str, Any]:
        """Every network and optimizer whose state adaptation changes."""
        return dict(actor=self._actor, critic=self._critic,
                    target_actor=self._target_actor,
                    target_critic=self._target_critic,
                    actor_optimizer=self._actor_optimizer,
                    critic_optimizer=self._critic_optimizer)
