"""The machine a run trains on, as a run directory records it.

A step's speed, and whether ``precision=bf16`` is fast at all, depend on
the CPU's instruction set and on the GPU (``docs/results.md`` compares
runs made on two CPUs, one with AVX512-BF16 and one without). So every
start of a run, the first and each ``--resume``, appends one entry of
:func:`describe_machine` to the run directory's
:data:`~tcl_garage.experiment.rundir.MACHINE` file
(:func:`~tcl_garage.experiment.rundir.append_machine`), and a study record
keeps it. Nothing here changes what a run computes.
"""
import datetime
import os
import pathlib
import platform
from typing import Any, Dict, Optional

import numpy as np
import torch

from tcl_garage.algos.precision import native_bf16


def cpu_model() -> str:
    """The CPU's model name.

    Returns:
        str: Linux's ``/proc/cpuinfo`` ``model name``; elsewhere
            :func:`platform.processor` (or the architecture when that is
            empty).

    """
    cpuinfo = pathlib.Path('/proc/cpuinfo')
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors='replace').splitlines():
            key, _, value = line.partition(':')
            if key.strip() == 'model name':
                return value.strip()
    return platform.processor() or platform.machine()


def describe_machine(device: Optional[torch.device] = None,
                     start_epoch: int = 0,
                     epochs: Optional[int] = None) -> Dict[str, Any]:
    """What a run's speed depends on, for the start of a run.

    Args:
        device (torch.device or None): The device the networks train on
            (garage's global device); None: the CPU.
        start_epoch (int): The first epoch this start trains (0 for a new
            run; the snapshot's epoch for a resume).
        epochs (int or None): The epochs this start trains up to (a resume
            with ``--epochs`` extends the run beyond its config's).

    Returns:
        dict: ``start_epoch``, ``epochs``, ``started_at`` (UTC, ISO
            8601), ``cpu`` (model name), ``cpu_capability`` (the vector
            instructions torch's CPU kernels use: ``AVX2``, ``AVX512``,
            ...), ``cpu_native_bf16``
            (oneDNN multiplies bfloat16 natively: AVX512-BF16 or AMX),
            ``logical_cpus``, ``torch_threads``, ``device``, ``gpu`` and
            ``gpu_capability`` (None on the CPU), ``python``, ``torch``,
            ``numpy``; all JSON types.

    """
    device = device if device is not None else torch.device('cpu')
    on_gpu = device.type == 'cuda'
    return {
        'start_epoch': start_epoch,
        'epochs': epochs,
        'started_at': datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'),
        'cpu': cpu_model(),
        'cpu_capability': torch.backends.cpu.get_cpu_capability(),
        'cpu_native_bf16': native_bf16('cpu'),
        'logical_cpus': os.cpu_count(),
        'torch_threads': torch.get_num_threads(),
        'device': str(device),
        'gpu': torch.cuda.get_device_name(device) if on_gpu else None,
        'gpu_capability': ('.'.join(
            map(str, torch.cuda.get_device_capability(device)))
                           if on_gpu else None),
        'python': platform.python_version(),
        'torch': torch.__version__,
        'numpy': np.__version__,
    }
