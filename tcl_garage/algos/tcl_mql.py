"""TCL-MQL: MQL whose critic's context encoder also learns the trajectory
contrastive loss, through the same TCL core as TCL-PEARL.

Two hooks of :class:`~tcl_garage.algos.MQL`'s step:

* ``_auxiliary_critic_loss``: ``contrastive_loss_scale * L_TCL``. Each
  meta-training step cuts ``windows_per_task`` query windows of ``H``
  transitions (the GRU's history length: a window is one full history)
  from whole episodes of each of ``tcl_tasks`` drawn tasks' buffers, each
  with its key window
  (:func:`~tcl_garage.tcl.windows.sample_window_pairs`); queries go through
  the critic's live context encoder, keys through its momentum copy
  (:class:`~tcl_garage.tcl.momentum.MomentumEncoder`); MQL's context is
  deterministic, so the similarity is the 2-Wasserstein one of point
  masses, the negative squared distance
  (:func:`~tcl_garage.tcl.loss.trajectory_contrastive_loss` with no std).
  MQL adds it to the critic loss: the critic, its context encoder
  included, takes ONE step on their sum (TCL's Algorithm 2, line 15);
* ``_after_critic_step``: the momentum encoder moves ``key_encoder_tau`` of
  the way to the critic's encoder.

Why the critic's encoder: it is the one trained by the value loss, as
PEARL's encoder is; the actor's own encoder (and the propensity classifier
that reads it) stay MQL's. Meta-test is MQL's (no TCL loss while
adapting).
"""
import warnings
from typing import Any, Dict, Tuple

import numpy as np

from tcl_garage.algos.mql import MQL
from tcl_garage.algos.recurrent_context import transition_features
from tcl_garage.algos.tensors import to_device
from tcl_garage.tcl.loss import (contrastive_accuracy,
                                 trajectory_contrastive_loss)
from tcl_garage.tcl.momentum import MomentumEncoder
from tcl_garage.tcl.settings import check_tcl_settings
from tcl_garage.tcl.windows import episode_spans, sample_window_pairs


class TCLMQL(MQL):
    """MQL trained with Trajectory Contrastive Learning.

    Takes every argument of :class:`~tcl_garage.algos.MQL`, plus:

    Args:
        *args: :class:`~tcl_garage.algos.MQL`'s.
        tcl_tasks (int): Tasks whose windows make each step's TCL batch.
        windows_per_task (int): Query windows per task.
        contrastive_loss_scale (float): Weight of the TCL loss, >= 0.
        temperature (float): InfoNCE temperature, > 0.
        key_encoder_tau (float): The momentum encoder's EMA rate.
        positive (str): ``'trajectory'`` or ``'task'``
            (:func:`~tcl_garage.tcl.windows.sample_window_pairs`).
        negatives (str): ``'all'`` or ``'other-tasks'``
            (:func:`~tcl_garage.tcl.loss.excluded_keys`).
        **kwargs: :class:`~tcl_garage.algos.MQL`'s keyword arguments.

    Raises:
        ValueError: On a setting out of range.

    """

    def __init__(self,
                 *args,
                 tcl_tasks: int = 16,
                 windows_per_task: int = 1,
                 contrastive_loss_scale: float = 1.0,
                 temperature: float = 1.0,
                 key_encoder_tau: float = 0.005,
                 positive: str = 'trajectory',
                 negatives: str = 'all',
                 **kwargs) -> None:
        if tcl_tasks < 1:
            raise ValueError(f'TCLMQL: tcl_tasks must be >= 1, got '
                             f'{tcl_tasks}')
        super().__init__(*args, **kwargs)
        check_tcl_settings('TCLMQL', window_size=self.history_length,
                           windows_per_task=windows_per_task,
                           contrastive_loss_scale=contrastive_loss_scale,
                           temperature=temperature, positive=positive,
                           negatives=negatives)
        self._tcl_tasks = tcl_tasks
        self._windows_per_task = windows_per_task
        self._contrastive_loss_scale = contrastive_loss_scale
        self._temperature = temperature
        self._positive = positive
        self._negatives = negatives
        self._key_encoder = MomentumEncoder(self._critic.context,
                                            tau=key_encoder_tau)
        self._warned_short_episodes = False

    # ---------------------------------------------------------------- hooks
    def _auxiliary_critic_loss(self) -> Tuple[Any, Dict[str, Any]]:
        """``contrastive_loss_scale * L_TCL`` on the critic's encoder.

        Returns:
            tuple: The scaled loss and its statistics (0 and none at
                scale 0).

        """
        if self._contrastive_loss_scale == 0:
            return 0., {}
        windows = self._sample_windows()
        ids = {name: to_device(getattr(windows, name), np.int64)
               for name in ('trajectory_ids', 'key_trajectory_ids',
                            'task_ids')}
        # Queries: the critic's live encoder (gradients); keys: its momentum
        # copy (none). Point masses: no std.
        query = self._critic.context(
            to_device(transition_features(windows.query)))
        key = self._key_encoder(to_device(transition_features(windows.key)))
        loss = trajectory_contrastive_loss(query, None, key, None,
                                           self._temperature,
                                           negatives=self._negatives, **ids)
        statistics = dict(
            TCLLoss=loss.detach(),
            TCLAccuracy=contrastive_accuracy(query, None, key, None,
                                             negatives=self._negatives,
                                             **ids))
        return self._contrastive_loss_scale * loss, statistics

    def _after_critic_step(self) -> None:
        """Move the momentum encoder towards the critic's encoder."""
        if self._contrastive_loss_scale > 0:
            self._key_encoder.update(self._critic.context)

    # -------------------------------------------------------------- helpers
    def _sample_windows(self):
        """This step's windows: ``windows_per_task`` from each of
        ``tcl_tasks`` tasks drawn with replacement.

        While some drawn task holds no episode of ``H + 1`` steps (early
        terminations), the windows are one step shorter than the shortest
        of those tasks' longest episodes, with a warning the first time;
        the length is logged as ``Train/TCLWindowSize``.

        Returns:
            WindowPairs: Query and key windows.

        Raises:
            ValueError: If a drawn task has no episode of 2 steps.

        """
        tasks = self._rng.integers(self._num_train_tasks,
                                   size=self._tcl_tasks)
        buffers = [self._replay_buffers[int(t)] for t in tasks]
        window = self.history_length
        longest = min(int(episode_spans(b)[1].max(initial=0))
                      for b in buffers)
        if longest < window + 1:
            window = longest - 1
            if window < 1:
                raise ValueError(
                    'TCLMQL: a task\'s buffer holds no episode of 2 steps, '
                    'too short for a query and a different key window')
            if not self._warned_short_episodes:
                warnings.warn(
                    f'TCLMQL: some tasks hold no episode of '
                    f'{self.history_length + 1} steps (longest: {longest}); '
                    f'using windows of {window} while that lasts (logged as '
                    'Train/TCLWindowSize)')
                self._warned_short_episodes = True
        self._record('TCLWindowSize', float(window))
        return sample_window_pairs(buffers,
                                   window,
                                   windows_per_buffer=self._windows_per_task,
                                   rng=self._rng,
                                   positive=self._positive)

    # ----------------------------------------------------------- interface
    @property
    def key_encoder(self) -> MomentumEncoder:
        """MomentumEncoder: The momentum copy of the critic's encoder."""
        return self._key_encoder

    @property
    def networks(self):
        """list[nn.Module]: MQL's networks and the momentum encoder."""
        return super().networks + [self._key_encoder]

    @property
    def tcl_settings(self) -> dict:
        """dict: The TCL settings of this algorithm."""
        return dict(window_size=self.history_length,
                    tcl_tasks=self._tcl_tasks,
                    windows_per_task=self._windows_per_task,
                    contrastive_loss_scale=self._contrastive_loss_scale,
                    temperature=self._temperature,
                    key_encoder_tau=self._key_encoder.tau,
                    positive=self._positive,
                    negatives=self._negatives)
