"""TCL-PEARL: PEARL whose context encoder also learns a trajectory contrastive
loss (Wang et al., 2021, Algorithm 2).

PEARL + TCL's component (:class:`~tcl_garage.tcl.TCL`, built on the context
encoder): PEARL's step (:meth:`~tcl_garage.algos.PEARL._update_networks`)
adds its loss to the encoder's and calls its after-step update; this class
gives PEARL its context as TCL's windows:

* ``_training_context``: a task's context in a training step is
  ``windows_per_task`` windows of ``window_size`` consecutive transitions,
  each cut from one trajectory of the task's context buffer (the TCL
  queries), with a key window cut from the same trajectory at another start.
  The queries' posteriors come from the encoder's output on the context
  (computed once, for PEARL's posterior inference), the keys' through the
  momentum encoder; the encoder takes ONE step on the KL, critic and TCL
  losses (Algorithm 2, line 15);
* ``_sample_context`` and ``infer_posteriors``: posterior inference while
  collecting data uses windows too, cut task by task (each task's own
  longest episode decides its window, so one task's short episodes never
  change another's context).

Meta-testing is PEARL's.
"""
import numpy as np
import torch

from tcl_garage.algos.context_encoder import context_fields, context_tensor
from tcl_garage.algos.path_buffers import episodes_of
from tcl_garage.algos.pearl import PEARL
from tcl_garage.algos.tcl_host import TCLHost
from tcl_garage.algos.tensors import to_device
from tcl_garage.tcl.component import TCL
from tcl_garage.tcl.windows import WindowPairs


class TCLPEARL(TCLHost, PEARL):
    """PEARL trained with Trajectory Contrastive Learning.

    Takes every argument of :class:`~tcl_garage.algos.PEARL` (garage's PEARL
    arguments included) except the context batch sizes, which the windows
    define, plus TCL's settings (:data:`~tcl_garage.tcl.SETTINGS`, documented
    in :class:`~tcl_garage.tcl.TCL`, with its defaults): a task's context in
    a training step is ``windows_per_task`` windows of ``window_size``
    transitions, each one TCL query.

    Args:
        env (list[EnvUpdate]): One environment update per training task.
        inner_policy (garage.torch.policies.Policy): Policy on
            (observation, z).
        qf (torch.nn.Module): Q-function on (observation, action, z).
        vf (torch.nn.Module): Value function on (observation, z).
        sampler (garage.sampler.Sampler): Sampler (with
            ``tcl_garage.algos.PEARLWorker``).
        **kwargs: TCL's settings and the other arguments of
            :class:`~tcl_garage.algos.PEARL`.

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
                 **kwargs) -> None:
        for name in ('embedding_batch_size', 'embedding_mini_batch_size'):
            if name in kwargs:
                raise ValueError(
                    f'TCLPEARL takes no {name}: its context is '
                    'windows_per_task windows of window_size transitions; '
                    'set those instead')
        settings = TCL.pop_settings(kwargs)
        TCL.check(owner='TCLPEARL', **settings)  # before PEARL is built
        context_size = settings['window_size'] * settings['windows_per_task']
        super().__init__(env,
                         inner_policy,
                         qf,
                         vf,
                         sampler,
                         embedding_batch_size=context_size,
                         embedding_mini_batch_size=context_size,
                         **kwargs)
        self._tcl = TCL(self.context_encoder, owner='TCLPEARL', **settings)

    # ---------------------------------------------------------------- hooks
    def _training_context(self, indices):
        """The step's context: query windows, with their key windows.

        Args:
            indices (list[int]): Tasks of this meta-batch.

        Returns:
            tuple: The context, :math:`(T, K W, C)`, and the keys on the
                device: their windows as context, :math:`(T K, W, C)`, and
                the ids that decide each query's negatives
                (:meth:`TCL.pair_ids <tcl_garage.tcl.TCL.pair_ids>`, each
                :math:`(T K,)`); None when the TCL loss is off.

        """
        with_keys = self._tcl.enabled
        windows = self._sample_windows(indices, with_keys=with_keys)
        keys = None
        if with_keys:
            keys = (context_tensor(windows.key,
                                   self._use_next_obs_in_context),
                    {name: to_device(value, np.int64)
                     for name, value in TCL.pair_ids(windows).items()})
        return self._windows_context(windows, len(indices)), keys

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
        """Cut TCL's windows from the context buffers of the given tasks
        (:meth:`TCL.sample <tcl_garage.tcl.TCL.sample>`: its rule for
        short episodes, logged with keys as ``Train/TCLWindowSize`` and
        ``Train/TCLShortWindowFraction``).

        Args:
            indices (list[int]): Task indices (repeats allowed).
            with_keys (bool): Also cut key windows.

        Returns:
            WindowPairs: ``windows_per_task`` rows per task, task by task.

        """
        fields = context_fields(self._use_next_obs_in_context)
        episodes = {i: episodes_of(self._context_replay_buffers[i], fields)
                    for i in set(indices)}
        windows, statistics = self._tcl.sample(
            [episodes[i] for i in indices], with_keys=with_keys)
        for name, value in statistics.items():
            self._record(name, value)
        return windows
