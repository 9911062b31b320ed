"""TCL-PEARL: PEARL whose context encoder also learns a trajectory contrastive
loss (Wang et al., 2021, Algorithm 2).

PEARL + TCL, as hooks on :class:`~tcl_garage.algos.PEARL`:

* ``_sample_context``: PEARL's context for a task is ``windows_per_task``
  windows of ``window_size`` consecutive transitions, each cut from one
  trajectory of the task's context buffer (the TCL queries), in training
  steps and when inferring posteriors while collecting data;
* ``_optimize_policy``: before garage's update, a key window is cut from the
  same trajectory as each query window, and the encoder's output on the
  context (computed once, by PEARL's posterior inference) is kept;
* ``_extra_encoder_losses``: ``contrastive_loss_scale * L_TCL``, queries
  from that output, keys through the momentum encoder. It is
  back-propagated with PEARL's KL and critic losses, so the encoder takes
  ONE step on their sum (Algorithm 2, line 15);
* ``_update_target_network``: after the step, the momentum encoder also
  moves ``key_encoder_tau`` of the way to the encoder.

Meta-testing is PEARL's.
"""
from typing import Optional
import warnings

import torch

from tcl_garage.algos.pearl import PEARL
from tcl_garage.loss import contrastive_accuracy, trajectory_contrastive_loss
from tcl_garage.momentum import MomentumEncoder
from tcl_garage.windows import episode_spans, sample_window_pairs, WindowPairs


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
                 **kwargs) -> None:
        for name in ('embedding_batch_size', 'embedding_mini_batch_size'):
            if name in kwargs:
                raise ValueError(
                    f'TCLPEARL takes no {name}: its context is '
                    'windows_per_task windows of window_size transitions; '
                    'set those instead')
        if window_size < 1 or windows_per_task < 1:
            raise ValueError('window_size and windows_per_task must be >= 1, '
                             f'got {window_size} and {windows_per_task}')
        if contrastive_loss_scale < 0:
            raise ValueError('contrastive_loss_scale must be >= 0, got '
                             f'{contrastive_loss_scale}')
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
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
        self._key_encoder = MomentumEncoder(self.context_encoder,
                                            tau=key_encoder_tau)
        self._pending_windows: Optional[WindowPairs] = None
        self._query_encoder_output: Optional[torch.Tensor] = None
        self._warned_short_episodes = False

    # ---------------------------------------------------------------- hooks
    def _sample_context(self, indices):
        """The context of each task: query windows of its trajectories.

        Inside a training step these are the step's TCL queries.

        Args:
            indices (int or list[int]): Task index or indices.

        Returns:
            torch.Tensor: Shape :math:`(T, K W, C)`: T tasks, K windows of
                W transitions, C context features.

        """
        if not hasattr(indices, '__iter__'):
            indices = [indices]
        windows = self._pending_windows
        if windows is None:
            windows = self._sample_windows(indices, with_keys=False)
        context = self._context_tensor(windows.query)
        return context.reshape(len(indices), -1, context.shape[-1])

    def _optimize_policy(self, indices):
        """PEARL's update on query windows, with their key windows at hand.

        Args:
            indices (list[int]): Tasks of this meta-batch.

        """
        with_keys = self._contrastive_loss_scale > 0
        self._pending_windows = self._sample_windows(indices, with_keys)
        encoder = self.context_encoder
        if with_keys:
            # garage calls encoder.forward() directly, which skips forward
            # hooks; an instance attribute shadows it for this step instead.
            encoder.forward = self._encode_and_keep_output
        try:
            super()._optimize_policy(indices)
        finally:
            if with_keys:
                del encoder.forward
            self._pending_windows = None
            self._query_encoder_output = None

    def _encode_and_keep_output(self, *args, **kwargs) -> torch.Tensor:
        """The encoder's forward, keeping its output on this step's context.

        Args:
            *args: The encoder's arguments (the context).
            **kwargs: The encoder's keyword arguments.

        Returns:
            torch.Tensor: Its output, :math:`(T, K W, D)`.

        Raises:
            RuntimeError: If the encoder runs twice in one training step.

        """
        if self._query_encoder_output is not None:
            raise RuntimeError('the context encoder ran twice in one PEARL '
                               'training step: is garage 2021.3.0 installed?')
        encoder = self.context_encoder
        self._query_encoder_output = type(encoder).forward(
            encoder, *args, **kwargs)
        return self._query_encoder_output

    def _extra_encoder_losses(self):
        """``contrastive_loss_scale * L_TCL`` (nothing at scale 0).

        The queries' posteriors come from the encoder's output on PEARL's
        context (these windows), so TCL adds only the keys' forward pass
        through the momentum encoder.

        Returns:
            list[torch.Tensor]: The scaled TCL loss, or nothing.

        """
        windows = self._pending_windows
        output = self._query_encoder_output
        if windows is None or windows.key is None or output is None:
            return []
        window_size = windows.query['observations'].shape[1]
        query_mean, query_std = self.posteriors_from_encoder_output(
            output.reshape(-1, window_size, output.shape[-1]))
        key_mean, key_std = self.window_posteriors(windows.key,
                                                   self._key_encoder)
        trajectory_ids = torch.as_tensor(windows.trajectory_ids,
                                         device=query_mean.device)
        loss = trajectory_contrastive_loss(query_mean, query_std, key_mean,
                                           key_std, self._temperature,
                                           trajectory_ids)
        self._record('TCLLoss', loss)
        self._record(
            'TCLAccuracy',
            contrastive_accuracy(query_mean, query_std, key_mean, key_std,
                                 trajectory_ids))
        self._record('TCLWindowPosteriorStd', query_std.detach().mean())
        return [self._contrastive_loss_scale * loss]

    def _update_target_network(self):
        """Soft-update PEARL's target value function and the key encoder."""
        super()._update_target_network()
        if self._contrastive_loss_scale > 0:
            self._key_encoder.update(self.context_encoder)

    # -------------------------------------------------------------- helpers
    def _sample_windows(self, indices, with_keys: bool) -> WindowPairs:
        """Cut windows from the context buffers of the given tasks.

        Windows are ``window_size`` long, unless some task's buffer holds
        no episode that long (early terminations: Ant, Humanoid, Walker):
        then this step's windows are as long as the shortest of those
        tasks' longest episodes, with a warning the first time; the length
        used is logged as ``Train/TCLWindowSize``.

        Args:
            indices (list[int]): Task indices (repeats allowed).
            with_keys (bool): Also cut key windows.

        Returns:
            WindowPairs: ``windows_per_task`` rows per task, task by task.

        """
        buffers = [self._context_replay_buffers[i] for i in indices]
        window = self._window_size
        longest = min(int(episode_spans(buffer)[1].max(initial=0))
                      for buffer in buffers)
        if 0 < longest < window:
            if not self._warned_short_episodes:
                warnings.warn(
                    f'TCLPEARL: some tasks hold no episode of window_size='
                    f'{window} steps (longest: {longest}); using shorter '
                    'windows while that lasts (logged as '
                    'Train/TCLWindowSize)')
                self._warned_short_episodes = True
            window = longest
        if with_keys:
            self._record('TCLWindowSize', torch.tensor(float(window)))
        return sample_window_pairs(buffers,
                                   window,
                                   windows_per_buffer=self._windows_per_task,
                                   with_keys=with_keys)

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
                    key_encoder_tau=self._key_encoder.tau)

    @property
    def networks(self):
        """list[torch.nn.Module]: PEARL's networks and the momentum encoder."""
        return super().networks + [self._key_encoder]

    def __getstate__(self):
        """Pickled state, without a step's pending windows.

        Returns:
            dict: The state.

        """
        state = super().__getstate__()
        state['_pending_windows'] = None
        state['_query_encoder_output'] = None
        return state
