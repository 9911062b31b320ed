"""Which device a run uses: checked, then made garage's global, here only.

garage's torch algorithms read one global device (``garage.torch.
set_gpu_mode``/``global_device``). :func:`check_device` validates a name
(the config checks call it before anything is built); :func:`use_device`
validates it and sets garage's global, once per run (the builders for a new
run, the launcher for a resumed one).
"""
from typing import Tuple

import torch


def check_device(device: str) -> Tuple[bool, int]:
    """Check a device name and turn it into garage's ``set_gpu_mode`` args.

    Args:
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.

    Returns:
        tuple[bool, int]: Whether to use the GPU, and its index.

    Raises:
        ValueError: If the name is not one of those, or CUDA is not there.

    """
    if device == 'cpu':
        return False, 0
    kind, _, index = device.partition(':')
    if kind != 'cuda' or (index and not index.isdigit()):
        raise ValueError(f'device={device}: unknown device; use cpu, cuda '
                         'or cuda:<index>')
    if not torch.cuda.is_available():
        raise ValueError(f'device={device}: this torch sees no CUDA GPU; '
                         'use --device cpu, or install a CUDA build (make '
                         'install TORCH_SPEC=...)')
    gpu_id = int(index or 0)
    if gpu_id >= torch.cuda.device_count():
        raise ValueError(f'device={device}: only '
                         f'{torch.cuda.device_count()} GPU(s) visible; use '
                         'one of cuda:0 to '
                         f'cuda:{torch.cuda.device_count() - 1}')
    return True, gpu_id


def use_device(device: str) -> torch.device:
    """Check a device name and make it garage's global device.

    Args:
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.

    Returns:
        torch.device: The device networks now go to (``algo.to()``).

    Raises:
        ValueError: As :func:`check_device`.

    """
    from garage.torch import global_device, set_gpu_mode
    use_gpu, gpu_id = check_device(device)
    set_gpu_mode(use_gpu, gpu_id=gpu_id)
    return global_device()
