"""The TCL objective: InfoNCE over window posteriors, scored by 2-Wasserstein.

Each window of a trajectory is encoded as a diagonal Gaussian posterior
``N(mean, diag(std**2))``. Two windows of the same trajectory are a positive
pair; windows of other trajectories are negatives. The similarity of two
posteriors is the negative squared 2-Wasserstein distance between them (paper
eq. 7), and the loss is InfoNCE with the positives on the diagonal (eq. 8).

Which keys count as negatives is a design choice the paper leaves open
(:data:`NEGATIVES`): every key but the positive (``'all'``, the paper's
text; keys of the query's own trajectory are never negatives), or only keys
of other tasks (``'other-tasks'``: the loss then separates tasks, not
episodes). :func:`excluded_keys` builds the mask for either.

Nothing here knows about PEARL: any encoder that produces Gaussian posteriors
can use these functions, and so can a deterministic encoder (MQL's recurrent
context): give ``None`` for its standard deviations and each output is a
point mass, whose 2-Wasserstein similarity is the negative squared distance.
"""
from typing import Optional

import torch
import torch.nn.functional as F

#: Which keys are a query's negatives: every key but its positive, except
#: keys of its own (or its positive's) trajectory (``'all'``), or only the
#: keys of other tasks (``'other-tasks'``).
NEGATIVES = ('all', 'other-tasks')


def wasserstein_similarity(query_mean: torch.Tensor,
                           query_std: Optional[torch.Tensor],
                           key_mean: torch.Tensor,
                           key_std: Optional[torch.Tensor]) -> torch.Tensor:
    r"""Negative squared 2-Wasserstein distance of every query to every key.

    For diagonal Gaussians the distance has the closed form
    :math:`W_2^2 = \|\mu_q - \mu_k\|^2 + \|\sigma_q - \sigma_k\|^2`.
    Differences are taken element-wise (not through the expansion
    :math:`\|a\|^2 - 2a\cdot b + \|b\|^2`), so large means lose no precision.
    A ``None`` standard deviation is a point mass (zero std): with both
    None the similarity is :math:`-\|\mu_q - \mu_k\|^2`.

    Args:
        query_mean (torch.Tensor): Means of the queries, shape :math:`(N, L)`.
        query_std (torch.Tensor or None): Standard deviations of the
            queries, shape :math:`(N, L)`; None: point masses.
        key_mean (torch.Tensor): Means of the keys, shape :math:`(M, L)`.
        key_std (torch.Tensor or None): Standard deviations of the keys,
            shape :math:`(M, L)`; None: point masses.

    Returns:
        torch.Tensor: Similarities, shape :math:`(N, M)`.

    """
    _check_shapes(query_mean, query_std, key_mean, key_std)
    distance = (query_mean[:, None, :] - key_mean[None, :, :]).square()
    if query_std is not None or key_std is not None:
        query_std = (query_std if query_std is not None else
                     torch.zeros_like(query_mean))
        key_std = key_std if key_std is not None else torch.zeros_like(
            key_mean)
        distance = distance + (query_std[:, None, :] -
                               key_std[None, :, :]).square()
    return -distance.sum(dim=-1)


def excluded_keys(trajectory_ids: torch.Tensor,
                  key_trajectory_ids: Optional[torch.Tensor] = None,
                  task_ids: Optional[torch.Tensor] = None,
                  negatives: str = 'all') -> torch.Tensor:
    """Which keys are left out of each query's softmax (not negatives).

    Key ``i`` is query ``i``'s positive and is never left out. Another key
    ``j`` is left out of query ``i``'s softmax when it was cut from the
    query's trajectory or from its positive's (with trajectory-level
    positives these are one trajectory), and, with
    ``negatives='other-tasks'``, when it belongs to the query's task.

    Args:
        trajectory_ids (torch.Tensor): Shape :math:`(N,)`: the trajectory of
            each query.
        key_trajectory_ids (torch.Tensor or None): Shape :math:`(N,)`: the
            trajectory of each key; None: the query's (trajectory-level
            positives).
        task_ids (torch.Tensor or None): Shape :math:`(N,)`: the task of each
            query and its key; needed by ``negatives='other-tasks'``.
        negatives (str): One of :data:`NEGATIVES`.

    Returns:
        torch.Tensor: Boolean mask of shape :math:`(N, N)`, True where key
            ``j`` is left out of query ``i``'s softmax; its diagonal is
            False.

    Raises:
        ValueError: If ``negatives`` is unknown, an id tensor has the wrong
            shape, or ``'other-tasks'`` is asked for without task ids.

    """
    if negatives not in NEGATIVES:
        raise ValueError(f'negatives={negatives!r}: choose one of '
                         f'{", ".join(NEGATIVES)}')
    n = trajectory_ids.shape[0]
    if key_trajectory_ids is None:
        key_trajectory_ids = trajectory_ids
    for name, ids in (('trajectory_ids', trajectory_ids),
                      ('key_trajectory_ids', key_trajectory_ids),
                      ('task_ids', task_ids)):
        if ids is not None and ids.shape != (n, ):
            raise ValueError(f'{name} must have shape ({n},), got '
                             f'{tuple(ids.shape)}')
    if negatives == 'other-tasks' and task_ids is None:
        raise ValueError("negatives='other-tasks' needs task_ids (the task "
                         'of each query and its key)')
    key_trajectory_ids = key_trajectory_ids.to(trajectory_ids.device)
    # Key j against query i: from the query's trajectory, or its positive's.
    excluded = ((key_trajectory_ids[None, :] == trajectory_ids[:, None]) |
                (key_trajectory_ids[None, :] == key_trajectory_ids[:, None]))
    if negatives == 'other-tasks':
        task_ids = task_ids.to(trajectory_ids.device)
        excluded = excluded | (task_ids[None, :] == task_ids[:, None])
    return excluded & ~torch.eye(n, dtype=torch.bool,
                                 device=trajectory_ids.device)


def contrastive_logits(query_mean: torch.Tensor,
                       query_std: Optional[torch.Tensor],
                       key_mean: torch.Tensor,
                       key_std: Optional[torch.Tensor],
                       temperature: float = 1.0,
                       trajectory_ids: Optional[torch.Tensor] = None,
                       *,
                       key_trajectory_ids: Optional[torch.Tensor] = None,
                       task_ids: Optional[torch.Tensor] = None,
                       negatives: str = 'all') -> torch.Tensor:
    """Similarities divided by the temperature, false negatives masked out.

    Args:
        query_mean (torch.Tensor): Means of the queries, shape :math:`(N, L)`.
        query_std (torch.Tensor or None): Standard deviations of the
            queries; None: point masses.
        key_mean (torch.Tensor): Means of the keys, shape :math:`(N, L)`; key
            ``i`` is the positive of query ``i``.
        key_std (torch.Tensor or None): Standard deviations of the keys;
            None: point masses.
        temperature (float): Softmax temperature, > 0 (paper: 1).
        trajectory_ids (torch.Tensor or None): Shape :math:`(N,)`: the
            trajectory each query/key pair was cut from. A key from the same
            trajectory as query ``i`` but not its own positive is not a
            negative, and is left out of query ``i``'s softmax. None means
            every pair comes from a different trajectory.

    Returns:
        torch.Tensor: Logits of shape :math:`(N, N)`; masked entries are
            ``-inf``.

    Raises:
        ValueError: If the temperature is not positive, the number of keys
            differs from the number of queries, or trajectory_ids has the
            wrong shape.

    """
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if key_mean.shape[0] != query_mean.shape[0]:
        raise ValueError('one key per query is needed (positives on the '
                         f'diagonal): got {query_mean.shape[0]} queries and '
                         f'{key_mean.shape[0]} keys')
    logits = wasserstein_similarity(query_mean, query_std, key_mean,
                                    key_std) / temperature
    if trajectory_ids is None:
        if key_trajectory_ids is not None or negatives != 'all':
            raise ValueError('key_trajectory_ids and negatives need '
                             'trajectory_ids (the trajectory of each query)')
        return logits
    n = query_mean.shape[0]
    if trajectory_ids.shape != (n, ):
        raise ValueError(f'trajectory_ids must have shape ({n},), got '
                         f'{tuple(trajectory_ids.shape)}')
    excluded = excluded_keys(trajectory_ids.to(logits.device),
                             key_trajectory_ids, task_ids, negatives)
    return logits.masked_fill(excluded, float('-inf'))


def trajectory_contrastive_loss(query_mean: torch.Tensor,
                                query_std: Optional[torch.Tensor],
                                key_mean: torch.Tensor,
                                key_std: Optional[torch.Tensor],
                                temperature: float = 1.0,
                                trajectory_ids: Optional[torch.Tensor] = None,
                                *,
                                key_trajectory_ids: Optional[
                                    torch.Tensor] = None,
                                task_ids: Optional[torch.Tensor] = None,
                                negatives: str = 'all') -> torch.Tensor:
    r"""The TCL loss: InfoNCE of paper eq. 8 with the similarity of eq. 7.

    .. math::
        L = -\frac{1}{N}\sum_i \log
            \frac{\exp(s(q_i, k_i)/T)}{\sum_j \exp(s(q_i, k_j)/T)},\quad
        s(q, k) = -\|\mu_q-\mu_k\|^2 - \|\sigma_q-\sigma_k\|^2

    The log-softmax subtracts each row's maximum first, so distances in the
    thousands give finite losses and gradients.

    Args:
        query_mean (torch.Tensor): Means of the queries, shape :math:`(N, L)`.
        query_std (torch.Tensor or None): Standard deviations of the
            queries; None: point masses.
        key_mean (torch.Tensor): Means of the keys, shape :math:`(N, L)`.
        key_std (torch.Tensor or None): Standard deviations of the keys;
            None: point masses.
        temperature (float): Softmax temperature, > 0 (paper: 1).
        trajectory_ids (torch.Tensor or None): Trajectory of each pair, to
            leave same-trajectory keys out of the negatives; see
            :func:`contrastive_logits`.
        key_trajectory_ids (torch.Tensor or None): The trajectory of each
            key (task-level positives); see :func:`excluded_keys`.
        task_ids (torch.Tensor or None): The task of each pair.
        negatives (str): One of :data:`NEGATIVES`; see
            :func:`excluded_keys`.

    Returns:
        torch.Tensor: The scalar loss.

    """
    return info_nce(
        contrastive_logits(query_mean, query_std, key_mean, key_std,
                           temperature, trajectory_ids,
                           key_trajectory_ids=key_trajectory_ids,
                           task_ids=task_ids, negatives=negatives))


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """InfoNCE of logits whose positives lie on the diagonal.

    Args:
        logits (torch.Tensor): :func:`contrastive_logits`, :math:`(N, N)`.

    Returns:
        torch.Tensor: The scalar loss (cross-entropy against the diagonal).

    """
    targets = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, targets)


@torch.no_grad()
def top1_accuracy(logits: torch.Tensor) -> torch.Tensor:
    """How often a row's largest logit is its diagonal entry.

    Args:
        logits (torch.Tensor): :func:`contrastive_logits`, :math:`(N, N)`
            (at temperature 1, as :func:`contrastive_accuracy` scores).

    Returns:
        torch.Tensor: Scalar fraction in [0, 1].

    """
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (logits.argmax(dim=1) == targets).float().mean()


@torch.no_grad()
def contrastive_accuracy(query_mean: torch.Tensor,
                         query_std: Optional[torch.Tensor],
                         key_mean: torch.Tensor,
                         key_std: Optional[torch.Tensor],
                         trajectory_ids: Optional[torch.Tensor] = None,
                         *,
                         key_trajectory_ids: Optional[torch.Tensor] = None,
                         task_ids: Optional[torch.Tensor] = None,
                         negatives: str = 'all') -> torch.Tensor:
    """Top-1 accuracy: how often a query's most similar key is its own.

    Args:
        query_mean (torch.Tensor): Means of the queries, shape :math:`(N, L)`.
        query_std (torch.Tensor or None): Standard deviations of the
            queries; None: point masses.
        key_mean (torch.Tensor): Means of the keys, shape :math:`(N, L)`.
        key_std (torch.Tensor or None): Standard deviations of the keys;
            None: point masses.
        trajectory_ids (torch.Tensor or None): As in
            :func:`contrastive_logits`.
        key_trajectory_ids (torch.Tensor or None): As in
            :func:`contrastive_logits`.
        task_ids (torch.Tensor or None): As in :func:`contrastive_logits`.
        negatives (str): As in :func:`contrastive_logits`.

    Returns:
        torch.Tensor: Scalar fraction in [0, 1].

    """
    return top1_accuracy(
        contrastive_logits(query_mean, query_std, key_mean, key_std, 1.0,
                           trajectory_ids,
                           key_trajectory_ids=key_trajectory_ids,
                           task_ids=task_ids, negatives=negatives))


def _check_shapes(query_mean, query_std, key_mean, key_std):
    """Check the four inputs are matching 2-D (count, latent) tensors.

    Raises:
        ValueError: On any mismatch.

    """
    if query_mean.dim() != 2 or key_mean.dim() != 2:
        raise ValueError('means must have shape (count, latent_dim), got '
                         f'{tuple(query_mean.shape)} and '
                         f'{tuple(key_mean.shape)}')
    if (query_std is not None and query_std.shape != query_mean.shape or
            key_std is not None and key_std.shape != key_mean.shape):
        raise ValueError('each std must have the shape of its mean')
    if query_mean.shape[1] != key_mean.shape[1]:
        raise ValueError('queries and keys must have the same latent size, '
                         f'got {query_mean.shape[1]} and {key_mean.shape[1]}')
