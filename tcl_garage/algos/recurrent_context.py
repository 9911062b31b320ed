"""MQL's context: a GRU summary of the last H transitions of an episode.

Meta-Q-Learning (Fakoor et al., 2020) conditions its actor and critic on a
deterministic context ``c_t``: a GRU's last hidden state after reading the
``H`` transitions before step ``t`` of the current episode, each the
features ``(a_k, r_k, o_k)`` (previous action, previous reward, previous
observation), oldest first. Before step ``H`` of an episode the missing
transitions are zeros at the front (an episode's first context reads ``H``
zero rows), and nothing of another episode is ever read.

Three views of the same history:

* :func:`buffer_histories`: the histories of stored transitions (a
  training batch): ``c_t`` and ``c_{t+1}`` (the next observation's context,
  for the TD target), cut from a replay buffer's arrays that store each
  transition's ``episode_steps``;
* :class:`HistoryTracker`: the histories of episodes being run, pushed one
  step at a time;
* :class:`RecurrentContext`: the GRU that reads them.

A TCL window of ``H`` consecutive transitions is exactly a full history
(no padding), so :func:`transition_features` also turns windows into GRU
input.
"""
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np
import torch
from torch import nn


def history_width(observation_dim: int, action_dim: int) -> int:
    """Features of one history transition: action, reward, observation.

    Args:
        observation_dim (int): Observation size.
        action_dim (int): Action size.

    Returns:
        int: ``action_dim + 1 + observation_dim``.

    """
    return int(action_dim) + 1 + int(observation_dim)


def transition_features(fields: Dict[str, np.ndarray]) -> np.ndarray:
    """``(a, r, o)`` of each transition, in the GRU's feature order.

    Args:
        fields (dict[str, np.ndarray]): ``actions`` :math:`(..., A)`,
            ``rewards`` :math:`(..., 1)` and ``observations``
            :math:`(..., O)` (a buffer's fields, or windows of them).

    Returns:
        np.ndarray: :math:`(..., A + 1 + O)`, float32.

    """
    return np.concatenate([fields['actions'], fields['rewards'],
                           fields['observations']],
                          axis=-1).astype(np.float32)


def buffer_histories(fields: Mapping[str, np.ndarray], capacity: int,
                     indices: np.ndarray,
                     length: int) -> Tuple[np.ndarray, np.ndarray]:
    """The histories of stored transitions, for ``c_t`` and ``c_{t+1}``.

    Relies on a ring buffer's layout, garage ``PathBuffer``'s (an episode
    occupies consecutive slots modulo the capacity, and whole episodes are
    overwritten): the transition ``k`` steps before slot ``i`` of the same
    episode is slot ``i - k``, present when ``k <= episode_steps[i]``.

    Args:
        fields (Mapping[str, np.ndarray]): The buffer's arrays
            (:func:`~tcl_garage.algos.path_buffers.stored_fields`), with
            ``episode_steps`` (each transition's step in its episode, shape
            :math:`(C, 1)`) beside ``observations``, ``actions`` and
            ``rewards``.
        capacity (int): C, where slots wrap around.
        indices (np.ndarray): Shape :math:`(B,)`: stored slots.
        length (int): H.

    Returns:
        tuple[np.ndarray, np.ndarray]: Each :math:`(B, H, C)`: the H
            transitions before each one (its context's input) and the H
            ending with it (its next observation's), zeros where the
            episode had not begun.

    """
    steps = fields['episode_steps'][indices, 0].astype(np.int64)
    # Offsets -H .. 0: the history is offsets -H .. -1, the next one -H+1 .. 0.
    offsets = np.arange(-length, 1)
    present = steps[:, None] + offsets >= 0
    slots = (indices[:, None] + offsets) % capacity
    features = transition_features({key: fields[key][slots]
                                    for key in ('actions', 'rewards',
                                                'observations')})
    features[~present] = 0.0
    return features[:, :-1], features[:, 1:]


class HistoryTracker:
    """The histories of episodes being run, one row per episode.

    Args:
        rows (int): Episodes run at once.
        length (int): H.
        width (int): Features per transition (:func:`history_width`).

    """

    def __init__(self, rows: int, length: int, width: int) -> None:
        self._history = np.zeros((rows, length, width), np.float32)

    def histories(self, rows: Sequence[int]) -> np.ndarray:
        """The current histories of some rows.

        Args:
            rows (Sequence[int]): The rows.

        Returns:
            np.ndarray: :math:`(len(rows), H, C)`, oldest transition first.

        """
        return self._history[list(rows)]

    def push(self, rows: Sequence[int], observations: np.ndarray,
             actions: np.ndarray, rewards: np.ndarray) -> None:
        """Append one step's transitions; the oldest of each row drops out.

        Args:
            rows (Sequence[int]): The rows that stepped.
            observations (np.ndarray): :math:`(R, O)`: where each acted.
            actions (np.ndarray): :math:`(R, A)`.
            rewards (np.ndarray): :math:`(R,)`.

        """
        rows = list(rows)
        new = transition_features(dict(
            actions=np.asarray(actions).reshape(len(rows), -1),
            rewards=np.asarray(rewards, np.float32).reshape(-1, 1),
            observations=np.asarray(observations).reshape(len(rows), -1)))
        self._history[rows] = np.concatenate(
            [self._history[rows, 1:], new[:, None]], axis=1)


class RecurrentContext(nn.Module):
    """A GRU over a history; the context is its last hidden state.

    Args:
        input_dim (int): Features per transition (:func:`history_width`).
        context_size (int): Hidden units (MQL: 15 to 40; the TCL paper's
            Meta-World: 30).

    """

    def __init__(self, input_dim: int, context_size: int) -> None:
        super().__init__()
        self.gru = nn.GRU(int(input_dim), int(context_size), batch_first=True)
        self.context_size = context_size

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        """The context of each history.

        Args:
            history (torch.Tensor): :math:`(B, H, C)`, oldest first.

        Returns:
            torch.Tensor: :math:`(B, context\\_size)`.

        """
        _, last = self.gru(history)
        return last[-1]
