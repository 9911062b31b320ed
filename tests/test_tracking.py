"""Weights & Biases tracking (``--track``), in W&B's offline mode (no
network, no login): the offline run holds the resolved config, the machine
record and every scalar of ``progress.csv``; a resume continues the same W&B
run; without W&B installed, ``--track`` is one line naming the install
command and nothing is written."""
import csv
import json
import math
import os
import pathlib
import struct
import subprocess
import sys

import pytest

from conftest import ROOT

from tcl_garage.experiment import rundir
from tcl_garage.experiment.tracking import WANDB_INSTALL_HINT

#: A new point run of two epochs, tracked.
TRACKED = ['point', '--smoke', '--epochs', '2', '--seed', '5', '--quiet',
           '--track', '--wandb-project', 'tcl-tests', '--wandb-run-name',
           'smoke']


def experiment(*args, env=None, prelude=''):
    """``python -m tcl_garage.experiment ARGS`` (after ``prelude``)."""
    code = (prelude + 'from tcl_garage.experiment.cli import main; '
            'main(argv=sys.argv[1:])')
    return subprocess.run(
        [sys.executable, '-c', 'import sys; ' + code, *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


def wandb_records(path):
    """The records of a ``.wandb`` file: W&B's LevelDB-log framing (32 KiB
    blocks; each chunk a 7-byte header of checksum, length and type: full,
    first, middle, last) around protobuf ``Record`` messages."""
    from wandb.proto import wandb_internal_pb2
    data = pathlib.Path(path).read_bytes()
    assert data[:4] == b':W&B'
    block, position, parts = 32768, 7, b''
    while position + 7 <= len(data):
        left = block - position % block
        if left < 7:  # a block's tail too short for a header: padding
            position += left
            continue
        _, length, kind = struct.unpack('<IHB', data[position:position + 7])
        if length == 0 and kind == 0:  # the rest of the block is padding
            position += left
            continue
        parts += data[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or its last chunk
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b''
            yield record


def offline_run(wandb_dir, run_id):
    """The W&B run's id, config and rows (by step) over its offline files."""
    ids, config, rows = set(), {}, {}
    files = sorted(pathlib.Path(wandb_dir).glob(
        f'wandb/offline-run-*-{run_id}/run-{run_id}.wandb'))
    assert files, list(pathlib.Path(wandb_dir).rglob('*'))
    for path in files:
        for record in wandb_records(path):
            kind = record.WhichOneof('record_type')
            if kind == 'run':
                ids.add(record.run.run_id)
                config.update({item.key: json.loads(item.value_json)
                               for item in record.run.config.update})
            elif kind == 'config':
                config.update({item.key: json.loads(item.value_json)
                               for item in record.config.update})
            elif kind == 'history':
                items = {(item.key or '/'.join(item.nested_key)):
                         json.loads(item.value_json)
                         for item in record.history.item}
                rows[record.history.step.num] = {
                    key: value for key, value in items.items()
                    if not key.startswith('_')}  # W&B's own: _step, ...
    return ids, config, [rows[step] for step in sorted(rows)]


def assert_same_scalars(progress_rows, tracked_rows):
    """Each row of ``progress.csv`` is a tracked row, column by column."""
    assert len(progress_rows) == len(tracked_rows)
    for row, tracked in zip(progress_rows, tracked_rows):
        assert set(row) == set(tracked)
        for key, text in row.items():
            assert math.isclose(float(text), float(tracked[key]),
                                rel_tol=1e-6, abs_tol=1e-12), key


def test_a_tracked_run_and_its_resume_send_the_config_machine_and_rows(
        tmp_path):
    pytest.importorskip('wandb')
    wandb_env = {'WANDB_MODE': 'offline', 'WANDB_DIR': str(tmp_path),
                 'WANDB_SILENT': 'true'}
    run_dir = tmp_path / 'run'
    result = experiment(*TRACKED, '--log-dir', str(run_dir), env=wandb_env)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = experiment('--resume', str(run_dir), '--epochs', '3',
                         env=wandb_env)  # stays tracked without --track
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    kept = json.loads((run_dir / rundir.TRACKING).read_text())
    assert kept['project'] == 'tcl-tests'
    ids, config, rows = offline_run(tmp_path, kept['id'])
    assert ids == {kept['id']}  # the resume continued the same W&B run
    with open(run_dir / rundir.PROGRESS, newline='') as file:
        progress = list(csv.DictReader(file))
    assert len(progress) == 3
    assert_same_scalars(progress, rows)
    machines = config.pop('machine')
    assert machines == rundir.read_machines(run_dir)  # both starts
    assert [start['start_epoch'] for start in machines] == [0, 2]
    config.pop('_wandb', None)
    saved = rundir.read_config(run_dir)
    assert {key: config[key] for key in saved if key != 'epochs'} == {
        key: value for key, value in saved.items() if key != 'epochs'}
    assert config['epochs'] in (2, 3)


def test_track_without_wandb_is_one_line_naming_the_install_and_writes_nothing(
        tmp_path):
    run_dir = tmp_path / 'run'
    result = experiment(*TRACKED, '--log-dir', str(run_dir),
                        prelude="sys.modules['wandb'] = None; ")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    assert WANDB_INSTALL_HINT in lines[0]
    assert not run_dir.exists()
    assert sorted(tmp_path.iterdir()) == []


def test_wandb_options_without_track_are_one_line(tmp_path):
    result = experiment('point', '--smoke', '--wandb-project', 'p',
                        '--log-dir', str(tmp_path / 'run'))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: --wandb-project: it names where --track sends the run; add '
        '--track']
    assert not (tmp_path / 'run').exists()
