"""A momentum ("key") encoder: an exponential moving average of an encoder.

As in MoCo and CURL, the keys of the contrastive loss come from a slowly
moving copy of the query encoder. The copy receives no gradients; after every
optimiser step of the query encoder it moves a fraction ``tau`` of the way to
it: ``phi_k <- (1 - tau) * phi_k + tau * phi_q`` (TCL: tau = 0.005).
"""
import copy

import torch
from torch import nn


class MomentumEncoder(nn.Module):
    """An EMA copy of any ``nn.Module``, used to encode contrastive keys.

    Args:
        encoder (nn.Module): The query encoder to copy. It is deep-copied;
            the copy's parameters have ``requires_grad=False``.
        tau (float): Fraction of the way the copy moves towards the query
            encoder at each :meth:`update`, in (0, 1]. 1 copies it exactly.

    Raises:
        ValueError: If tau is not in (0, 1].

    """

    def __init__(self, encoder: nn.Module, tau: float = 0.005) -> None:
        super().__init__()
        if not 0.0 < tau <= 1.0:
            raise ValueError(f'tau must lie in (0, 1], got {tau}; the paper '
                             'uses 0.005')
        self.tau = float(tau)
        self.encoder = copy.deepcopy(encoder).requires_grad_(False)

    def forward(self, *args, **kwargs):
        """Encode with the key copy; no autograd graph is recorded.

        Args:
            *args: Passed to the copied encoder.
            **kwargs: Passed to the copied encoder.

        Returns:
            object: The copied encoder's output.

        """
        with torch.no_grad():
            return self.encoder(*args, **kwargs)

    def update(self, encoder: nn.Module) -> None:
        """Move every key parameter ``tau`` of the way to ``encoder``'s.

        Buffers (e.g. batch-norm statistics) are copied as they are.

        Args:
            encoder (nn.Module): The query encoder this copy was made from.

        Raises:
            ValueError: If ``encoder`` does not have the copy's parameters.

        """
        soft_update_(self.encoder, encoder, self.tau)


@torch.no_grad()
def soft_update_(target: nn.Module, source: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) target + tau source``, all parameters at once.

    The update of momentum encoders and of target networks (one fused
    ``torch._foreach_lerp_``); buffers are copied as they are.

    Args:
        target (nn.Module): Updated in place.
        source (nn.Module): A module with the same parameter shapes.
        tau (float): Fraction of the way to move.

    Raises:
        ValueError: If the parameter shapes differ.

    """
    target_params = list(target.parameters())
    source_params = list(source.parameters())
    if [p.shape for p in target_params] != [p.shape for p in source_params]:
        raise ValueError('soft_update_ needs a source with the parameters of '
                         'the target (the module it was copied from): '
                         'parameter shapes differ')
    torch._foreach_lerp_(target_params, source_params, tau)
    for target_buffer, source_buffer in zip(target.buffers(),
                                            source.buffers()):
        target_buffer.copy_(source_buffer)
