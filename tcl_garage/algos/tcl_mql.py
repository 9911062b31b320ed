"""TCL-MQL: MQL whose critic's context encoder also learns the trajectory
contrastive loss, through the same TCL component as TCL-PEARL.

MQL + TCL's component (:class:`~tcl_garage.tcl.TCL`, built on the critic's
context encoder, its windows ``H`` transitions long: the GRU's history
length, so a window is one full history): MQL's critic step adds its loss
to the critic's and calls its after-step update; this class says how the
step's TCL loss is made (:meth:`TCLMQL._tcl_loss`): ``windows_per_task``
query windows, each with its key window, from whole episodes of each of
``tcl_tasks`` drawn tasks' buffers; queries through the critic's live
context encoder, keys through its momentum copy. MQL's context is
deterministic, so the similarity is the 2-Wasserstein one of point masses,
the negative squared distance (no std). The critic, its context encoder
included, takes ONE step on the sum (TCL's Algorithm 2, line 15).

Why the critic's encoder: it is the one trained by the value loss, as
PEARL's encoder is; the actor's own encoder (and the propensity classifier
that reads it) stay MQL's. Meta-test is MQL's (no TCL loss while
adapting).
"""
from typing import Any, Dict, Tuple

import numpy as np

from tcl_garage.algos.mql import MQL
from tcl_garage.algos.path_buffers import episodes_of
from tcl_garage.algos.recurrent_context import transition_features
from tcl_garage.algos.tcl_host import TCLHost
from tcl_garage.algos.tensors import to_device
from tcl_garage.tcl.component import TCL


class TCLMQL(TCLHost, MQL):
    """MQL trained with Trajectory Contrastive Learning.

    Takes every argument of :class:`~tcl_garage.algos.MQL`, plus TCL's
    settings (:data:`~tcl_garage.tcl.SETTINGS`, documented in
    :class:`~tcl_garage.tcl.TCL`, with its defaults) but ``window_size``:
    a window is one full history, ``history_length`` transitions.

    Args:
        *args: :class:`~tcl_garage.algos.MQL`'s.
        tcl_tasks (int): Tasks whose windows make each step's TCL batch.
        **kwargs: TCL's settings and :class:`~tcl_garage.algos.MQL`'s
            keyword arguments.

    Raises:
        ValueError: On a setting out of range, or a ``window_size`` given.

    """

    def __init__(self,
                 *args,
                 tcl_tasks: int = 16,
                 **kwargs) -> None:
        if tcl_tasks < 1:
            raise ValueError(f'TCLMQL: tcl_tasks must be >= 1, got '
                             f'{tcl_tasks}')
        if 'window_size' in kwargs:
            raise ValueError('TCLMQL takes no window_size: a window is one '
                             'full history (history_length transitions)')
        settings = TCL.pop_settings(kwargs)
        super().__init__(*args, **kwargs)
        self._tcl_tasks = tcl_tasks
        settings['window_size'] = self.history_length
        self._tcl = TCL(self._critic.context, owner='TCLMQL', **settings)

    def _tcl_loss(self) -> Tuple[Any, Dict[str, Any]]:
        """``contrastive_loss_scale * L_TCL`` on the critic's encoder, from
        ``windows_per_task`` windows of each of ``tcl_tasks`` tasks drawn
        with replacement (:meth:`TCL.sample <tcl_garage.tcl.TCL.sample>`:
        its rule for short episodes, logged as ``Train/TCLWindowSize``).

        Returns:
            tuple: The scaled loss and its statistics.

        """
        tasks = self._rng.integers(self._num_train_tasks,
                                   size=self._tcl_tasks)
        episodes = {int(t): episodes_of(self._replay_buffers[int(t)])
                    for t in set(tasks)}
        # Queries: the critic's live encoder (gradients); keys: its momentum
        # copy (none). Point masses: no std.
        loss, statistics = self._tcl.sampled_loss(
            [episodes[int(t)] for t in tasks], self._critic.context,
            transition_features, rng=self._rng, to_tensor=_on_device)
        # A window is a whole GRU history: a shortened one shows as
        # Train/TCLWindowSize, and TCL-MQL's columns stay what they were.
        statistics.pop('TCLShortWindowFraction', None)
        return loss, statistics

    @property
    def tcl_settings(self) -> dict:
        """dict: The TCL settings of this algorithm, and ``tcl_tasks``."""
        return dict(self._tcl.settings, tcl_tasks=self._tcl_tasks)


def _on_device(array: np.ndarray):
    """A host array on garage's device, its dtype kept."""
    return to_device(array, array.dtype)
