"""Reading run directories for analysis: config and progress, as arrays."""
import dataclasses
import pathlib
from typing import Dict

import numpy as np

from tcl_garage.experiment import rundir

RETURN_KEY = 'MetaTest/Average/AverageReturn'
SUCCESS_KEY = 'MetaTest/Average/SuccessRate'
STEPS_KEY = 'TotalEnvSteps'


@dataclasses.dataclass
class Run:
    """One run directory's config and logged columns.

    Attributes:
        path (pathlib.Path): The directory.
        config (dict): Its resolved config (``variant.json``).
        columns (dict[str, np.ndarray]): progress.csv, column by column
            (NaN where a row has no value).

    """

    path: pathlib.Path
    config: Dict
    columns: Dict[str, np.ndarray]

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
            raise ValueError(f'{self.path / "progress.csv"} has no column '
                             f'{key!r}')
        return self.columns[key]


def load_run(path) -> Run:
    """Read a run directory.

    Args:
        path (str or pathlib.Path): The directory.

    Returns:
        Run: Its config and columns.

    Raises:
        ValueError: If variant.json or progress.csv is missing or empty.

    """
    path = pathlib.Path(path)
    config = rundir.read_config(path)
    rows = rundir.progress_rows(path)
    if not rows:
        raise ValueError(f'{path / rundir.PROGRESS} has no rows')
    columns = {
        key: np.array([_number(row.get(key)) for row in rows])
        for key in rows[0]
    }
    return Run(path, config, columns)


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float('nan')
