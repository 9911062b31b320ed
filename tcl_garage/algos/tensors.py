"""Host data onto garage's device, and a training step with no device sync.

The helpers every algorithm of this package uses inside a gradient step:
:func:`to_device` (a non-blocking copy through pinned memory on a GPU),
:func:`distribution_checks_off` (torch.distributions' argument checks
branch on tensor values, so each would make the host wait) and
:func:`zero_grad`.
"""
import contextlib

from garage.torch import global_device
import numpy as np
import torch


def to_device(array: np.ndarray, dtype=np.float32) -> torch.Tensor:
    """A host array on garage's device, without waiting for the copy.

    On a GPU the array goes through pinned memory with a non-blocking copy
    (a plain ``torch.as_tensor(array, device='cuda')`` waits for the
    device); on the CPU it is only converted.

    Args:
        array (np.ndarray): The array.
        dtype (type): Its dtype on the device (numpy's name).

    Returns:
        torch.Tensor: The tensor.

    """
    host = torch.from_numpy(np.ascontiguousarray(array, dtype=dtype))
    device = global_device()  # None before garage's set_gpu_mode: the CPU
    if device is None:
        return host
    if device.type == 'cuda':
        host = host.pin_memory()
    return host.to(device, non_blocking=True)  # on the CPU: host itself


def zero_grad(*optimizers: torch.optim.Optimizer) -> None:
    """Clear the gradients of the optimizers' parameters.

    Args:
        *optimizers (torch.optim.Optimizer): The optimizers.

    """
    for optimizer in optimizers:
        optimizer.zero_grad()


@contextlib.contextmanager
def distribution_checks_off():
    """Turn off torch.distributions' argument checks for a block.

    The checks (on by default) branch on tensor values, so every
    distribution that garage's policy builds would make the host wait for
    the device; a training step runs without them.

    Yields:
        None

    """
    # pylint: disable=protected-access
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        torch.distributions.Distribution.set_default_validate_args(before)
