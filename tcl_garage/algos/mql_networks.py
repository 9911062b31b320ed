"""MQL's networks: TD3's actor and twin critic, each with its own recurrent
context (:class:`~tcl_garage.algos.recurrent_context.RecurrentContext`, a
GRU summary of the last ``H`` transitions) concatenated to its inputs; the
critic's two Q heads share its GRU."""
from typing import List, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from tcl_garage.algos.recurrent_context import (history_width,
                                                RecurrentContext)


def _mlp(input_dim: int, hidden_sizes: Sequence[int],
         output_dim: int) -> nn.Sequential:
    layers: List[nn.Module] = []
    for size in hidden_sizes:
        layers += [nn.Linear(input_dim, size), nn.ReLU()]
        input_dim = size
    layers.append(nn.Linear(input_dim, output_dim))
    return nn.Sequential(*layers)


class ContextActor(nn.Module):
    """TD3's deterministic actor on ``(o_t, c_t)``, with its own context.

    Args:
        observation_dim (int): O.
        action_dim (int): A.
        hidden_sizes (Sequence[int]): Hidden sizes of the MLP (ReLU).
        context_size (int): The GRU's hidden units.
        history_length (int): H (kept for the samplers and TCL).
        action_low (np.ndarray): Lower action bounds, :math:`(A,)`.
        action_high (np.ndarray): Upper action bounds, :math:`(A,)`.

    """

    def __init__(self, observation_dim: int, action_dim: int,
                 hidden_sizes: Sequence[int], context_size: int,
                 history_length: int, action_low: np.ndarray,
                 action_high: np.ndarray) -> None:
        super().__init__()
        self.history_length = history_length
        self.context = RecurrentContext(
            history_width(observation_dim, action_dim), context_size)
        self.mlp = _mlp(observation_dim + context_size, hidden_sizes,
                        action_dim)
        self.register_buffer('action_low',
                             torch.as_tensor(action_low, dtype=torch.float32))
        self.register_buffer('action_high',
                             torch.as_tensor(action_high,
                                             dtype=torch.float32))

    def forward(self, observations: torch.Tensor,
                history: torch.Tensor) -> torch.Tensor:
        """Actions, within the bounds.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            history (torch.Tensor): :math:`(B, H, C)`.

        Returns:
            torch.Tensor: :math:`(B, A)`.

        """
        return self.act(observations, self.context(history))

    def act(self, observations: torch.Tensor,
            context: torch.Tensor) -> torch.Tensor:
        """Actions from a context already computed.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            context (torch.Tensor): :math:`(B, context\\_size)`.

        Returns:
            torch.Tensor: :math:`(B, A)`.

        """
        unit = torch.tanh(self.mlp(torch.cat([observations, context], -1)))
        return self.action_low + (unit + 1) * 0.5 * (self.action_high -
                                                     self.action_low)


class ContextCritic(nn.Module):
    """TD3's twin Q-functions on ``(o_t, a_t, c_t)``, sharing one context.

    Args:
        observation_dim (int): O.
        action_dim (int): A.
        hidden_sizes (Sequence[int]): Hidden sizes of each Q-function.
        context_size (int): The GRU's hidden units.

    """

    def __init__(self, observation_dim: int, action_dim: int,
                 hidden_sizes: Sequence[int], context_size: int) -> None:
        super().__init__()
        self.context = RecurrentContext(
            history_width(observation_dim, action_dim), context_size)
        width = observation_dim + action_dim + context_size
        self.q1 = _mlp(width, hidden_sizes, 1)
        self.q2 = _mlp(width, hidden_sizes, 1)

    def forward(self, observations: torch.Tensor, actions: torch.Tensor,
                history: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both Q-values.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            actions (torch.Tensor): :math:`(B, A)`.
            history (torch.Tensor): :math:`(B, H, C)`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Each :math:`(B, 1)`.

        """
        return self.q_values(observations, actions, self.context(history))

    def q_values(self, observations: torch.Tensor, actions: torch.Tensor,
                 context: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both Q-values from a context already computed.

        Args:
            observations (torch.Tensor): :math:`(B, O)`.
            actions (torch.Tensor): :math:`(B, A)`.
            context (torch.Tensor): :math:`(B, context\\_size)`.

        Returns:
            tuple[torch.Tensor, torch.Tensor]: Each :math:`(B, 1)`.

        """
        inputs = torch.cat([observations, actions, context], -1)
        return self.q1(inputs), self.q2(inputs)
