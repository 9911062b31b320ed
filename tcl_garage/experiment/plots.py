"""Learning curves from a run's progress.csv."""
import csv
import json
import pathlib
from typing import Optional

RETURN_KEY = 'MetaTest/Average/AverageReturn'
STEPS_KEY = 'TotalEnvSteps'


def plot_learning_curve(run_dir: str, out: Optional[str] = None) -> str:
    """Meta-test return against environment steps, as a PNG.

    Args:
        run_dir (str): A run directory with ``progress.csv``.
        out (str or None): PNG path; default ``<run_dir>/learning_curve.png``.

    Returns:
        str: The PNG's path.

    Raises:
        ValueError: If progress.csv lacks the columns or rows.

    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    path = pathlib.Path(run_dir) / 'progress.csv'
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    if not rows or RETURN_KEY not in rows[0] or STEPS_KEY not in rows[0]:
        raise ValueError(f'{path} has no {RETURN_KEY} / {STEPS_KEY} rows')
    steps = [float(row[STEPS_KEY]) for row in rows]
    returns = [float(row[RETURN_KEY]) for row in rows]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(steps, returns, marker='o')
    axes.set_xlabel('environment steps')
    axes.set_ylabel('meta-test return')
    axes.set_title(_run_title(run_dir))
    axes.grid(alpha=0.3)
    figure.tight_layout()
    out = str(out or pathlib.Path(run_dir) / 'learning_curve.png')
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out


def _run_title(run_dir: str) -> str:
    """``<benchmark> / <algo> / seed <seed>`` from variant.json, or the name.

    Args:
        run_dir (str): The run directory.

    Returns:
        str: A title.

    """
    variant = pathlib.Path(run_dir) / 'variant.json'
    try:
        config = json.loads(variant.read_text())['config']
        return f'{config["benchmark"]} / {config["algo"]} / seed {config["seed"]}'
    except (OSError, KeyError, ValueError):
        return pathlib.Path(run_dir).name
