"""Context embeddings of a trained run: t-SNE plot and cluster metrics.

As in the paper's Table 2 / Figure 4: for K tasks, M rollouts each of the
exploration policy (z from the prior); one window of W transitions from each
rollout is encoded to its posterior mean. The two cluster metrics are
computed in the raw latent space and in the 2-D t-SNE space.
"""
import json
import pathlib
from typing import Dict, Optional

import numpy as np
import torch

from tcl_garage.analysis.metrics import cluster_metrics


def collect_embeddings(run_dir: str,
                       num_tasks: int = 8,
                       rollouts: int = 200,
                       window_size: Optional[int] = None,
                       seed: int = 0):
    """Posterior means of windows of rollouts in a run's test tasks.

    Args:
        run_dir (str): Run directory with ``params.pkl`` and
            ``variant.json``.
        num_tasks (int): K tasks (the first K test tasks).
        rollouts (int): M rollouts per task.
        window_size (int or None): W; default the run's ``window_size``
            (capped at the episode length).
        seed (int): Seed of the rollouts and window starts.

    Returns:
        tuple[np.ndarray, np.ndarray, int]: Embeddings :math:`(K M, L)`,
            task labels :math:`(K M,)` and the window size used.

    Raises:
        ValueError: If the run's algorithm has no ``window_posteriors``
            (e.g. MQL, whose context is not a Gaussian posterior).

    """
    from garage.experiment import Snapshotter
    from garage.experiment.deterministic import set_seed

    from tcl_garage.algos import PEARLWorker
    from tcl_garage.experiment.rundir import read_benchmark, read_config
    from tcl_garage.experiment.snapshots import moved_modules

    config = read_config(run_dir)
    with moved_modules():  # snapshots of tcl_garage 0.1
        algo = Snapshotter().load(run_dir)['algo']
    if not hasattr(algo, 'window_posteriors'):
        raise ValueError(f'{run_dir}: {type(algo).__name__} has no Gaussian '
                         'window posterior (window_posteriors), so its '
                         'context embeddings are not measured; use a run of '
                         'PEARL or TCL-PEARL')
    benchmark = read_benchmark(run_dir)
    updates = benchmark.test_sampler.sample(benchmark.num_test_tasks)
    updates = updates[:num_tasks]
    length = benchmark.max_episode_length
    window = min(window_size or config['window_size'], length)
    set_seed(seed)
    rng = np.random.default_rng(seed)
    worker = PEARLWorker(seed=seed, max_episode_length=length,
                         worker_number=0)
    embeddings, labels = [], []
    for task, update in enumerate(updates):
        worker.update_env(update)
        for _ in range(rollouts):
            worker.update_agent(algo.get_exploration_policy())
            episode = worker.rollout()
            n = len(episode.rewards)
            w = min(window, n)
            start = int(rng.integers(0, n - w + 1))
            part = slice(start, start + w)
            batch = {
                'observations': episode.observations[None, part],
                'actions': episode.actions[None, part],
                'rewards': episode.rewards[None, part, None],
                'next_observations': episode.next_observations[None, part],
            }
            with torch.no_grad():
                mean, _ = algo.window_posteriors(batch)
            embeddings.append(mean[0].cpu().numpy())
            labels.append(task)
    return np.stack(embeddings), np.array(labels), window


def analyse_embeddings(run_dir: str,
                       out_dir: Optional[str] = None,
                       num_tasks: int = 8,
                       rollouts: int = 200,
                       window_size: Optional[int] = None,
                       seed: int = 0) -> Dict:
    """t-SNE PNG coloured by task, and the metrics as JSON.

    Args:
        run_dir (str): Run directory.
        out_dir (str or None): Where to write ``embeddings_tsne.png`` and
            ``embeddings_metrics.json``; default the run directory.
        num_tasks (int): K tasks.
        rollouts (int): M rollouts per task.
        window_size (int or None): W.
        seed (int): Seed.

    Returns:
        dict: ``{'latent': metrics, 'tsne': metrics, 'num_tasks',
            'rollouts', 'window_size'}``.

    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    points, labels, window = collect_embeddings(run_dir, num_tasks,
                                                rollouts, window_size, seed)
    flat = tsne(points, seed)
    result = {
        'latent': cluster_metrics(points, labels),
        'tsne': cluster_metrics(flat, labels),
        'num_tasks': int(labels.max() + 1),
        'rollouts': rollouts,
        'window_size': window,
    }
    out = pathlib.Path(out_dir or run_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'embeddings_metrics.json').write_text(json.dumps(result, indent=2))
    figure, ax = plt.subplots(figsize=(5, 5))
    draw_embeddings(ax, flat, labels)
    figure.tight_layout()
    figure.savefig(out / 'embeddings_tsne.png', dpi=100)
    plt.close(figure)
    return result


def tsne(points: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE of embeddings (perplexity 30, fewer for few points).

    Args:
        points (np.ndarray): :math:`(N, L)`.
        seed (int): Seed.

    Returns:
        np.ndarray: :math:`(N, 2)`.

    """
    from sklearn.manifold import TSNE
    perplexity = float(min(30, max(2, len(points) // 4)))
    return TSNE(n_components=2, perplexity=perplexity, init='pca',
                random_state=seed).fit_transform(points)


def draw_embeddings(ax, flat: np.ndarray, labels: np.ndarray,
                    title: str = 't-SNE of context embeddings') -> None:
    """Scatter 2-D embeddings on a matplotlib axis, coloured by task.

    Args:
        ax (matplotlib.axes.Axes): Where to draw.
        flat (np.ndarray): :math:`(N, 2)`, e.g. from :func:`tsne`.
        labels (np.ndarray): Task of each point, :math:`(N,)`.
        title (str): Axis title.

    """
    scatter = ax.scatter(flat[:, 0], flat[:, 1], c=labels, cmap='tab10', s=8)
    ax.legend(*scatter.legend_elements(), title='task', fontsize=7)
    ax.set_title(title)
