"""Adam's implementations for PEARL's five optimizers: the ``adam`` setting.

* ``foreach`` (the default): torch's multi-tensor step, bit for bit the
  per-tensor loop that torch's CPU default and garage run.
* ``fused``: torch's fused kernel, one kernel per tensor for the whole
  update instead of one operator per tensor and operation: faster where a
  step is small (``benchmarks/step_time.py --adam fused``), but it rounds
  differently, so a run is not the default's bit for bit. Its speed-up
  and its learning check over seeds against the default are in
  ``docs/performance.md``.
"""
import functools
from typing import Callable, Dict

import torch

#: ``adam`` setting -> the keyword arguments of ``torch.optim.Adam``.
ADAM_KERNELS: Dict[str, Dict[str, bool]] = {
    'foreach': dict(foreach=True),
    'fused': dict(fused=True),
}


def adam_class(kernel: str = 'foreach') -> Callable[..., torch.optim.Adam]:
    """``torch.optim.Adam`` with one of :data:`ADAM_KERNELS`.

    Args:
        kernel (str): ``foreach`` or ``fused``.

    Returns:
        callable: Builds the optimizer from parameters and ``lr`` (garage's
            ``optimizer_class``).

    Raises:
        ValueError: If ``kernel`` is unknown.

    """
    if kernel not in ADAM_KERNELS:
        raise ValueError(f'adam={kernel!r}: choose one of '
                         f'{", ".join(ADAM_KERNELS)}')
    return functools.partial(torch.optim.Adam, **ADAM_KERNELS[kernel])
