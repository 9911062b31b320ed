"""garage's ``PathBuffer`` as public arrays: the one place that reads its
storage.

garage 2021.3.0's ``PathBuffer`` keeps whole episodes in a ring buffer
(``_buffer``: one array per field, ``_capacity`` slots) and where each lies
(``_path_segments``), but offers no public view of them. The algorithms
read them through this module only: the TCL core's
:class:`~tcl_garage.tcl.windows.Episodes` (:func:`episodes_of`), and the
storage with its capacity (:func:`stored_fields`) for MQL's histories and
batches.
"""
from typing import Mapping, Optional, Sequence, Tuple

from garage.replay_buffer import PathBuffer
import numpy as np

from tcl_garage.tcl.windows import Episodes


def stored_fields(buffer: PathBuffer) -> Tuple[Mapping[str, np.ndarray], int]:
    """The buffer's storage and its capacity (no copy).

    Args:
        buffer (PathBuffer): The buffer.

    Returns:
        tuple: Each field's array, :math:`(C, \\dim)` (empty before the
            first episode), and C.

    """
    # pylint: disable=protected-access
    return buffer._buffer, buffer._capacity


def episode_spans(buffer: PathBuffer) -> Tuple[np.ndarray, np.ndarray]:
    """Where each episode of a ``PathBuffer`` lies in its storage.

    Args:
        buffer (PathBuffer): The buffer.

    Returns:
        tuple[np.ndarray, np.ndarray]: First storage slot of each episode and
            its length, oldest episode first; slot ``(first + t) % capacity``
            holds step ``t``.

    """
    # pylint: disable=protected-access
    segments = buffer._path_segments
    firsts = np.fromiter((first.start for first, _ in segments), np.int64,
                         len(segments))
    lengths = np.fromiter((len(first) + len(second)
                           for first, second in segments), np.int64,
                          len(segments))
    return firsts, lengths


def episodes_of(buffer: PathBuffer,
                fields: Optional[Sequence[str]] = None) -> Episodes:
    """A ``PathBuffer``'s episodes for the TCL core (no copy of the data).

    Args:
        buffer (PathBuffer): The buffer.
        fields (Sequence[str] or None): The fields windows are cut from
            (fewer fields, less copying); None: all it holds.

    Returns:
        Episodes: Its storage and episode boundaries.

    """
    storage, capacity = stored_fields(buffer)
    if fields is not None:
        storage = {field: storage[field] for field in fields}
    starts, lengths = episode_spans(buffer)
    return Episodes(storage, starts, lengths, capacity)
