"""MQL's replay: episodes stored with each step's index, and training
batches of transitions with their histories, gathered from the buffers'
public arrays (:func:`~tcl_garage.algos.path_buffers.stored_fields`).

MQL keeps one garage ``PathBuffer`` per training task and samples them as
their union (:func:`sample_uniformly`); a test task's exploration episodes
go to a buffer of their own (:func:`gather` of all its transitions).
"""
from typing import Dict, Mapping, Sequence

from garage.replay_buffer import PathBuffer
import numpy as np

from tcl_garage.algos.path_buffers import stored_fields
from tcl_garage.algos.recurrent_context import buffer_histories
from tcl_garage.sampling.collector import to_buffer_path

#: The fields of a training batch, each :math:`(B, ...)`.
BATCH_FIELDS = ('observations', 'actions', 'rewards', 'next_observations',
                'dones', 'history', 'next_history')


def buffer_path(path: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """An episode in the format of MQL's buffers (with each step's index
    in its episode, ``episode_steps``, for the histories).

    Args:
        path (dict): An episode in garage's path format.

    Returns:
        dict[str, np.ndarray]: What ``PathBuffer.add_path`` takes.

    """
    stored = to_buffer_path(path)
    stored['episode_steps'] = np.arange(len(path['rewards']),
                                        dtype=np.int64)[:, None]
    return stored


def gather(buffer: PathBuffer, indices: np.ndarray,
           history_length: int) -> Dict[str, np.ndarray]:
    """Stored transitions with their histories.

    Args:
        buffer (PathBuffer): An MQL buffer (with ``episode_steps``).
        indices (np.ndarray): :math:`(B,)` stored slots.
        history_length (int): H.

    Returns:
        dict[str, np.ndarray]: :data:`BATCH_FIELDS`.

    """
    fields, capacity = stored_fields(buffer)
    batch = {key: fields[key][indices] for key in BATCH_FIELDS[:5]}
    batch['history'], batch['next_history'] = buffer_histories(
        fields, capacity, indices, history_length)
    return batch


def sample_uniformly(buffers: Sequence[PathBuffer], size: int,
                     rng: np.random.Generator,
                     history_length: int) -> Dict[str, np.ndarray]:
    """Transitions drawn uniformly over every buffer's (MQL's one replay
    over all training tasks).

    Args:
        buffers (Sequence[PathBuffer]): Each task's buffer.
        size (int): Transitions.
        rng (np.random.Generator): The draws (one call).
        history_length (int): H.

    Returns:
        dict[str, np.ndarray]: :data:`BATCH_FIELDS`, rows in the order
            drawn.

    """
    sizes = np.array([buffer.n_transitions_stored for buffer in buffers])
    ends = np.cumsum(sizes)
    flat = rng.integers(ends[-1], size=size)
    tasks = np.searchsorted(ends, flat, side='right')
    indices = flat - (ends - sizes)[tasks]
    parts = {}
    for task in np.unique(tasks):
        rows = np.flatnonzero(tasks == task)
        parts[int(task)] = (rows, gather(buffers[int(task)], indices[rows],
                                         history_length))
    batch = {}
    for key in BATCH_FIELDS:
        first = next(iter(parts.values()))[1][key]
        array = np.empty((size, ) + first.shape[1:], first.dtype)
        for rows, part in parts.values():
            array[rows] = part[key]
        batch[key] = array
    return batch
