"""Paper-style results: return over the last 100,000 environment steps.

Per benchmark and algorithm: the meta-test return averaged over the
evaluations logged in the last ``window`` environment steps of each run, then
over seeds, with the seeds' standard deviation (and the same for the success
rate where the runs logged one: Meta-World); the winner; TCL-PEARL's
relative gain over PEARL (``(tcl - pearl) / |pearl|``), with its mean and
median over benchmarks (the paper's Tables 1 and 3).
"""
import collections
import csv
import io
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tcl_garage.analysis.runs import RETURN_KEY, Run, STEPS_KEY, SUCCESS_KEY

LAST_STEPS = 100_000


def final_return(run: Run,
                 last_steps: int = LAST_STEPS,
                 key: str = RETURN_KEY) -> float:
    """Mean meta-test return (or another column) over the run's last
    ``last_steps`` env steps.

    Args:
        run (Run): The run.
        last_steps (int): Window of environment steps.
        key (str): The column.

    Returns:
        float: The mean (at least the last evaluation counts).

    """
    steps, values = run.column(STEPS_KEY), run.column(key)
    keep = steps >= steps[-1] - last_steps
    return float(np.nanmean(values[keep]))


def last_fifth(run: Run, key: str = RETURN_KEY) -> float:
    """Mean of a column over the evaluations of the run's last fifth of
    environment steps.

    Args:
        run (Run): The run.
        key (str): The column.

    Returns:
        float: The mean.

    """
    return final_return(run, max(1, int(run.column(STEPS_KEY)[-1]) // 5),
                        key)


def results_table(runs: Sequence[Run],
                  last_steps: int = LAST_STEPS) -> Tuple[List[Dict], Dict]:
    """Rows per benchmark and the relative-gain summary.

    Args:
        runs (Sequence[Run]): Runs of any benchmarks and algorithms.
        last_steps (int): Window of environment steps.

    Returns:
        tuple[list[dict], dict]: Rows (benchmark; per algorithm its mean
            return, ``'<algo> std'`` over seeds and, where logged,
            ``'<algo> success'`` and ``'<algo> success std'``; seeds,
            winner, relative gain) and ``{'mean_gain', 'median_gain',
            'wins'}``.

    """
    values = collections.defaultdict(lambda: collections.defaultdict(list))
    success = collections.defaultdict(lambda: collections.defaultdict(list))
    for run in runs:
        values[run.benchmark][run.algo].append(final_return(run, last_steps))
        if SUCCESS_KEY in run.columns:
            success[run.benchmark][run.algo].append(
                final_return(run, last_steps, SUCCESS_KEY))
    algos = sorted({run.algo for run in runs})
    with_success = bool(success)
    rows, gains = [], []
    wins = collections.Counter()
    for benchmark in sorted(values):
        by_algo = {a: float(np.mean(v)) for a, v in values[benchmark].items()}
        winner = max(by_algo, key=by_algo.get)
        wins[winner] += 1
        row = {'benchmark': benchmark}
        for algo in algos:
            row[algo] = by_algo.get(algo)
            row[f'{algo} std'] = _std(values[benchmark].get(algo))
            if with_success:
                rates = success[benchmark].get(algo)
                row[f'{algo} success'] = (float(np.mean(rates))
                                          if rates else None)
                row[f'{algo} success std'] = _std(rates)
        row.update(seeds=max(len(v) for v in values[benchmark].values()),
                   winner=winner, relative_gain=None)
        if 'tcl-pearl' in by_algo and 'pearl' in by_algo:
            row['relative_gain'] = ((by_algo['tcl-pearl'] - by_algo['pearl']) /
                                    abs(by_algo['pearl']))
            gains.append(row['relative_gain'])
        rows.append(row)
    summary = {
        'mean_gain': float(np.mean(gains)) if gains else None,
        'median_gain': float(np.median(gains)) if gains else None,
        'wins': dict(wins),
    }
    return rows, summary


def _std(values) -> Optional[float]:
    """Standard deviation over seeds (None without values)."""
    return float(np.std(values)) if values else None


def to_markdown(rows: List[Dict], summary: Dict) -> str:
    """The table and summary as Markdown; a value and its seeds' standard
    deviation share a cell (``mean ± std``).

    Args:
        rows (list[dict]): From :func:`results_table`.
        summary (dict): From :func:`results_table`.

    Returns:
        str: Markdown.

    """
    columns = [c for c in rows[0] if not c.endswith(' std')]
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + ' --- |' * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            cell = _cell(row[column], column)
            spread = row.get(f'{column} std')
            if spread is not None and row[column] is not None:
                cell += f' ± {spread:.2f}'
            cells.append(cell)
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines.append('')
    if summary['mean_gain'] is not None:
        lines.append(f'Relative gain of TCL-PEARL over PEARL: mean '
                     f'{summary["mean_gain"]:+.1%}, median '
                     f'{summary["median_gain"]:+.1%}.')
    lines.append('Wins: ' + ', '.join(f'{a} {n}'
                                      for a, n in summary['wins'].items()))
    return '\n'.join(lines) + '\n'


def to_csv(rows: List[Dict]) -> str:
    """The table as CSV.

    Args:
        rows (list[dict]): From :func:`results_table`.

    Returns:
        str: CSV text.

    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _cell(value, column) -> str:
    if value is None:
        return '-'
    if column == 'relative_gain':
        return f'{value:+.1%}'
    if isinstance(value, float):
        return f'{value:.2f}'
    return str(value)
