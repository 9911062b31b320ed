"""Windows of consecutive transitions cut from whole trajectories.

TCL's positive pairs are two windows of the SAME trajectory; windows of other
trajectories are its negatives. A task's trajectories are given as
:class:`Episodes`: plain per-field arrays and each episode's first slot and
length (a host adapts its own replay buffer to it; garage's ``PathBuffer``
is adapted in :mod:`tcl_garage.algos.path_buffers`). This module cuts
windows out of them with one vectorised gather per task (no Python loop over
transitions) and says which trajectory and which task every window came
from, so that a loss can tell a false negative (another window of the same
trajectory, or of the same task) from a real one.

Where a key comes from is a design choice the paper leaves open
(:data:`POSITIVES`): ``'trajectory'`` (the paper's text: the query's own
episode at another start) or ``'task'`` (another episode of the same task,
as in the authors' code before 2021-01-31).

Only numpy is needed: episodes occupy consecutive slots of their arrays,
modulo a capacity ``C`` (a ring buffer; ``C`` = the arrays' length for
episodes stored one after another, :meth:`Episodes.concatenated`).
"""
import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

Batch = Dict[str, np.ndarray]

#: Where a query's positive key is cut from: its own episode at another
#: start (``'trajectory'``, the paper's text), or another episode of the
#: same buffer (``'task'``).
POSITIVES = ('trajectory', 'task')


@dataclasses.dataclass(frozen=True)
class WindowPairs:
    """Query and key windows, each key its query's positive.

    ``N`` windows of ``W`` transitions; row ``i`` of ``query`` and of ``key``
    come from the same trajectory at different starts (``positive=
    'trajectory'``), or from two episodes of the same buffer
    (``positive='task'``).

    Attributes:
        query (dict[str, np.ndarray]): Every field of the buffer (e.g.
            ``observations``), each of shape :math:`(N, W, \\dim)`.
        key (dict[str, np.ndarray] or None): The same fields for the key
            windows; None when only queries were asked for.
        trajectory_ids (np.ndarray): Shape :math:`(N,)`: the trajectory of
            each query; equal ids mean the same trajectory (same buffer
            object and same episode in it).
        query_starts (np.ndarray): Shape :math:`(N,)`: each query window's
            first step within its episode.
        key_starts (np.ndarray or None): Likewise for the keys.
        task_ids (np.ndarray): Shape :math:`(N,)`: the buffer (task) of each
            row; equal ids mean the same buffer object.
        key_trajectory_ids (np.ndarray or None): Shape :math:`(N,)`: the
            trajectory of each key (equal to ``trajectory_ids`` with
            ``positive='trajectory'``).
        same_episode_keys (np.ndarray or None): Shape :math:`(N,)`, bool:
            with ``positive='task'``, the rows whose buffer held no second
            episode long enough, so that their key was cut from the query's
            own episode at another start. All False with
            ``positive='trajectory'``: there that is the rule, not a
            fallback.

    """

    query: Batch
    key: Optional[Batch]
    trajectory_ids: np.ndarray
    query_starts: np.ndarray
    key_starts: Optional[np.ndarray]
    task_ids: Optional[np.ndarray] = None
    key_trajectory_ids: Optional[np.ndarray] = None
    same_episode_keys: Optional[np.ndarray] = None


@dataclasses.dataclass(frozen=True)
class Episodes:
    """One task's stored episodes: per-field arrays and episode boundaries.

    Step ``t`` of episode ``e`` is slot ``(starts[e] + t) % capacity`` of
    every field.

    Attributes:
        fields (Mapping[str, np.ndarray]): The storage, each field of shape
            :math:`(C, \\dim)` (e.g. ``observations``, ``actions``,
            ``rewards``); read, never copied or written.
        starts (np.ndarray): Shape :math:`(E,)`, int: each episode's first
            slot, oldest episode first.
        lengths (np.ndarray): Shape :math:`(E,)`, int: each episode's steps.
        capacity (int): C, where slots wrap around (a ring buffer's size).

    """

    fields: Mapping[str, np.ndarray]
    starts: np.ndarray
    lengths: np.ndarray
    capacity: int

    @classmethod
    def concatenated(cls, episodes: Sequence[Mapping[str, np.ndarray]]
                     ) -> 'Episodes':
        """Whole episodes stored one after another.

        Args:
            episodes (Sequence[Mapping[str, np.ndarray]]): Each episode's
                fields, each of shape :math:`(T_e, \\dim)`.

        Returns:
            Episodes: Their concatenation (a copy), capacity its length.

        """
        lengths = np.array([len(next(iter(episode.values())))
                            for episode in episodes], np.int64)
        fields = {key: np.concatenate([episode[key] for episode in episodes])
                  for key in episodes[0]}
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(
            np.int64)
        return cls(fields, starts, lengths, int(lengths.sum()))

    @property
    def longest(self) -> int:
        """int: Steps of the longest episode (0 when there is none)."""
        return int(self.lengths.max(initial=0))


def sample_window_pairs(buffers: Sequence[Episodes],
                        window_size: int,
                        windows_per_buffer: int = 1,
                        with_keys: bool = True,
                        rng: Optional[np.random.Generator] = None,
                        positive: str = 'trajectory') -> WindowPairs:
    """Cut query (and key) windows from trajectories of each task.

    For each task's :class:`Episodes` in ``buffers`` (the same object may
    appear more than once, as tasks do in a PEARL meta-batch: it is one
    task), ``windows_per_buffer`` trajectories
    long enough are drawn, distinct within that draw where the buffer holds
    enough. From each, a query window starts at ``t`` uniform in
    ``[0, len - W]``. Its key window:

    * ``positive='trajectory'``: the same trajectory at a different start
      ``t'``, uniform over the other starts, so a positive pair is never one
      window twice: with keys, trajectories must be at least ``W + 1`` long
      (two starts), without them ``W``;
    * ``positive='task'``: another trajectory of the same buffer, uniform
      over its other episodes of at least ``W + 1`` steps, at a uniform
      start. A buffer with a single such episode has no other: its rows'
      keys are cut from the query's episode at another start, as with
      ``'trajectory'``, and flagged in ``same_episode_keys`` (never a copy
      of the query).

    Rows are ordered buffer by buffer: rows ``b * K`` to ``b * K + K - 1``
    come from ``buffers[b]`` (``K = windows_per_buffer``).

    Args:
        buffers (Sequence[Episodes]): One task's episodes per row group.
        window_size (int): W, the number of consecutive transitions.
        windows_per_buffer (int): K, trajectories drawn from each buffer.
        with_keys (bool): Also cut key windows.
        rng (np.random.Generator or None): Randomness; None uses
            ``np.random`` (seeded by garage's ``set_seed``).
        positive (str): Where keys come from, one of :data:`POSITIVES`.

    Returns:
        WindowPairs: The windows, :math:`N = K \\cdot len(buffers)` rows.

    Raises:
        ValueError: If the sizes are not positive, ``positive`` is unknown,
            or a buffer is empty or holds no episode long enough
            (``window_size`` steps, plus one with keys).

    """
    if positive not in POSITIVES:
        raise ValueError(f'positive={positive!r}: choose one of '
                         f'{", ".join(POSITIVES)}')
    if window_size < 1 or windows_per_buffer < 1:
        raise ValueError('window_size and windows_per_buffer must be >= 1, '
                         f'got {window_size} and {windows_per_buffer}')
    if len(buffers) == 0:
        raise ValueError('sample_window_pairs needs at least one buffer')
    randint = rng.integers if rng is not None else np.random.randint
    choice = rng.choice if rng is not None else np.random.choice
    n_rows = len(buffers) * windows_per_buffer
    buffer_ids: Dict[int, int] = {}
    query_parts: List[Batch] = []
    key_parts: List[Batch] = []
    trajectory_ids = np.empty(n_rows, np.int64)
    key_trajectory_ids = np.empty(n_rows, np.int64)
    task_ids = np.empty(n_rows, np.int64)
    same_episode_keys = np.zeros(n_rows, bool)
    query_starts = np.empty(n_rows, np.int64)
    key_starts = np.empty(n_rows, np.int64)
    offsets = np.arange(window_size)
    # A key needs a start other than its query's: one step more.
    min_length = window_size + 1 if with_keys else window_size
    for b, buffer in enumerate(buffers):
        firsts, lengths = buffer.starts, buffer.lengths
        long_enough = np.flatnonzero(lengths >= min_length)
        if long_enough.size == 0:
            longest = int(lengths.max()) if lengths.size else 0
            raise ValueError(
                f'buffer {b} holds no episode of at least {min_length} steps '
                f'(window_size={window_size}'
                f'{" + 1 for a different key" if with_keys else ""}; its '
                f'longest has {longest}): lower window_size, or collect '
                'longer episodes first')
        episodes = choice(long_enough,
                          size=windows_per_buffer,
                          replace=long_enough.size < windows_per_buffer)
        n_starts = lengths[episodes] - window_size + 1
        starts = randint(0, n_starts)
        rows = slice(b * windows_per_buffer, (b + 1) * windows_per_buffer)
        query_starts[rows] = starts
        # Task ids: the first row group that used this buffer object.
        # Trajectory ids: that, times a stride larger than any episode index.
        group = buffer_ids.setdefault(id(buffer), b)
        task_ids[rows] = group
        trajectory_ids[rows] = group * (1 << 32) + episodes
        capacity = buffer.capacity
        storage = buffer.fields
        slots = (firsts[episodes, None] + starts[:, None] +
                 offsets) % capacity
        query_parts.append({k: v[slots] for k, v in storage.items()})
        if not with_keys:
            continue
        key_episodes = episodes
        if positive == 'task' and long_enough.size >= 2:
            # Another episode, uniform over the others: the query's position
            # in long_enough shifted by 1 + U{0, ..., count - 2}.
            position = np.searchsorted(long_enough, episodes)
            count = long_enough.size
            key_episodes = long_enough[
                (position + 1 + randint(0, count - 1, size=position.size)) %
                count]
            other = randint(0, lengths[key_episodes] - window_size + 1)
        else:
            # A different start, uniform over the others (n_starts >= 2).
            other = (starts + 1 + randint(0, n_starts - 1)) % n_starts
            same_episode_keys[rows] = positive == 'task'
        key_starts[rows] = other
        key_trajectory_ids[rows] = group * (1 << 32) + key_episodes
        slots = (firsts[key_episodes, None] + other[:, None] +
                 offsets) % capacity
        key_parts.append({k: v[slots] for k, v in storage.items()})
    return WindowPairs(query=_concatenate(query_parts),
                       key=_concatenate(key_parts) if with_keys else None,
                       trajectory_ids=trajectory_ids,
                       query_starts=query_starts,
                       key_starts=key_starts if with_keys else None,
                       task_ids=task_ids,
                       key_trajectory_ids=(key_trajectory_ids
                                           if with_keys else None),
                       same_episode_keys=(same_episode_keys
                                          if with_keys else None))


def _concatenate(parts: List[Batch]) -> Batch:
    """Join per-buffer window batches field by field.

    Args:
        parts (list[dict[str, np.ndarray]]): Batches with the same fields.

    Returns:
        dict[str, np.ndarray]: One batch.

    Raises:
        ValueError: If the buffers do not hold the same fields.

    """
    fields = parts[0].keys()
    if any(part.keys() != fields for part in parts):
        raise ValueError('all buffers must hold the same fields')
    return {k: np.concatenate([part[k] for part in parts]) for k in fields}
