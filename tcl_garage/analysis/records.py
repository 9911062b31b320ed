"""Study records: what a study's report reads of a finished run, small
enough to commit.

A run directory holds snapshots of megabytes and a progress.csv of every
logged column; a study's report (:mod:`tcl_garage.analysis.ablation`) reads
four columns of it and its training statistics. A record keeps those
columns (a few KB), the run's resolved config, its metadata (the code's
commit) and the machines it trained on
(:data:`~tcl_garage.experiment.rundir.MACHINE`) in a folder laid out like
the run directories (``<record>/<benchmark>/<arm>/seed<s>/``), so that a
study run in parts, on machines that keep nothing between sessions, adds
up: each part records its finished runs, the record is committed, and the
next part skips what the record holds (``experiments/ablation.py
--record``). A record reads back with
:func:`tcl_garage.analysis.runs.load_run` like a run directory.

The cluster metrics of a run's context embeddings
(:func:`tcl_garage.analysis.embeddings.analyse_embeddings`) need the run's
snapshot, which the record does not keep; they are recorded beside it once
measured (:func:`record_embedding_metrics`), so that they too add up over
the parts of a study.
"""
import csv
import json
import pathlib
import shutil
from typing import Dict, Optional, Sequence, Union

from tcl_garage.analysis.runs import (ACCURACY_KEY, RETURN_KEY, STEPS_KEY,
                                      SUCCESS_KEY)
from tcl_garage.analysis.training import TRAIN_PREFIX
from tcl_garage.experiment import rundir

#: The progress columns a record keeps (those the run logged), besides
#: every training statistic (``Train/``: losses, posterior width).
RECORD_COLUMNS = ('Epoch', STEPS_KEY, RETURN_KEY, SUCCESS_KEY, ACCURACY_KEY)
#: The run's metadata (the launcher and the code's commit), kept as it is.
METADATA = 'metadata.json'
#: The cluster metrics of the run's embeddings, once measured.
EMBEDDING_METRICS = 'embeddings_metrics.json'

PathLike = Union[str, pathlib.Path]


def is_recorded(record_dir: PathLike) -> bool:
    """Whether a record folder holds a finished run.

    Args:
        record_dir (str or pathlib.Path): ``<record>/<benchmark>/<arm>/seed<s>``.

    Returns:
        bool: True when its config is there and its progress has every
            epoch the config asks for.

    """
    record_dir = pathlib.Path(record_dir)
    if not (record_dir / rundir.VARIANT).is_file():
        return False
    epochs = rundir.read_config(record_dir)['epochs']
    return len(rundir.progress_rows(record_dir)) >= epochs


def write_record(run_dir: PathLike, record_dir: PathLike,
                 columns: Sequence[str] = RECORD_COLUMNS) -> pathlib.Path:
    """Record a finished run: its config, its metadata and machines, the
    chosen columns of its progress and its training statistics.

    Args:
        run_dir (str or pathlib.Path): The finished run directory.
        record_dir (str or pathlib.Path): Where the record goes; made if
            missing.
        columns (Sequence[str]): Progress columns to keep, besides every
            ``Train/`` column; those the run did not log are left out.

    Returns:
        pathlib.Path: record_dir.

    Raises:
        ValueError: If the run is not finished, or record_dir already holds
            a record of another run (a record is never overwritten by a
            different run).

    """
    run_dir, record_dir = pathlib.Path(run_dir), pathlib.Path(record_dir)
    if rundir.status(run_dir) != 'done':
        raise ValueError(f'{run_dir} is not a finished run; finish it '
                         '(run the study again) before recording it')
    config = json.loads((run_dir / rundir.VARIANT).read_text())
    if (record_dir / rundir.VARIANT).is_file():
        recorded = json.loads((record_dir / rundir.VARIANT).read_text())
        if recorded != config:
            raise ValueError(f'{record_dir} already records another run '
                             f'(its config differs from {run_dir}\'s); '
                             'record into another folder')
    rows = rundir.progress_rows(run_dir)
    kept = [c for c in columns if c in rows[0]] + [
        c for c in rows[0] if c.startswith(TRAIN_PREFIX) and c not in columns]
    record_dir.mkdir(parents=True, exist_ok=True)
    with open(record_dir / rundir.RECORD_PROGRESS, 'w', newline='',
              encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=kept, extrasaction='ignore')
        writer.writeheader()
        writer.writerows(rows)
    shutil.copyfile(run_dir / rundir.VARIANT, record_dir / rundir.VARIANT)
    for name in (METADATA, rundir.MACHINE):  # the code's commit; machines
        if (run_dir / name).is_file():
            shutil.copyfile(run_dir / name, record_dir / name)
    return record_dir


def recorded_commit(record_dir: PathLike) -> str:
    """The code's commit a recorded run ran with.

    Args:
        record_dir (str or pathlib.Path): A record (or a run directory).

    Returns:
        str: The commit's first 7 hex digits, or ``'unknown'`` without
            metadata.

    """
    path = pathlib.Path(record_dir) / METADATA
    if not path.is_file():
        return 'unknown'
    return str(json.loads(path.read_text()).get('githash') or 'unknown')[:7]


def record_embedding_metrics(record_dir: PathLike, metrics: Dict) -> None:
    """Keep a recorded run's embedding cluster metrics in its record.

    Args:
        record_dir (str or pathlib.Path): A record (:func:`is_recorded`).
        metrics (dict): From
            :func:`tcl_garage.analysis.embeddings.analyse_embeddings`:
            ``{'latent': {...}, 'tsne': {...}, ...}``.

    Raises:
        ValueError: If record_dir holds no finished run's record (metrics
            without the run they measure would be mixed into a report), or
            already holds different metrics (measured by other settings).

    """
    record_dir = pathlib.Path(record_dir)
    if not is_recorded(record_dir):
        raise ValueError(f'{record_dir} holds no recorded run; record the '
                         'run (write_record) before its embedding metrics')
    kept = recorded_embedding_metrics(record_dir)
    if kept is not None and kept != metrics:
        raise ValueError(f'{record_dir} already holds other embedding '
                         'metrics; delete its '
                         f'{EMBEDDING_METRICS} to measure them again')
    (record_dir / EMBEDDING_METRICS).write_text(
        json.dumps(metrics, indent=2, sort_keys=True))


def recorded_embedding_metrics(record_dir: PathLike) -> Optional[Dict]:
    """A recorded run's embedding cluster metrics, if measured.

    Args:
        record_dir (str or pathlib.Path): A record.

    Returns:
        dict or None: What :func:`record_embedding_metrics` kept.

    """
    path = pathlib.Path(record_dir) / EMBEDDING_METRICS
    return json.loads(path.read_text()) if path.is_file() else None
