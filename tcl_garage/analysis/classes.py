"""Success rate per task class (Meta-World ML10/ML45): curves and a
summary of the ``<prefix>/<class>/SuccessRate`` columns, meta-train
(``MetaTrain/``, the training episodes) and meta-test (``MetaTest/``).

A class's cell is empty in an epoch that has no episode of it (meta-train:
none of its tasks drawn); curves are trailing means over the last
``window`` epochs that have a value, so the sparse meta-train columns and
the 0-or-1 meta-test columns of one test task per class read as rates.
"""
import collections
import csv
import io
import warnings
from typing import Dict, List, Sequence

import numpy as np

from tcl_garage.analysis.runs import Run, STEPS_KEY

#: The two groups of per-class columns: (prefix, title).
GROUPS = (('MetaTrain', 'meta-train success (training episodes)'),
          ('MetaTest', 'meta-test success (adapted episodes)'))
#: The column suffix.
SUCCESS = 'SuccessRate'
#: The mean over every episode, listed after the classes.
AVERAGE = 'Average'


def class_names(runs: Sequence[Run], prefix: str) -> List[str]:
    """The classes some run logged under ``prefix``, sorted, ``Average``
    last.

    Args:
        runs (Sequence[Run]): The runs.
        prefix (str): ``MetaTrain`` or ``MetaTest``.

    Returns:
        list[str]: Class names (``Average`` last when logged).

    """
    names = set()
    for run in runs:
        for key in run.columns:
            parts = key.split('/')
            if len(parts) == 3 and parts[0] == prefix and parts[2] == SUCCESS:
                names.add(parts[1])
    average = [AVERAGE] if AVERAGE in names else []
    return sorted(names - {AVERAGE}) + average


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Each epoch's mean over the last ``window`` values that are not NaN
    (NaN until the first one).

    Args:
        values (np.ndarray): ``(epochs,)``, NaN where nothing was logged.
        window (int): Values averaged (at least 1).

    Returns:
        np.ndarray: ``(epochs,)``.

    """
    if window < 1:
        raise ValueError(f'window={window}: must be >= 1')
    out = np.full(len(values), np.nan)
    kept: collections.deque = collections.deque(maxlen=window)
    for i, value in enumerate(values):
        if not np.isnan(value):
            kept.append(value)
        if kept:
            out[i] = np.mean(kept)
    return out


def _column(run: Run, prefix: str, name: str) -> np.ndarray:
    """A run's success column of one class (all NaN if never logged)."""
    key = f'{prefix}/{name}/{SUCCESS}'
    if key in run.columns:
        return run.columns[key]
    return np.full(len(run.column(STEPS_KEY)), np.nan)


def plot_class_success(runs: Sequence[Run], out: str,
                       window: int = 10) -> str:
    """A panel per class (and the average) of each group, a line per
    algorithm (its seeds' mean of the trailing means) against environment
    steps.

    Args:
        runs (Sequence[Run]): Runs of one benchmark.
        out (str): PNG path.
        window (int): Epochs with a value in each trailing mean.

    Returns:
        str: The PNG path.

    Raises:
        ValueError: With no runs, runs of several benchmarks, or none with
            a per-class success column.

    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    _check(runs)
    groups = [(prefix, title, class_names(runs, prefix))
              for prefix, title in GROUPS]
    groups = [group for group in groups if group[2]]
    columns = max(min(len(names), 6) for _, _, names in groups)
    rows_of = [-(-len(names) // columns) for _, _, names in groups]
    figure, axes = plt.subplots(sum(rows_of), columns,
                                figsize=(2.8 * columns, 2.3 * sum(rows_of)),
                                squeeze=False, sharex=True, sharey=True)
    by_algo: Dict[str, List[Run]] = collections.defaultdict(list)
    for run in runs:
        by_algo[run.name].append(run)
    first_row = 0
    for (prefix, title, names), n_rows in zip(groups, rows_of):
        for index in range(n_rows * columns):
            ax = axes[first_row + index // columns][index % columns]
            if index >= len(names):
                ax.axis('off')
                continue
            for algo, algo_runs in sorted(by_algo.items()):
                length = min(len(run.column(STEPS_KEY)) for run in algo_runs)
                steps = np.mean([run.column(STEPS_KEY)[:length]
                                 for run in algo_runs], axis=0)
                curves = [trailing_mean(
                    _column(run, prefix, names[index])[:length], window)
                    for run in algo_runs]
                with warnings.catch_warnings():  # epochs of no value
                    warnings.simplefilter('ignore', RuntimeWarning)
                    line = np.nanmean(curves, axis=0)
                ax.plot(steps, line, label=algo)
            ax.set_title(f'{prefix} {names[index]}', fontsize=8)
            ax.set_ylim(-0.03, 1.03)
            ax.tick_params(labelsize=7, labelbottom=True)
            ax.xaxis.set_major_locator(ticker.MaxNLocator(4))
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(
                lambda x, _: f'{x / 1000:g}k'))
        axes[first_row][0].set_ylabel(title, fontsize=7)
        first_row += n_rows
    axes[0][0].legend(fontsize=7)
    figure.suptitle(f'{runs[0].benchmark}: success rate per class, trailing '
                    f'mean of {window} epochs, against environment steps',
                    fontsize=9)
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return out


def class_success_rows(runs: Sequence[Run],
                       last_fraction: float = 0.2) -> List[Dict]:
    """Per run, group and class: the last epoch's value, the best epoch's,
    and the means over the last ``last_fraction`` of the epochs and over
    all epochs (epochs without a value left out).

    Args:
        runs (Sequence[Run]): The runs.
        last_fraction (float): Share of the epochs at the end.

    Returns:
        list[dict]: Rows with ``algo``, ``seed``, ``group``, ``class``,
            ``epochs`` (with a value), ``final``, ``best``, ``last``,
            ``mean``.

    """
    _check(runs)
    rows = []
    for run in runs:
        for prefix, _ in GROUPS:
            for name in class_names([run], prefix):
                values = _column(run, prefix, name)
                start = len(values) - max(1, round(len(values) *
                                                   last_fraction))
                present = values[~np.isnan(values)]
                tail = values[start:][~np.isnan(values[start:])]
                rows.append({
                    'algo': run.name, 'seed': run.config.get('seed'),
                    'group': prefix, 'class': name,
                    'epochs': len(present),
                    'final': _nan_or(values[~np.isnan(values)][-1:]),
                    'best': float(present.max()) if len(present) else np.nan,
                    'last': _nan_or(tail, np.mean),
                    'mean': _nan_or(present, np.mean)})
    return rows


def _nan_or(values: np.ndarray, reduce=None) -> float:
    """``reduce(values)`` (or the only value), NaN if there is none."""
    if not len(values):
        return float('nan')
    return float(reduce(values) if reduce else values[-1])


def to_csv(rows: Sequence[Dict]) -> str:
    """The rows as CSV, rates to 3 decimals.

    Args:
        rows (Sequence[dict]): From :func:`class_success_rows`.

    Returns:
        str: CSV text.

    """
    text = io.StringIO()
    fields = ['algo', 'seed', 'group', 'class', 'epochs', 'final', 'best',
              'last', 'mean']
    writer = csv.DictWriter(text, fields, lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({key: (f'{row[key]:.3f}' if isinstance(
            row[key], float) else row[key]) for key in fields})
    return text.getvalue()


def _check(runs: Sequence[Run]) -> None:
    """Refuse no runs, several benchmarks, or no per-class column."""
    if not runs:
        raise ValueError('no runs to summarise')
    benchmarks = sorted({run.benchmark for run in runs})
    if len(benchmarks) > 1:
        raise ValueError('runs of several benchmarks '
                         f'({", ".join(benchmarks)}): give one at a time')
    if not any(class_names(runs, prefix) for prefix, _ in GROUPS):
        raise ValueError(f'{runs[0].path} and the others log no '
                         f'<group>/<class>/{SUCCESS} columns (ML10/ML45 '
                         'runs do)')
