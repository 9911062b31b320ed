"""A training epoch's statistics, kept on the device until the epoch ends.

An algorithm records one value per statistic per gradient step (a scalar
tensor, never read back inside the step, or a host number);
:meth:`TrainingStatistics.means` averages them once the epoch ends and
:meth:`TrainingStatistics.check_finite` stops the run at the first step
whose losses were NaN or infinite (:class:`NonFiniteLossError`).
:class:`EpochStatistics` is the epoch scaffolding PEARL and MQL share.
"""
from typing import Callable, Dict

from dowel import tabular
import numpy as np
import torch


class NonFiniteLossError(RuntimeError):
    """A training loss became NaN or infinite; the message says where."""


class TrainingStatistics(dict):
    """``{name: [one value per step]}`` for the epoch so far.

    A dict (name -> list of the step values), with the epoch's means and
    the non-finite check.
    """

    def record(self, name: str, value) -> None:
        """Keep one step's value of a statistic.

        Args:
            name (str): Key, logged as ``Train/<name>``.
            value (torch.Tensor or float): A scalar tensor (kept on its
                device: no sync inside a step) or a host number.

        """
        if isinstance(value, torch.Tensor) and value.requires_grad:
            value = value.detach()
        self.setdefault(name, []).append(value)

    def means(self) -> Dict[str, float]:
        """The epoch's statistics so far, averaged over steps.

        Returns:
            dict[str, float]: ``name -> mean``.

        """
        return {
            name: (torch.stack(values).float().mean().item() if isinstance(
                values[0], torch.Tensor) else float(np.mean(values)))
            for name, values in self.items()
        }

    def check_finite(self, epoch: int, steps_per_epoch: int) -> None:
        """Stop at the first step of the epoch whose statistics are not
        finite (checked once per epoch: a step never waits for the device).

        Args:
            epoch (int): The epoch, for the message.
            steps_per_epoch (int): Its gradient steps, for the message.

        Raises:
            NonFiniteLossError: Naming the epoch, the step and the losses.

        """
        first, names = None, []
        for name, values in self.items():
            if not isinstance(values[0], torch.Tensor):
                continue
            bad = torch.nonzero(~torch.isfinite(torch.stack(values)))
            if len(bad) == 0:
                continue
            step = int(bad[0])
            if first is None or step < first:
                first, names = step, []
            if step == first:
                names.append(f'Train/{name} = {values[step].item()}')
        if first is not None:
            raise NonFiniteLossError(
                f'non-finite training loss in epoch {epoch}, step {first} '
                f'of {steps_per_epoch}: {", ".join(names)}')


class EpochStatistics:
    """Mixin: an epoch of gradient steps whose statistics are recorded step
    by step, checked for non-finite values, and logged as ``Train/<name>``
    (PEARL and MQL). The host sets ``_train_stats`` to a
    :class:`TrainingStatistics` and ``_epochs_trained`` to 0."""

    def _train_epoch(self, steps_per_epoch: int,
                     take_steps: Callable[[], None]) -> None:
        """Take an epoch's steps, then check and log their statistics.

        Args:
            steps_per_epoch (int): Gradient steps in the epoch, for the
                message of a non-finite loss.
            take_steps (Callable[[], None]): Takes them, recording with
                :meth:`_record`.

        Raises:
            NonFiniteLossError: If a training loss was not finite in some
                step; raised before the trainer snapshots the epoch, so the
                last snapshot (of finite parameters) is kept.

        """
        self._train_stats = TrainingStatistics()
        take_steps()
        self._train_stats.check_finite(self._epochs_trained, steps_per_epoch)
        for name, value in self.train_statistics.items():
            tabular.record(f'Train/{name}', value)
        self._epochs_trained += 1

    def _record(self, name: str, value) -> None:
        """Keep one step's value of a statistic for this epoch's
        ``Train/<name>`` log: a scalar tensor (kept on its device: no sync
        inside a step) or a host number."""
        self._train_stats.record(name, value)

    @property
    def train_statistics(self) -> Dict[str, float]:
        """dict[str, float]: This epoch's statistics so far, averaged over
        steps (``name -> mean``)."""
        return self._train_stats.means()

    def __getstate__(self):
        """The base's pickled state, without this epoch's statistics.

        Returns:
            dict: The state.

        """
        state = dict(super().__getstate__())
        state['_train_stats'] = TrainingStatistics()
        return state
