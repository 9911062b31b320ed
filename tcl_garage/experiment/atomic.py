"""Files replaced whole: a kill leaves the old file or the new one.

:func:`replace_whole` writes to a temporary file beside the target,
flushes it to disk, renames it over the target and flushes the folder's
entry. Snapshots (:mod:`~tcl_garage.experiment.snapshots`) and progress
files (:mod:`~tcl_garage.experiment.progress`) are written this way; each
write has two fault points (:mod:`~tcl_garage.experiment.faults`):
``during-<name>-write`` and ``after-<name>-rename``.
"""
import os
import tempfile
from typing import Callable, IO, Optional

from tcl_garage.experiment.faults import fault_point


def replace_whole(path: str,
                  write: Callable[[IO], None],
                  *,
                  name: str,
                  binary: bool = False,
                  permissions: Optional[int] = None) -> None:
    """Replace ``path`` by what ``write`` writes, atomically.

    Args:
        path (str): The file.
        write (callable): Writes the whole contents to the open file.
        name (str): The fault points' name (``snapshot``, ``progress``).
        binary (bool): Open the temporary file in binary mode (else text,
            UTF-8, no newline translation).
        permissions (int or None): Mode bits, less the umask; None keeps
            the temporary file's own (readable by its owner only).

    """
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(
        prefix='.' + os.path.basename(path), suffix='.tmp', dir=folder)
    try:
        if permissions is not None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, permissions & ~umask)
        with (os.fdopen(handle, 'wb') if binary else os.fdopen(
                handle, 'w', newline='', encoding='utf-8')) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        fault_point(f'during-{name}-write')
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    fault_point(f'after-{name}-rename')
    # The rename itself reaches the disk with the folder's entry.
    folder_handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_handle)
    finally:
        os.close(folder_handle)
