"""Learning curves: meta-test return (and success rate) against env steps,
mean and spread over seeds, one line per algorithm (paper Figures 3, 5)."""
import collections
import pathlib
from typing import Sequence

import numpy as np

from tcl_garage.analysis.runs import RETURN_KEY, Run, STEPS_KEY, SUCCESS_KEY


def plot_curves(runs: Sequence[Run], out: str) -> str:
    """Plot the runs, grouped by benchmark (panels) and algorithm (lines).

    Seeds of one algorithm are aligned by evaluation (the shortest run sets
    the length); the line is their mean against their mean step count, the
    band one standard deviation. A second row shows the success rate when
    the runs logged one (Meta-World).

    Args:
        runs (Sequence[Run]): The runs.
        out (str): PNG path (its folder is made if missing).

    Returns:
        str: The PNG path.

    Raises:
        ValueError: With no runs, or a run missing the columns.

    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError('no runs to plot')
    groups = collections.defaultdict(list)
    for run in runs:
        run.column(STEPS_KEY)
        run.column(RETURN_KEY)
        groups[run.benchmark].append(run)
    with_success = any(SUCCESS_KEY in run.columns for run in runs)
    n_rows = 2 if with_success else 1
    figure, axes = plt.subplots(n_rows, len(groups),
                                figsize=(5 * len(groups), 3.5 * n_rows),
                                squeeze=False)
    for col, (benchmark, benchmark_runs) in enumerate(sorted(groups.items())):
        keys = [RETURN_KEY] + ([SUCCESS_KEY] if with_success else [])
        for row, key in enumerate(keys):
            draw_curves(axes[row][col], benchmark_runs, key)
            axes[row][col].set_title(benchmark)
    figure.tight_layout()
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def draw_curves(ax, runs: Sequence[Run], key: str = RETURN_KEY) -> None:
    """Draw one column of some runs on a matplotlib axis, a line per
    algorithm (or labelled arm, :attr:`Run.name`): the mean over its seeds
    and a band of one standard deviation.

    Args:
        ax (matplotlib.axes.Axes): Where to draw.
        runs (Sequence[Run]): Runs of one benchmark.
        key (str): The column (default the meta-test return).

    """
    by_algo = collections.defaultdict(list)
    for run in runs:
        if key in run.columns:
            by_algo[run.name].append(run)
    for algo, algo_runs in sorted(by_algo.items()):
        length = min(len(r.column(key)) for r in algo_runs)
        steps = np.mean([r.column(STEPS_KEY)[:length] for r in algo_runs],
                        axis=0)
        values = np.array([r.column(key)[:length] for r in algo_runs])
        mean, std = values.mean(axis=0), values.std(axis=0)
        seeds = f'{len(algo_runs)} seed' + ('s' if len(algo_runs) > 1 else '')
        ax.plot(steps, mean, label=f'{algo} ({seeds})')
        ax.fill_between(steps, mean - std, mean + std, alpha=0.2)
    from matplotlib.ticker import EngFormatter
    ax.xaxis.set_major_formatter(EngFormatter(sep=''))  # 20k, 1.5M
    ax.set_xlabel('environment steps')
    ax.set_ylabel('meta-test ' + ('return' if key == RETURN_KEY
                                  else 'success rate'))
    ax.grid(alpha=0.3)
    ax.legend()
