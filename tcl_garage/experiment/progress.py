"""dowel outputs for runs: a one-line progress report, a resumable CSV,
and their base, :class:`TabularOutput`.

:class:`ProgressLine` prints, after each epoch: epoch i/n, total environment
steps, meta-test return (and success rate where the benchmark reports one),
TCL accuracy, elapsed time and an ETA. :class:`AtomicCsvOutput` writes
``progress.csv`` atomically, after each epoch and when a run is resumed
(:func:`resumed_rows`: the rows end where the snapshot does; see
:mod:`tcl_garage.experiment.snapshots`), and a file it cannot parse is
refused, never cut down.
"""
import csv
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from dowel import LogOutput, TabularInput

from tcl_garage.experiment.config import ConfigError
from tcl_garage.experiment.atomic import replace_whole

#: A column every progress row holds (garage logs it each epoch).
STEPS_COLUMN = 'TotalEnvSteps'


class TabularOutput(LogOutput):
    """A dowel output that takes each epoch's table (``TabularInput``) and
    nothing else: the base of the run's outputs (its progress line and
    ``progress.csv`` here, TensorBoard's in the launcher, W&B's in
    :mod:`tcl_garage.experiment.tracking`). A subclass writes
    :meth:`record` (and :meth:`dump`, :meth:`close` where it needs them).
    """

    @property
    def types_accepted(self) -> Tuple[type, ...]:
        """tuple: Tabular data only."""
        return (TabularInput, )


class ProgressLine(TabularOutput):
    """Prints one progress line per logged epoch.

    Args:
        n_epochs (int): Total epochs of the run.
        start_epoch (int): Index of the first epoch this process trains.
        stream (file or None): Where to print (default stdout).

    """

    def __init__(self, n_epochs: int, start_epoch: int = 0,
                 stream=None) -> None:
        self._n_epochs = n_epochs
        self._epoch = start_epoch
        self._start_epoch = start_epoch
        self._start = time.time()
        self._stream = stream or sys.stdout

    def record(self, data, prefix=''):
        """Print the line for the epoch just logged.

        Args:
            data (TabularInput): The epoch's table.
            prefix (str): Unused.

        """
        del prefix
        values = data.as_primitive_dict
        self._epoch += 1
        elapsed = time.time() - self._start
        done = self._epoch - self._start_epoch
        eta = elapsed / done * (self._n_epochs - self._epoch)
        parts = [
            f'epoch {self._epoch}/{self._n_epochs}',
            f'env steps {int(values.get("TotalEnvSteps", 0)):,}',
        ]
        if 'MetaTest/Average/AverageReturn' in values:
            parts.append('meta-test return '
                         f'{values["MetaTest/Average/AverageReturn"]:.2f}')
        if 'MetaTest/Average/SuccessRate' in values:
            parts.append('success '
                         f'{values["MetaTest/Average/SuccessRate"]:.2f}')
        if 'Train/TCLAccuracy' in values:
            parts.append(f'TCL acc {values["Train/TCLAccuracy"]:.2f}')
        parts.append(f'elapsed {_clock(elapsed)}')
        parts.append(f'ETA {_clock(eta)}')
        print('[progress] ' + ' | '.join(parts), file=self._stream,
              flush=True)

    def dump(self, step=None):
        """Nothing to flush."""


def _clock(seconds: float) -> str:
    """``h:mm:ss``.

    Args:
        seconds (float): Duration.

    Returns:
        str: Formatted duration.

    """
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


def _text(value: Any) -> str:
    """A value as the CSV writer writes it.

    Args:
        value (object): A row's value.

    Returns:
        str: Its text.

    """
    return '' if value is None else str(value)


def write_rows(file_name: str, rows: Sequence[Dict[str, Any]]) -> None:
    """Write a progress file whole and atomically (temporary file, fsync,
    rename): a kill leaves the old file or the new one, never a part.

    Args:
        file_name (str): The file.
        rows (Sequence[dict]): Every row; the header is the sorted union of
            their columns (a column a row lacks is left empty).

    """
    fieldnames = sorted(set().union(*(row.keys() for row in rows)))

    def write(file):
        writer = csv.DictWriter(file, fieldnames=fieldnames, restval='',
                                extrasaction='raise')
        writer.writeheader()
        writer.writerows(rows)

    # Readable as garage's own CSV was (mkstemp's file is private).
    replace_whole(file_name, write, name='progress', permissions=0o666)


def read_rows(file_name: str) -> List[Dict[str, str]]:
    """The rows of a run's progress file, refusing one it cannot parse
    whole (so that nothing rewrites it and loses rows).

    Args:
        file_name (str): The file (missing or empty: no rows).

    Returns:
        list[dict[str, str]]: The rows.

    Raises:
        ConfigError: If a line is not a row of the header's columns, or
            the file is not a run's progress file.

    """
    if not os.path.isfile(file_name) or os.path.getsize(file_name) == 0:
        return []
    advice = ('a run\'s progress file has a header and one row per epoch '
              f'(with {STEPS_COLUMN}); restore it, or move it away to '
              'resume with the snapshot\'s last row only')
    try:
        with open(file_name, newline='', encoding='utf-8') as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            fieldnames = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f'{file_name} cannot be parsed ({error}); '
                          f'{advice}') from None
    if STEPS_COLUMN not in fieldnames:
        raise ConfigError(f'{file_name} has no {STEPS_COLUMN} column; '
                          f'{advice}')
    for number, row in enumerate(rows, start=2):
        broken = None in row or None in row.values()
        if broken or not row[STEPS_COLUMN].isdigit():
            raise ConfigError(f'{file_name} line {number} is not a row of '
                              f'its header\'s columns; {advice}')
    return rows


def resumed_rows(file_name: str, epochs_saved: int,
                 snapshot_row: Optional[Dict[str, Any]]) -> List[Dict]:
    """The rows a resumed run starts from: the rows of the epochs before
    the snapshot's, then the snapshot's own row.

    Args:
        file_name (str): The run's progress file.
        epochs_saved (int): Epochs the snapshot holds (its epoch + 1).
        snapshot_row (dict or None): The row saved in the snapshot (None
            for a snapshot written before snapshots held it: the file's
            rows are kept up to ``epochs_saved``).

    Returns:
        list[dict]: The rows.

    Raises:
        ConfigError: If the file cannot be parsed, or lacks rows before the
            snapshot's epoch.

    """
    rows = read_rows(file_name)
    if snapshot_row is None:
        return rows[:epochs_saved]
    if len(rows) < epochs_saved - 1:
        raise ConfigError(
            f'{file_name} holds {len(rows)} rows but the snapshot is at '
            f'epoch {epochs_saved}: the rows of epochs {len(rows) + 1} to '
            f'{epochs_saved - 1} are gone; restore the file, or start a new '
            'run')
    return rows[:epochs_saved - 1] + [snapshot_row]


def same_rows(a: Sequence[Dict[str, Any]],
              b: Sequence[Dict[str, Any]]) -> bool:
    """Whether two lists of rows write the same CSV cells.

    Args:
        a (Sequence[dict]): Rows.
        b (Sequence[dict]): Rows.

    Returns:
        bool: True when every row has the same columns and cell texts.

    """
    def cells(rows):
        columns = set().union(*(row.keys() for row in rows))
        return [{key: _text(row.get(key)) for key in columns}
                for row in rows]

    return len(a) == len(b) and cells(a) == cells(b)


class AtomicCsvOutput(TabularOutput):
    """dowel output writing ``progress.csv``: after each logged epoch the
    whole file is rewritten atomically (:func:`write_rows`), so it is never
    half-written nor truncated. (dowel's ``CsvOutput`` appends, and rewrites
    the file in place when a column appears.)

    Args:
        file_name (str): The CSV file.
        rows (Sequence[dict]): The rows it already holds (a resumed run's,
            :func:`resumed_rows`); new rows follow them.

    """

    def __init__(self, file_name: str,
                 rows: Sequence[Dict[str, Any]] = ()) -> None:
        self._file_name = file_name
        self._rows = list(rows)

    def record(self, data, prefix=''):
        """Add the epoch's row and rewrite the file.

        Args:
            data (TabularInput): The epoch's table.
            prefix (str): Unused.

        """
        del prefix
        row = data.as_primitive_dict
        self._rows.append(dict(row))
        write_rows(self._file_name, self._rows)
        for key in row:
            data.mark(key)

    def dump(self, step=None):
        """Nothing to flush: each row is on disk once recorded."""
