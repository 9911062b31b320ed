"""MQL's propensity weights: how much a training transition looks like the
test task.

At meta-test MQL (Fakoor et al., 2020, Section 4.2) reuses the meta-training
replay to adapt to a new task, weighting each training transition by
``beta(x) = p(test | x) / p(train | x)``, estimated with a logistic
regression that tells the test task's contexts (label 0) from the training
tasks' contexts (label 1). With the classifier's log-odds of "training"
``f(x) = w.x + b``, ``beta = exp(-f(x))``; MQL clips ``f`` from below at
``-beta_clip`` so that no weight exceeds ``exp(beta_clip)``.

:func:`fit_logistic_regression` is the classifier (L2-regularised, as
scikit-learn's ``LogisticRegression(C=...)``, solved by Newton's method in
float64: deterministic, no new dependency), :func:`propensity_weights` the
clipped weights, :func:`effective_sample_size` their normalised ESS (MQL's
diagnostic: 1 when every weight is equal).
"""
from typing import Tuple

import numpy as np
import torch


def _objective(theta, features, labels, c):
    logits = features @ theta
    # log(1 + exp(-y z)) with y = 2 t - 1, computed stably.
    signed = (2 * labels - 1) * logits
    return 0.5 * theta[:-1] @ theta[:-1] + c * np.logaddexp(0, -signed).sum()


def fit_logistic_regression(features: np.ndarray,
                            labels: np.ndarray,
                            c: float,
                            max_iter: int = 100,
                            tol: float = 1e-8) -> Tuple[np.ndarray, float]:
    """An L2-regularised logistic regression, fitted by Newton's method.

    Minimises ``0.5 |w|^2 + c * sum_i log(1 + exp(-y_i (w.x_i + b)))``
    with ``y_i = 2 labels_i - 1`` (the bias is not regularised), as
    scikit-learn's ``LogisticRegression(C=c)``.

    Args:
        features (np.ndarray): :math:`(N, D)`.
        labels (np.ndarray): :math:`(N,)`, 0 or 1.
        c (float): Inverse regularisation strength, > 0 (MQL's
            ``lam_csc``).
        max_iter (int): Newton steps at most.
        tol (float): Stop when a step moves the parameters less than this.

    Returns:
        tuple[np.ndarray, float]: ``w`` :math:`(D,)` and ``b``.

    Raises:
        ValueError: On bad shapes, labels other than 0/1, a single class,
            or ``c <= 0``.

    """
    features = np.asarray(features, np.float64)
    labels = np.asarray(labels, np.float64)
    if features.ndim != 2 or labels.shape != (features.shape[0], ):
        raise ValueError('features must be (N, D) and labels (N,), got '
                         f'{features.shape} and {labels.shape}')
    if not np.isin(labels, (0.0, 1.0)).all() or len(np.unique(labels)) < 2:
        raise ValueError('labels must be 0 or 1, both classes present')
    if not c > 0:
        raise ValueError(f'c must be > 0, got {c}')
    design = np.concatenate([features, np.ones((len(labels), 1))], axis=1)
    dim = design.shape[1]
    penalty = np.eye(dim)
    penalty[-1, -1] = 1e-10  # the bias: unpenalised (a tiny ridge: solvable)
    theta = np.zeros(dim)
    value = _objective(theta, design, labels, c)
    for _ in range(max_iter):
        probability = 1 / (1 + np.exp(-(design @ theta)))
        gradient = penalty @ theta + c * design.T @ (probability - labels)
        hessian = penalty + c * (design.T * (probability *
                                             (1 - probability))) @ design
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while True:  # backtracking: every accepted step lowers the objective
            candidate = theta - scale * step
            new_value = _objective(candidate, design, labels, c)
            if new_value <= value or scale < 1e-6:
                break
            scale /= 2
        theta, value = candidate, new_value
        if np.abs(scale * step).max() < tol:
            break
    return theta[:-1], float(theta[-1])


def propensity_weights(features: torch.Tensor, weight,
                       bias: float, beta_clip: float) -> torch.Tensor:
    """``beta = exp(-clip(w.x + b, min=-beta_clip))`` for each row.

    Args:
        features (torch.Tensor): :math:`(B, D)`: contexts of training
            transitions.
        weight (np.ndarray or torch.Tensor): :math:`(D,)`, from
            :func:`fit_logistic_regression` (label 1: training tasks); a
            tensor on the features' device costs no copy.
        bias (float): Its bias.
        beta_clip (float): Largest log-weight, > 0 (MQL: 1 to 2; the TCL
            paper's Meta-World: 1.1).

    Returns:
        torch.Tensor: :math:`(B, 1)`, in :math:`(0, e^{beta\\_clip}]`.

    """
    w = torch.as_tensor(weight, dtype=features.dtype, device=features.device)
    log_odds_train = features @ w + bias
    return torch.exp(-log_odds_train.clamp(min=-beta_clip))[:, None]


def effective_sample_size(weights: torch.Tensor) -> torch.Tensor:
    """Normalised effective sample size ``(sum w)^2 / (n sum w^2)``.

    Args:
        weights (torch.Tensor): Any shape, positive.

    Returns:
        torch.Tensor: Scalar in :math:`(0, 1]`; 1 for equal weights.

    """
    weights = weights.flatten()
    return weights.sum().square() / (weights.numel() *
                                     weights.square().sum())
