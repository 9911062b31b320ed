"""Fault points: where a test may SIGKILL a run, and the failures a run
reports in one line.

The write path of a run (:mod:`tcl_garage.experiment.snapshots`,
:mod:`tcl_garage.experiment.progress`) calls :func:`fault_point` at each
moment a kill could leave its files half-written. It does nothing unless the
environment variable :data:`FAULT_VARIABLE` names that point; then the
process SIGKILLs itself there, exactly as a power cut or the kernel's
out-of-memory killer would stop it. ``TCL_GARAGE_FAULT=after-snapshot-rename``
kills at the first time the point is reached, ``...=after-snapshot-rename@3``
at the third (the third epoch's snapshot). ``enospc:<point>[@n]`` raises
the error of a full disk there instead. The points are listed in
:data:`FAULT_POINTS`; ``tests/test_faults.py`` kills at each of them and
resumes.

:data:`TRACEBACK_VARIABLE` (``TCL_GARAGE_TRACEBACK=1``) asks for the full
traceback of a failure instead of its one ``error:`` line.
"""
import errno
import os
import signal

#: The environment variable naming the fault point to kill at (tests only).
FAULT_VARIABLE = 'TCL_GARAGE_FAULT'

#: Set to 1 for the full traceback of a failure.
TRACEBACK_VARIABLE = 'TCL_GARAGE_TRACEBACK'

#: Every fault point, in the order an epoch reaches them.
FAULT_POINTS = (
    'during-snapshot-write',  # the temporary snapshot written, not renamed
    'after-snapshot-rename',  # params.pkl is the new epoch's, no row yet
    'during-progress-write',  # the temporary progress.csv written only
    'after-progress-rename',  # the epoch's row is in progress.csv
)

_reached = {}


def fault_point(name: str) -> None:
    """SIGKILL this process if :data:`FAULT_VARIABLE` names this point (and
    this is the time it counts).

    Args:
        name (str): One of :data:`FAULT_POINTS`.

    Raises:
        OSError: ``ENOSPC``, where the variable asks for a full disk.

    """
    wanted = os.environ.get(FAULT_VARIABLE)
    if not wanted:
        return
    full_disk = wanted.startswith('enospc:')
    point, _, count = wanted[len('enospc:') if full_disk else 0:].partition(
        '@')
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] != int(count or 1):
        return
    if full_disk:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.kill(os.getpid(), signal.SIGKILL)


def want_traceback() -> bool:
    """Whether :data:`TRACEBACK_VARIABLE` asks for full tracebacks.

    Returns:
        bool: True when it is set to anything but ``''`` or ``0``.

    """
    return os.environ.get(TRACEBACK_VARIABLE, '') not in ('', '0')
