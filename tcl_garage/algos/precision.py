"""The precision of a training step: fp32, bf16 autocast, or TF32 on CUDA.

* ``fp32``: everything in float32 (the default; bit for bit the code
  before this setting existed).
* ``bf16``: the forward passes of the step's networks run under
  ``torch.autocast(dtype=torch.bfloat16)`` (on the CPU and on CUDA), so
  their matrix products run in bfloat16; the master weights, their
  gradients, the optimizer states and steps stay float32, and every
  network output is cast back to float32 before a loss uses it, so Q
  targets, log-likelihoods and the tanh correction, the KL, the TCL
  similarities, logits and loss and the V target are float32 arithmetic.
* ``tf32``: float32 weights and activations, matrix products and
  convolutions in TensorFloat-32 on CUDA (Ampere and newer); not on the CPU.

bfloat16 pays on hardware with native bfloat16 matrix products: CUDA GPUs
from Ampere on, and CPUs with AVX512-BF16 or AMX (measured on a 2-core
AVX512-BF16 AMD EPYC: a step at the paper's sizes 1.9x to 2.1x faster;
with the 64-wide networks of the cpu-hour profile no faster). Elsewhere
oneDNN falls back to slow kernels (measured on an AVX2-only AMD EPYC: a
bfloat16 matrix product 40x slower than float32, a step 2.7x to 13x
slower), and :func:`slow_bf16_warning` says so when a run starts.

Only the training step changes: the policy copies that collect and
evaluate stay float32 (their batches are a few rows; on both CPUs
bfloat16 made them slower: ``benchmarks/step_time.py --precision bf16``
measures it).
"""
import contextlib
from typing import Iterator, Optional

import torch

#: The values of the ``precision`` setting.
PRECISIONS = ('fp32', 'bf16', 'tf32')


def check_precision(precision: str,
                    device_type: Optional[str] = 'cpu') -> None:
    """Reject an unknown precision, or TF32 off CUDA.

    Args:
        precision (str): One of :data:`PRECISIONS`.
        device_type (str or None): ``cpu`` or ``cuda``; None: the device
            is not known yet (only the name is checked).

    Raises:
        ValueError: ``precision=<value>: <what is wrong>; <what to do>``.

    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision={precision!r}: not one of '
                         f'{", ".join(PRECISIONS)}; choose one of those')
    if precision == 'tf32' and device_type not in (None, 'cuda'):
        raise ValueError('precision=tf32: TF32 matrix products exist on '
                         'CUDA GPUs only; use --device cuda, or precision='
                         'bf16 (or fp32) on the CPU')


def native_bf16(device_type: str) -> bool:
    """Whether the device multiplies bfloat16 matrices natively.

    Args:
        device_type (str): ``cpu`` or ``cuda``.

    Returns:
        bool: CUDA: the GPU supports bfloat16; CPU: oneDNN has bfloat16
            kernels for this CPU (AVX512-BF16 or AMX).

    """
    if device_type == 'cuda':
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def slow_bf16_warning(precision: str, device_type: str) -> Optional[str]:
    """A one-line warning when ``bf16`` will be slower than ``fp32``.

    Args:
        precision (str): One of :data:`PRECISIONS`.
        device_type (str): ``cpu`` or ``cuda``.

    Returns:
        str or None: The warning, or None when there is nothing to say.

    """
    if precision != 'bf16' or native_bf16(device_type):
        return None
    capability = (torch.backends.cpu.get_cpu_capability()
                  if device_type == 'cpu' else 'this GPU')
    return (f'precision=bf16: {capability} has no native bfloat16 matrix '
            'products (AVX512-BF16, AMX or a bfloat16 GPU), so each step '
            'runs slower than in fp32; the results are still bf16\'s')


def autocast(precision: str, device: torch.device):
    """The context of a training step's forward passes.

    Args:
        precision (str): One of :data:`PRECISIONS`.
        device (torch.device): Where the step runs.

    Returns:
        contextlib.AbstractContextManager: bfloat16 autocast with
            ``bf16``; otherwise a context that does nothing at all.

    """
    if precision != 'bf16':
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@contextlib.contextmanager
def matmul_precision(precision: str) -> Iterator[None]:
    """TF32 matrix products and convolutions on CUDA for a block (with
    ``tf32``; otherwise nothing changes); the previous flags come back
    after it.

    Args:
        precision (str): One of :data:`PRECISIONS`.

    Yields:
        None

    """
    if precision != 'tf32':
        yield
        return
    before = (torch.backends.cuda.matmul.allow_tf32,
              torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        (torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = before
