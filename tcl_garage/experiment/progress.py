"""dowel outputs for runs: a one-line progress report, a resumable CSV.

:class:`ProgressLine` prints, after each epoch: epoch i/n, total environment
steps, meta-test return (and success rate where the benchmark reports one),
TCL accuracy, elapsed time and an ETA. :class:`ResumableCsvOutput` keeps the
rows of an existing ``progress.csv`` when a run is resumed.
"""
import csv
import os
import sys
import time

from dowel import CsvOutput, LogOutput, TabularInput


class ProgressLine(LogOutput):
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

    @property
    def types_accepted(self):
        """tuple: Tabular data only."""
        return (TabularInput, )

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


class ResumableCsvOutput(CsvOutput):
    """dowel's CSV output that keeps the rows already in its file.

    Args:
        file_name (str): The CSV file; its rows (if any) are kept and new
            rows are appended (new columns widen the file, as in dowel).

    """

    def __init__(self, file_name: str) -> None:
        rows, fieldnames = [], None
        if os.path.isfile(file_name) and os.path.getsize(file_name) > 0:
            with open(file_name, newline='') as f:
                reader = csv.DictReader(f)
                fieldnames = reader.fieldnames
                rows = list(reader)
        super().__init__(file_name)
        if fieldnames:
            self._fieldnames = set(fieldnames)
            self._writer = csv.DictWriter(self._log_file,
                                          fieldnames=fieldnames,
                                          restval='',
                                          extrasaction='raise')
            self._writer.writeheader()
            self._writer.writerows(rows)
            self._log_file.flush()
        self._rows = rows

    def keep_rows(self, n_rows: int) -> None:
        """Keep only the first ``n_rows`` rows of the kept file.

        A resumed run continues from its last snapshot; rows logged after
        that snapshot (a kill between the two writes) are logged again.

        Args:
            n_rows (int): Rows to keep (the epochs of the snapshot).

        """
        if len(self._rows) <= n_rows:
            return
        self._rows = self._rows[:n_rows]
        self._log_file.seek(0)
        self._log_file.truncate()
        self._writer.writeheader()
        self._writer.writerows(self._rows)
        self._log_file.flush()
