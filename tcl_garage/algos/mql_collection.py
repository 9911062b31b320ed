"""MQL's data collection: the burn-in with random actions, then each
epoch's noisy episodes in the drawn training tasks, every task of a round
at once (one actor call per step over the vectorised collector's
environment slots), each row acting on its own history.

:class:`MQLCollection` is a mixin of :class:`~tcl_garage.algos.MQL`.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
from torch import nn

from tcl_garage.algos.mql_replay import buffer_path
from tcl_garage.algos.recurrent_context import HistoryTracker
from tcl_garage.algos.tensors import to_device
from tcl_garage.sampling.collector import one_torch_thread, rounds_of
from tcl_garage.sampling.episodes import run_episodes


class MQLCollection:
    """Collection of an :class:`~tcl_garage.algos.MQL`."""

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
                self._replay_buffers[task].add_path(buffer_path(path))
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
                        buffer_path(path))
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
