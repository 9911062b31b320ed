"""The paper's two cluster metrics of task embeddings (its Table 2)."""
from typing import Dict

import numpy as np


def cluster_metrics(points: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    """Average distance to the own task's centroid, and between centroids.

    Args:
        points (np.ndarray): Embeddings, shape :math:`(N, D)`.
        labels (np.ndarray): Task of each point, shape :math:`(N,)`.

    Returns:
        dict[str, float]: ``intra_task_distance`` (mean Euclidean distance
            of each point to its task's centroid; lower is tighter) and
            ``inter_centroid_distance`` (mean Euclidean distance over all
            pairs of distinct task centroids; higher is more separated).

    Raises:
        ValueError: With fewer than two tasks or mismatched shapes.

    """
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    if points.ndim != 2 or labels.shape != (points.shape[0], ):
        raise ValueError('points must be (N, D) and labels (N,)')
    tasks = np.unique(labels)
    if tasks.size < 2:
        raise ValueError('cluster metrics need at least two tasks')
    centroids = np.stack([points[labels == t].mean(axis=0) for t in tasks])
    index = np.searchsorted(tasks, labels)
    intra = np.linalg.norm(points - centroids[index], axis=1).mean()
    pairwise = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1)
    upper = np.triu_indices(tasks.size, k=1)
    return {
        'intra_task_distance': float(intra),
        'inter_centroid_distance': float(pairwise[upper].mean()),
    }
