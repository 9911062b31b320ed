"""Paper-style results: return over the last 100,000 environment steps.

Per benchmark and algorithm: the meta-test return averaged over the
evaluations logged in the last ``window`` environment steps of each run, then
over seeds; the winner; TCL-PEARL's relative gain over PEARL
(``(tcl - pearl) / |pearl|``), with its mean and median over benchmarks
(the paper's Tables 1 and 3).
"""
import collections
import csv
import io
from typing import Dict, List, Sequence, Tuple

import numpy as np

from tcl_garage.analysis.runs import RETURN_KEY, Run, STEPS_KEY

LAST_STEPS = 100_000


def final_return(run: Run, last_steps: int = LAST_STEPS) -> float:
    """Mean meta-test return over the run's last ``last_steps`` env steps.

    Args:
        run (Run): The run.
        last_steps (int): Window of environment steps.

    Returns:
        float: The mean (at least the last evaluation counts).

    """
    steps, returns = run.column(STEPS_KEY), run.column(RETURN_KEY)
    keep = steps >= steps[-1] - last_steps
    return float(np.nanmean(returns[keep]))


def results_table(runs: Sequence[Run],
                  last_steps: int = LAST_STEPS) -> Tuple[List[Dict], Dict]:
    """Rows per benchmark and the relative-gain summary.

    Args:
        runs (Sequence[Run]): Runs of any benchmarks and algorithms.
        last_steps (int): Window of environment steps.

    Returns:
        tuple[list[dict], dict]: Rows (benchmark, one column per algorithm,
            seeds, winner, relative gain) and ``{'mean_gain', 'median_gain',
            'wins'}``.

    """
    values = collections.defaultdict(lambda: collections.defaultdict(list))
    for run in runs:
        values[run.benchmark][run.algo].append(final_return(run, last_steps))
    algos = sorted({run.algo for run in runs})
    rows, gains = [], []
    wins = collections.Counter()
    for benchmark in sorted(values):
        by_algo = {a: float(np.mean(v)) for a, v in values[benchmark].items()}
        winner = max(by_algo, key=by_algo.get)
        wins[winner] += 1
        row = {'benchmark': benchmark, **{a: by_algo.get(a) for a in algos},
               'seeds': max(len(v) for v in values[benchmark].values()),
               'winner': winner, 'relative_gain': None}
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


def to_markdown(rows: List[Dict], summary: Dict) -> str:
    """The table and summary as Markdown.

    Args:
        rows (list[dict]): From :func:`results_table`.
        summary (dict): From :func:`results_table`.

    Returns:
        str: Markdown.

    """
    columns = list(rows[0])
    lines = ['| ' + ' | '.join(columns) + ' |',
             '|' + ' --- |' * len(columns)]
    for row in rows:
        lines.append('| ' + ' | '.join(_cell(row[c], c) for c in columns) +
                     ' |')
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
