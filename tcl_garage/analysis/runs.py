"""Reading run directories for analysis: config and progress, as arrays."""
import collections
import dataclasses
import json
import pathlib
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from tcl_garage.experiment import rundir

RETURN_KEY = 'MetaTest/Average/AverageReturn'
SUCCESS_KEY = 'MetaTest/Average/SuccessRate'
STEPS_KEY = 'TotalEnvSteps'
#: TCL's logged top-1 accuracy (TCL-PEARL, TCL-MQL).
ACCURACY_KEY = 'Train/TCLAccuracy'


@dataclasses.dataclass
class Run:
    """One run directory's config and logged columns.

    Attributes:
        path (pathlib.Path): The directory.
        config (dict): Its resolved config (``variant.json``).
        columns (dict[str, np.ndarray]): progress.csv, column by column
            (NaN where a row has no value).
        label (str or None): What curves and tables call it (a study's
            arm); None: its algorithm.

    """

    path: pathlib.Path
    config: Dict
    columns: Dict[str, np.ndarray]
    label: Optional[str] = None

    @property
    def name(self) -> str:
        """str: Its label, or its algorithm's name."""
        return self.label or self.algo

    @property
    def benchmark(self) -> str:
        """str: Benchmark name."""
        return self.config['benchmark']

    @property
    def algo(self) -> str:
        """str: Algorithm name."""
        return self.config['algo']

    def column(self, key: str) -> np.ndarray:
        """One logged column.

        Args:
            key (str): Column name.

        Returns:
            np.ndarray: Its values.

        Raises:
            ValueError: If the run did not log it.

        """
        if key not in self.columns:
            raise ValueError(f'{rundir.progress_file(self.path)} has no '
                             f'column {key!r}')
        return self.columns[key]


def load_run(path, label: Optional[str] = None) -> Run:
    """Read a run directory.

    Args:
        path (str or pathlib.Path): The directory.
        label (str or None): Its label (:attr:`Run.label`).

    Returns:
        Run: Its config and columns.

    Raises:
        ValueError: If variant.json or progress.csv is missing or empty.

    """
    path = pathlib.Path(path)
    config = rundir.read_config(path)
    rows = rundir.progress_rows(path)
    if not rows:
        raise ValueError(f'{rundir.progress_file(path)} has no rows')
    columns = {
        key: np.array([_number(row.get(key)) for row in rows])
        for key in rows[0]
    }
    return Run(path, config, columns, label)


def check_distinct(runs: Sequence[Run]) -> None:
    """Refuse runs that count one seed twice: directories holding the same
    label, config and seed (a run and a copy of it, or a run restarted
    beside itself).

    Args:
        runs (Sequence[Run]): The runs.

    Raises:
        ValueError: Naming the directories that hold the same run.

    """
    seen: Dict[str, Run] = {}
    for run in runs:
        key = json.dumps([run.name, run.config], sort_keys=True, default=str)
        if key in seen:
            first = seen[key]
            raise ValueError(
                f'{first.path} and {run.path} hold the same run '
                f'({run.benchmark} {run.name} seed {run.config.get("seed")},'
                ' same config): one seed would count twice; give only one '
                'of them')
        seen[key] = run


def first_and_last_mean(run: Run,
                        key: str = RETURN_KEY,
                        epochs: int = 3) -> Tuple[float, float]:
    """Mean of a column over a run's first and over its last few epochs:
    how far it learned.

    Args:
        run (Run): The run.
        key (str): The column (default the meta-test return).
        epochs (int): How many epochs at each end.

    Returns:
        tuple[float, float]: First-epochs mean, last-epochs mean.

    Raises:
        ValueError: If the run logged fewer than ``2 * epochs`` rows.

    """
    values = run.column(key)
    if len(values) < 2 * epochs:
        raise ValueError(f'{run.path} logged {len(values)} epochs; the first '
                         f'and last {epochs} need {2 * epochs}')
    return float(values[:epochs].mean()), float(values[-epochs:].mean())


def learning_report(runs: Sequence[Run], epochs: int = 3) -> str:
    """A Markdown table: each run's meta-test return over its first and its
    last ``epochs`` epochs and the rise between them, then per benchmark
    and algorithm the mean ± standard deviation over its seeds.

    Args:
        runs (Sequence[Run]): The runs.
        epochs (int): Epochs at each end.

    Returns:
        str: Markdown.

    """
    lines = [f'| benchmark | algo | seed | first {epochs} epochs | last '
             f'{epochs} epochs | rise |', '| --- | --- | --- | --- | --- | '
             '--- |']
    groups = collections.defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.benchmark, r.algo,
                                           r.config.get('seed', 0))):
        first, last = first_and_last_mean(run, epochs=epochs)
        groups[run.benchmark, run.algo].append((first, last))
        lines.append(f'| {run.benchmark} | {run.algo} | '
                     f'{run.config.get("seed")} | {first:.2f} | {last:.2f} | '
                     f'{last - first:+.2f} |')
    for (benchmark, algo), pairs in sorted(groups.items()):
        first, last = np.array(pairs).T
        lines.append(f'| {benchmark} | {algo} | mean ± std of '
                     f'{len(pairs)} | {first.mean():.2f} ± {first.std():.2f}'
                     f' | {last.mean():.2f} ± {last.std():.2f} | '
                     f'{(last - first).mean():+.2f} ± '
                     f'{(last - first).std():.2f} |')
    return '\n'.join(lines) + '\n'


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float('nan')
