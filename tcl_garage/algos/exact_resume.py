"""Exact resume: what a snapshot needs beyond garage's pickling to continue
a run as if it had never stopped.

garage's PEARL leaves its replay buffers out of its snapshot, and no garage
snapshot holds the global random states. :class:`ExactResume`, a mixin of
:class:`~tcl_garage.algos.PEARL`, adds both to the pickled state.
:func:`buffer_state` keeps the filled part of a ``PathBuffer`` (garage
allocates its whole capacity) and :func:`buffer_from_state` rebuilds it;
:func:`global_random_state` and :func:`set_global_random_state` save and
restore numpy's, torch's (CPU and CUDA) and Python's random states.
"""
import random
from typing import Any, Dict, Optional, Tuple

from garage.replay_buffer import PathBuffer
import numpy as np
import torch


def global_random_state() -> Dict[str, Any]:
    """The random states of numpy, torch (CPU and CUDA) and Python.

    Returns:
        dict: What :func:`set_global_random_state` takes.

    """
    return dict(numpy=np.random.get_state(),
                python=random.getstate(),
                torch=torch.get_rng_state(),
                cuda=(torch.cuda.get_rng_state_all()
                      if torch.cuda.is_available() else None))


def set_global_random_state(state: Dict[str, Any]) -> None:
    """Restore the states of :func:`global_random_state`.

    Args:
        state (dict): From :func:`global_random_state`.

    """
    np.random.set_state(state['numpy'])
    random.setstate(state['python'])
    torch.set_rng_state(state['torch'])
    if state['cuda'] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def buffer_state(buffer: PathBuffer) -> Dict[str, Any]:
    """A ``PathBuffer``'s contents: its filled part only.

    garage allocates a buffer's whole capacity (PEARL: 1e6 transitions)
    at its first episode; a snapshot keeps the transitions stored.

    Args:
        buffer (PathBuffer): The buffer.

    Returns:
        dict: What :func:`buffer_from_state` takes.

    """
    # pylint: disable=protected-access
    stored = buffer._transitions_stored  # slots [0, stored) are filled
    return dict(capacity=buffer._capacity,
                env_spec=buffer._env_spec,
                stored=stored,
                next_first=buffer._first_idx_of_next_path,
                segments=list(buffer._path_segments),
                data={key: array[:stored]
                      for key, array in buffer._buffer.items()})


def buffer_from_state(state: Dict[str, Any]) -> PathBuffer:
    """A ``PathBuffer`` holding what :func:`buffer_state` saved.

    Args:
        state (dict): From :func:`buffer_state`.

    Returns:
        PathBuffer: The buffer, as it was.

    """
    # pylint: disable=protected-access
    buffer = PathBuffer(state['capacity'], env_spec=state['env_spec'])
    for key, filled in state['data'].items():
        array = np.zeros((state['capacity'], ) + filled.shape[1:],
                         filled.dtype)
        array[:state['stored']] = filled
        buffer._buffer[key] = array
    buffer._transitions_stored = state['stored']
    buffer._first_idx_of_next_path = state['next_first']
    buffer._path_segments.extend(state['segments'])
    return buffer


class ExactResume:
    """Mixin: the pickled algorithm carries its replay buffers and the
    global random states, so a resumed run continues bit for bit.

    Put it before the garage algorithm in the bases; name the attributes
    that hold ``{task: PathBuffer}`` dicts in
    :attr:`saved_buffer_attributes`, and call
    :meth:`continue_random_streams` when training starts (after garage's
    workers have re-seeded on rebuilding).
    """

    #: Attributes holding ``{task: PathBuffer}`` dicts, saved and restored.
    saved_buffer_attributes: Tuple[str, ...] = ()

    #: The random states of the snapshot, until training continues them.
    _random_state_to_restore: Optional[Dict[str, Any]] = None

    def __getstate__(self):
        """The base's pickled state, plus the filled part of every saved
        buffer and the global random states.

        Returns:
            dict: The state.

        """
        # A copy: object's __getstate__ returns the instance's __dict__.
        state = dict(super().__getstate__())
        state['_saved_buffers'] = {
            name: {task: buffer_state(buffer)
                   for task, buffer in getattr(self, name).items()}
            for name in self.saved_buffer_attributes
        }
        state['_random_state_to_restore'] = global_random_state()
        return state

    def __setstate__(self, state):
        """Unpickle through the base, then put the saved buffers back.

        Args:
            state (dict): From :meth:`__getstate__`.

        """
        saved_buffers = state.pop('_saved_buffers', None)
        base = getattr(super(), '__setstate__', None)
        if base is not None:  # garage's algorithms define one
            base(state)
        else:
            self.__dict__.update(state)
        for name, buffers in (saved_buffers or {}).items():
            setattr(self, name, {task: buffer_from_state(saved)
                                 for task, saved in buffers.items()})

    def continue_random_streams(self) -> None:
        """Restore the snapshot's global random states, once (a no-op for a
        run that was not resumed)."""
        if self._random_state_to_restore is not None:
            set_global_random_state(self._random_state_to_restore)
            self._random_state_to_restore = None
