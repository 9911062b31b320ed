"""Posteriors of windows of transitions as products of Gaussian factors.

A PEARL-style encoder maps each transition to a diagonal Gaussian factor; the
posterior of a set of transitions (a window) is their normalised product. This
module computes it for a whole batch of windows at once, and the KL
divergence of posteriors to the standard normal prior.
"""
from typing import Tuple

import torch

#: Variances are clamped to at least this before inversion (as garage does).
MIN_VARIANCE = 1e-7


def product_of_gaussians(means: torch.Tensor, variances: torch.Tensor,
                         dim: int = -2) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""Normalised product of diagonal Gaussians along ``dim``.

    .. math::
        \sigma^2 = \Big(\sum_t \sigma_t^{-2}\Big)^{-1},\quad
        \mu = \sigma^2 \sum_t \mu_t \sigma_t^{-2}

    Args:
        means (torch.Tensor): Factor means, e.g. shape :math:`(N, W, L)`.
        variances (torch.Tensor): Factor variances, same shape, > 0.
        dim (int): Dimension holding the factors of one product.

    Returns:
        tuple[torch.Tensor, torch.Tensor]: Mean and variance of each product,
            with ``dim`` removed (e.g. :math:`(N, L)` each).

    """
    precisions = 1.0 / variances.clamp(min=MIN_VARIANCE)
    variance = 1.0 / precisions.sum(dim=dim)
    mean = variance * (means * precisions).sum(dim=dim)
    return mean, variance


def kl_to_standard_normal(means: torch.Tensor,
                          variances: torch.Tensor) -> torch.Tensor:
    """``sum KL(N(mean, variance) || N(0, 1))`` over all entries.

    Args:
        means (torch.Tensor): Posterior means, e.g. :math:`(T, L)`.
        variances (torch.Tensor): Posterior variances, same shape, > 0.

    Returns:
        torch.Tensor: The summed KL divergence (a scalar).

    """
    return 0.5 * (variances + means.pow(2) - 1. - variances.log()).sum()
