"""A training epoch's statistics, kept on the device until the epoch ends.

An algorithm records one value per statistic per gradient step (a scalar
tensor, never read back inside the step, or a host number);
:meth:`TrainingStatistics.means` averages them once the epoch ends and
:meth:`TrainingStatistics.check_finite` stops the run at the first step
whose losses were NaN or infinite (:class:`NonFiniteLossError`).
"""
from typing import Dict

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
        if isinstance(value, torch.Tensor):
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
