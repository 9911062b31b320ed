"""TCL-PEARL: PEARL whose context encoder also learns a trajectory contrastive
loss (Wang et al., 2021, Algorithm 2).

PEARL + TCL, as hooks on :class:`~tcl_garage.algos.PEARL`:

* ``_sample_context``: PEARL's context for a task is ``windows_per_task``
  windows of ``window_size`` consecutive transitions, each cut from one
  trajectory of the task's context buffer (the TCL queries), in training
  steps and when inferring posteriors while collecting data;
* ``_optimize_policy``: before garage's update, a key window is cut from the
  same trajectory as each query window;
* ``context_optimizer.step()``: the encoder's step first back-propagates
  ``contrastive_loss_scale * L_TCL`` (queries through the encoder, keys
  through its momentum copy), so the encoder takes ONE step on PEARL's KL and
  critic losses plus the TCL loss (Algorithm 2, line 15); the momentum
  encoder then moves ``key_encoder_tau`` of the way to the encoder.

Meta-testing is PEARL's.
"""
from typing import Optional
import warnings

import torch

from tcl_garage.algos.pearl import PEARL
from tcl_garage.loss import contrastive_accuracy, trajectory_contrastive_loss
from tcl_garage.momentum import MomentumEncoder
from tcl_garage.windows import episode_spans, sample_window_pairs, WindowPairs


class _EncoderStepWithContrastiveLoss:
    """Wraps the context optimizer: TCL gradient before, EMA after each step.

    Args:
        optimizer (torch.optim.Optimizer): PEARL's context optimizer.
        algo (TCLPEARL): The algorithm that computes the TCL gradient and
            updates its momentum encoder.

    """

    def __init__(self, optimizer: torch.optim.Optimizer,
                 algo: 'TCLPEARL') -> None:
        self.optimizer = optimizer
        self._algo = algo

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the encoder's gradients.

        Args:
            set_to_none (bool): As ``torch.optim.Optimizer.zero_grad``.

        """
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        """Add the TCL gradient, step, then update the momentum encoder.

        Args:
            closure (callable or None): As ``torch.optim.Optimizer.step``.

        Returns:
            object: What the wrapped optimizer's step returned.

        """
        self._algo._backward_contrastive_loss()
        result = self.optimizer.step(closure)
        self._algo._update_key_encoder()
        return result

    def state_dict(self):
        """The wrapped optimizer's state.

        Returns:
            dict: State dict.

        """
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict) -> None:
        """Load the wrapped optimizer's state.

        Args:
            state_dict (dict): State dict.

        """
        self.optimizer.load_state_dict(state_dict)

    @property
    def param_groups(self):
        """list[dict]: The wrapped optimizer's parameter groups."""
        return self.optimizer.param_groups


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
        self.context_optimizer = _EncoderStepWithContrastiveLoss(
            self.context_optimizer, self)
        self._pending_windows: Optional[WindowPairs] = None
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
        self._pending_windows = self._sample_windows(
            indices, with_keys=self._contrastive_loss_scale > 0)
        try:
            super()._optimize_policy(indices)
        finally:
            self._pending_windows = None

    def _backward_contrastive_loss(self) -> None:
        """Back-propagate ``scale * L_TCL`` into the encoder's gradients.

        Called by the encoder's optimizer just before its step, when the
        encoder still has the parameters that produced PEARL's losses.
        """
        windows = self._pending_windows
        if windows is None or windows.key is None:
            return
        query_mean, query_std = self.window_posteriors(windows.query)
        key_mean, key_std = self.window_posteriors(windows.key,
                                                   self._key_encoder)
        trajectory_ids = torch.as_tensor(windows.trajectory_ids,
                                         device=query_mean.device)
        loss = trajectory_contrastive_loss(query_mean, query_std, key_mean,
                                           key_std, self._temperature,
                                           trajectory_ids)
        # torch.autograd.backward, not Tensor.backward: PEARL's loss recorder
        # watches Tensor.backward for garage's own losses.
        torch.autograd.backward(self._contrastive_loss_scale * loss)
        self._record('TCLLoss', loss)
        self._record(
            'TCLAccuracy',
            contrastive_accuracy(query_mean, query_std, key_mean, key_std,
                                 trajectory_ids))
        self._record('TCLWindowPosteriorStd', query_std.detach().mean())

    def _update_key_encoder(self) -> None:
        """Move the momentum encoder towards the encoder (after its step)."""
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
        return state
