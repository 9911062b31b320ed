"""TCL-PEARL: PEARL whose context encoder also learns a trajectory contrastive
loss (Wang et al., 2021, Algorithm 2).

PEARL + TCL, as hooks of :class:`~tcl_garage.algos.PEARL`'s update:

* ``_training_context``: a task's context in a training step is
  ``windows_per_task`` windows of ``window_size`` consecutive transitions,
  each cut from one trajectory of the task's context buffer (the TCL
  queries), with a key window cut from the same trajectory at another start;
* ``_auxiliary_encoder_loss``: ``contrastive_loss_scale * L_TCL``. The
  queries' posteriors come from the encoder's output on the context
  (computed once, for PEARL's posterior inference), the keys' through the
  momentum encoder. PEARL adds it to the KL and critic losses, so the
  encoder takes ONE step on their sum (Algorithm 2, line 15);
* ``_update_target_network``: after the step, the momentum encoder also
  moves ``key_encoder_tau`` of the way to the encoder;
* ``_sample_context`` and ``infer_posteriors``: posterior inference while
  collecting data uses windows too, cut task by task (each task's own
  longest episode decides its window, so one task's short episodes never
  change another's context).

Meta-testing is PEARL's.
"""
import warnings

import numpy as np
import torch

from tcl_garage.algos.context_encoder import context_tensor
from tcl_garage.algos.pearl import PEARL
from tcl_garage.algos.tensors import to_device
from tcl_garage.tcl.loss import (contrastive_accuracy,
                                 trajectory_contrastive_loss)
from tcl_garage.tcl.momentum import MomentumEncoder
from tcl_garage.tcl.settings import check_tcl_settings
from tcl_garage.tcl.windows import (episode_spans, sample_window_pairs,
                                    WindowPairs)


class TCLPEARL(PEARL):
    """PEARL trained with Trajectory Contrastive Learning.

    Takes every argument of :class:`~tcl_garage.algos.PEARL` (garage's PEARL
    arguments included) except the context batch sizes, which the windows
    define, plus the TCL settings.

    Args:
        env (list[EnvUpdate]): One environment update per training task.
        inner_policy (garage.torch.policies.Policy): Policy on
            (observation, z).
        qf (torch.nn.Module): Q-function on (observation, action, z).
        vf (torch.nn.Module): Value function on (observation, z).
        sampler (garage.sampler.Sampler): Sampler (with
            ``tcl_garage.algos.PEARLWorker``).
        window_size (int): W, transitions per window (paper: 64 or 128).
        windows_per_task (int): Windows per task in each training step; the
            task's context is their ``windows_per_task * window_size``
            transitions and each window is one TCL query.
        contrastive_loss_scale (float): Weight of the TCL loss in the
            encoder's loss (paper: 1 or 5). 0 skips the TCL computation.
        temperature (float): InfoNCE temperature (paper: 1).
        key_encoder_tau (float): Momentum encoder's EMA rate (paper: 0.005).
        positive (str): Where a query's key comes from: ``'trajectory'``
            (its own episode at another start, the paper's text) or
            ``'task'`` (another episode of its task;
            :func:`~tcl_garage.tcl.windows.sample_window_pairs`).
        negatives (str): ``'all'`` (every key but the positive and those of
            its trajectory, the paper's text) or ``'other-tasks'`` (only keys
            of other tasks; :func:`~tcl_garage.tcl.loss.excluded_keys`).
        **kwargs: Other arguments of :class:`~tcl_garage.algos.PEARL`.

    Raises:
        ValueError: On a setting out of range, or a context batch size given
            (TCL's context is made of windows).

    """

    def __init__(self,
                 env,
                 inner_policy,
                 qf,
                 vf,
                 sampler,
                 *,
                 window_size: int = 64,
                 windows_per_task: int = 1,
                 contrastive_loss_scale: float = 1.0,
                 temperature: float = 1.0,
                 key_encoder_tau: float = 0.005,
                 positive: str = 'trajectory',
                 negatives: str = 'all',
                 **kwargs) -> None:
        for name in ('embedding_batch_size', 'embedding_mini_batch_size'):
            if name in kwargs:
                raise ValueError(
                    f'TCLPEARL takes no {name}: its context is '
                    'windows_per_task windows of window_size transitions; '
                    'set those instead')
        check_tcl_settings('TCLPEARL', window_size=window_size,
                           windows_per_task=windows_per_task,
                           contrastive_loss_scale=contrastive_loss_scale,
                           temperature=temperature, positive=positive,
                           negatives=negatives)
        context_size = window_size * windows_per_task
        super().__init__(env,
                         inner_policy,
                         qf,
                         vf,
                         sampler,
                         embedding_batch_size=context_size,
                         embedding_mini_batch_size=context_size,
                         **kwargs)
        self._window_size = window_size
        self._windows_per_task = windows_per_task
        self._contrastive_loss_scale = contrastive_loss_scale
        self._temperature = temperature
        self._positive = positive
        self._negatives = negatives
        self._key_encoder = MomentumEncoder(self.context_encoder,
                                            tau=key_encoder_tau)
        self._warned_short_episodes = False

    def __setstate__(self, state):
        """Unpickle; a snapshot from before the positive/negative settings
        gets the paper's (today's defaults), which is what it ran with.

        Args:
            state (dict): The pickled state.

        """
        state.setdefault('_positive', 'trajectory')
        state.setdefault('_negatives', 'all')
        super().__setstate__(state)

    # ---------------------------------------------------------------- hooks
    def _training_context(self, indices):
        """The step's context: query windows, with their key windows.

        Args:
            indices (list[int]): Tasks of this meta-batch.

        Returns:
            tuple: The context, :math:`(T, K W, C)`, and the keys on the
                device: their windows as context, :math:`(T K, W, C)`, and
                the ids that decide each query's negatives
                (:func:`~tcl_garage.tcl.loss.excluded_keys`: the trajectory of
                each query and of each key, and the task of each row, each
                :math:`(T K,)`); None when the TCL loss is off.

        """
        with_keys = self._contrastive_loss_scale > 0
        windows = self._sample_windows(indices, with_keys=with_keys)
        keys = None
        if with_keys:
            ids = dict(trajectory_ids=windows.trajectory_ids,
                       key_trajectory_ids=windows.key_trajectory_ids,
                       task_ids=windows.task_ids)
            keys = (context_tensor(windows.key,
                                   self._use_next_obs_in_context),
                    {name: to_device(value, np.int64)
                     for name, value in ids.items()})
        return self._windows_context(windows, len(indices)), keys

    def _auxiliary_encoder_loss(self, encoder_output, context_info):
        """``contrastive_loss_scale * L_TCL`` (0 at scale 0).

        Args:
            encoder_output (torch.Tensor): The encoder's output on the query
                windows, :math:`(T, K W, D)`.
            context_info (tuple or None): The key windows and the ids of
                :meth:`_training_context`.

        Returns:
            tuple: The scaled TCL loss and its statistics.

        """
        if context_info is None:
            return 0., {}
        key_context, ids = context_info
        window_size = key_context.shape[1]
        # Queries: the encoder's output on the context, window by window.
        query_mean, query_std = self.posteriors_from_encoder_output(
            encoder_output.reshape(-1, window_size, encoder_output.shape[-1]))
        # Keys: the momentum encoder (no gradient).
        key_mean, key_std = self.posteriors_from_encoder_output(
            self._key_encoder(key_context))
        # Which keys are each query's negatives (tcl_negatives).
        loss = trajectory_contrastive_loss(query_mean, query_std, key_mean,
                                           key_std, self._temperature,
                                           negatives=self._negatives, **ids)
        statistics = dict(
            TCLLoss=loss.detach(),
            TCLAccuracy=contrastive_accuracy(query_mean, query_std, key_mean,
                                             key_std,
                                             negatives=self._negatives,
                                             **ids),
            TCLWindowPosteriorStd=query_std.detach().mean())
        return self._contrastive_loss_scale * loss, statistics

    def _update_target_network(self):
        """Soft-update PEARL's target value function and the key encoder."""
        super()._update_target_network()
        if self._contrastive_loss_scale > 0:
            self._key_encoder.update(self.context_encoder)

    def _sample_context(self, indices):
        """The context of tasks outside a training step: query windows.

        Args:
            indices (int or list[int]): Task index or indices.

        Returns:
            torch.Tensor: Shape :math:`(T, K W, C)`: T tasks, K windows of
                W transitions, C context features.

        """
        if not hasattr(indices, '__iter__'):
            indices = [indices]
        windows = self._sample_windows(indices, with_keys=False)
        return self._windows_context(windows, len(indices))

    def infer_posteriors(self, tasks):
        """Each task's posterior from windows of its own context buffer.

        Windows are cut task by task, each task's window shortened only by
        its own episodes (the tasks of a collection round are inferred
        together, and one task's early terminations must not shorten
        another's context). Tasks whose windows have one length are encoded
        together; z is drawn once for all.

        Args:
            tasks (Sequence[int]): Distinct task indices.

        """
        contexts = [self._sample_context(task) for task in tasks]
        if len({context.shape for context in contexts}) == 1:
            self._policy.infer_posterior(torch.cat(contexts))
            return
        means, variances = zip(*(self._posterior(self.context_encoder(c))
                                 for c in contexts))
        self.set_posteriors(torch.cat(means), torch.cat(variances))

    # -------------------------------------------------------------- helpers
    def _windows_context(self, windows: WindowPairs,
                         num_tasks: int) -> torch.Tensor:
        """The query windows as PEARL's context, task by task.

        Args:
            windows (WindowPairs): ``windows_per_task`` rows per task.
            num_tasks (int): T.

        Returns:
            torch.Tensor: :math:`(T, K W, C)`.

        """
        context = context_tensor(windows.query, self._use_next_obs_in_context)
        return context.reshape(num_tasks, -1, context.shape[-1])

    def _sample_windows(self, indices, with_keys: bool) -> WindowPairs:
        """Cut windows from the context buffers of the given tasks.

        A query and its key start at different steps of one episode, so
        they are never the same window: with keys, windows are cut from
        episodes of at least ``window_size + 1`` steps. While some task's
        buffer holds no such episode (early terminations: Ant, Humanoid,
        Walker), the step's windows are shortened to one step less than the
        shortest of those tasks' longest episodes, with a warning the first
        time; the length used is logged as ``Train/TCLWindowSize`` and the
        fraction of steps with shortened windows as
        ``Train/TCLShortWindowFraction``.

        Args:
            indices (list[int]): Task indices (repeats allowed).
            with_keys (bool): Also cut key windows.

        Returns:
            WindowPairs: ``windows_per_task`` rows per task, task by task.

        Raises:
            ValueError: If a task's longest episode is too short for any
                window (one step, with keys).

        """
        buffers = [self._context_replay_buffers[i] for i in indices]
        window = self._window_size
        # A key needs a start other than its query's: one step more.
        spare = 1 if with_keys else 0
        longest = min(int(episode_spans(buffer)[1].max(initial=0))
                      for buffer in buffers)
        shortened = longest < window + spare
        if shortened:
            window = longest - spare
            if window < 1:
                raise ValueError(
                    f'TCLPEARL: a task\'s context buffer holds no episode '
                    f'longer than {longest} step(s), too short for a query '
                    'and a different key window: collect longer episodes')
            if not self._warned_short_episodes:
                warnings.warn(
                    f'TCLPEARL: some tasks hold no episode of window_size + '
                    f'{spare}={self._window_size + spare} steps (longest: '
                    f'{longest}); using windows of {window} while that lasts '
                    '(logged as Train/TCLWindowSize)')
                self._warned_short_episodes = True
        windows = sample_window_pairs(
            buffers,
            window,
            windows_per_buffer=self._windows_per_task,
            with_keys=with_keys,
            positive=self._positive)
        if with_keys:
            self._record('TCLWindowSize', float(window))
            self._record('TCLShortWindowFraction', float(shortened))
            if self._positive == 'task':
                # Host numbers: rows whose task held one long episode only.
                self._record('TCLSameEpisodeKeyFraction',
                             float(windows.same_episode_keys.mean()))
        return windows

    # ----------------------------------------------------------- interface
    @property
    def key_encoder(self) -> MomentumEncoder:
        """MomentumEncoder: The momentum copy that encodes the keys."""
        return self._key_encoder

    @property
    def tcl_settings(self) -> dict:
        """dict: The TCL settings of this algorithm."""
        return dict(window_size=self._window_size,
                    windows_per_task=self._windows_per_task,
                    contrastive_loss_scale=self._contrastive_loss_scale,
                    temperature=self._temperature,
                    key_encoder_tau=self._key_encoder.tau,
                    positive=self._positive,
                    negatives=self._negatives)

    @property
    def networks(self):
        """list[torch.nn.Module]: PEARL's networks and the momentum encoder."""
        return super().networks + [self._key_encoder]
