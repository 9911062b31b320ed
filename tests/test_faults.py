"""Faults and hostile input: a run killed at any write point resumes to the
run left alone (rows and parameters); every failure is one line on stderr,
exit status 2 for bad input (nothing written) and 1 for a fault at run time;
a run directory in use is locked.

The kills use the fault points of :mod:`tcl_garage.experiment.faults`
(``TCL_GARAGE_FAULT=<point>[@n]``): the process SIGKILLs itself at the
n-th time it reaches the point. All runs are the point robot's smoke size.
"""
import os
import pathlib
import pickle
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import parameters, progress, ROOT, same_parameters

from tcl_garage.experiment import rundir

#: A new point run of three epochs (seconds).
POINT = ['point', '--smoke', '--epochs', '3', '--seed', '7', '--quiet']


def experiment(*args, env=None, timeout=300):
    """``python -m tcl_garage.experiment ARGS``: the finished process."""
    return subprocess.run(
        [sys.executable, '-m', 'tcl_garage.experiment', *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env=dict(os.environ, **(env or {})))


#: Processes :func:`start` started, ended (with their workers) after
#: each test.
STARTED = []


def start(*args, env=None):
    """``python -m tcl_garage.experiment ARGS`` running, in a new process
    group."""
    process = subprocess.Popen(
        [sys.executable, '-m', 'tcl_garage.experiment', *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        cwd=ROOT, env=dict(os.environ, **(env or {})),
        start_new_session=True)
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def _end_started_processes():
    """A test that fails leaves no run (or stopped worker) behind."""
    yield
    while STARTED:
        process = STARTED.pop()
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def wait_for_rows(process, run_dir, n_rows=1):
    """Wait until the run logged ``n_rows`` rows."""
    deadline = time.time() + 120
    while len(rundir.progress_rows(run_dir)) < n_rows:
        assert process.poll() is None, (process.stderr or
                                        process.stdout).read()[-3000:]
        assert time.time() < deadline, 'no epoch logged in 120 s'
        time.sleep(0.05)


def one_error_line(result):
    """The single ``error:`` line of a failed command's stderr."""
    lines = [line for line in result.stderr.strip().splitlines()
             if not line.startswith(('Gym has been', 'Please upgrade',
                                     'Users of this', 'See the migration'))]
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    return lines[0]


def files(run_dir):
    """A run directory's files and their bytes."""
    return {path.name: path.read_bytes()
            for path in pathlib.Path(run_dir).iterdir() if path.is_file()}


@pytest.fixture(scope='module')
def alone(tmp_path_factory):
    """The uninterrupted run."""
    run_dir = tmp_path_factory.mktemp('faults') / 'alone'
    result = experiment(*POINT, '--log-dir', str(run_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(progress(run_dir)) == 3
    return run_dir


@pytest.fixture(scope='module')
def finished(alone, tmp_path_factory):
    """A copy of the uninterrupted run, to be resumed in hostile ways."""
    def copy():
        target = tmp_path_factory.mktemp('copy') / 'run'
        shutil.copytree(alone, target)
        return target
    return copy


def assert_same_run(run_dir, alone):
    """The rows and parameters of the uninterrupted run; nothing left of
    interrupted writes."""
    assert progress(run_dir) == progress(alone)
    assert same_parameters(parameters(run_dir), parameters(alone))
    assert not [name for name in os.listdir(run_dir)
                if name.endswith('.tmp') or name == rundir.LOCK]


# ------------------------------------------------------- kills, resumes
def saved_epochs(run_dir):
    """Epochs a run directory's snapshot holds."""
    with open(pathlib.Path(run_dir) / rundir.SNAPSHOT, 'rb') as file:
        return pickle.load(file)['stats'].total_epoch + 1


#: A run killed at every write point in turn, each kill in a resume of the
#: last: (process, fault point, epochs saved and rows left after the kill).
KILLS = [
    ('new', 'after-snapshot-rename@1', 1, 0),  # the snapshot, not its row
    ('resume', 'during-progress-write@1', 1, 0),  # the resume's rewrite
    ('resume', 'during-snapshot-write@1', 1, 1),  # epoch 2's snapshot
    ('resume', 'during-progress-write@1', 2, 1),  # epoch 2's row
    ('resume', 'after-progress-rename@1', 2, 2),  # the rewrite, renamed
    ('resume', 'after-snapshot-rename@1', 3, 2),  # the last epoch's
]


def test_a_run_killed_at_every_write_point_resumes_to_the_run_left_alone(
        tmp_path, alone):
    run_dir = tmp_path / 'run'
    for process, point, saved, rows in KILLS:
        args = (POINT + ['--log-dir', str(run_dir)] if process == 'new'
                else ['--resume', str(run_dir), '--quiet'])
        killed = experiment(*args, env={'TCL_GARAGE_FAULT': point})
        assert killed.returncode == -signal.SIGKILL, (point,
                                                      killed.stderr[-2000:])
        assert (saved_epochs(run_dir), len(progress(run_dir))) == (
            saved, rows), point
        assert progress(run_dir) == progress(alone)[:rows]  # never cut
    assert rundir.status(run_dir) == 'partial'  # 2 rows of 3
    resumed = experiment('--resume', str(run_dir), '--quiet')
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stdout.strip().splitlines()[-1].endswith(
        'all 3 epochs are done; nothing to resume (give --epochs 4 or more '
        'to train on)')
    assert rundir.status(run_dir) == 'done'
    assert_same_run(run_dir, alone)
    # Resumed again: one line, nothing written.
    before = files(run_dir)
    again = experiment('--resume', str(run_dir), '--quiet')
    assert again.returncode == 0 and 'all 3 epochs are done' in again.stdout
    assert files(run_dir) == before


def test_sigterm_is_one_line_with_the_epoch_and_the_resume_command(
        tmp_path, alone):
    run_dir = tmp_path / 'run'
    process = start(*POINT, '--log-dir', str(run_dir))
    wait_for_rows(process, run_dir)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    line = one_error_line(subprocess.CompletedProcess([], 1, '', stderr))
    assert line.startswith('error: stopped by SIGTERM; ')
    assert 'of 3 epochs are saved in' in line
    assert line.endswith(f'resume with: python -m tcl_garage.experiment '
                         f'--resume {run_dir}')
    resumed = experiment('--resume', str(run_dir), '--quiet')
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run_dir, alone)


def test_ctrl_c_to_the_process_group_is_one_line(tmp_path):
    run_dir = tmp_path / 'run'
    process = start(*POINT, '--n-workers', '1', '--log-dir', str(run_dir))
    wait_for_rows(process, run_dir)
    os.killpg(process.pid, signal.SIGINT)  # the launcher and its worker
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    line = one_error_line(subprocess.CompletedProcess([], 1, '', stderr))
    assert line.startswith('error: interrupted (Ctrl-C); ')
    assert '--resume' in line


def test_a_full_disk_keeps_the_last_good_snapshot_in_one_line(
        tmp_path, alone):
    run_dir = tmp_path / 'run'
    result = experiment(*POINT, '--log-dir', str(run_dir),
                        env={'TCL_GARAGE_FAULT':
                             'enospc:during-snapshot-write@2'})
    assert result.returncode == 1
    line = one_error_line(result)
    assert 'the disk is full (the last good snapshot is kept' in line
    assert '1 of 3 epochs are saved' in line
    with open(run_dir / rundir.SNAPSHOT, 'rb') as file:
        assert pickle.load(file)['stats'].total_epoch == 0
    resumed = experiment('--resume', str(run_dir), '--quiet')
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert_same_run(run_dir, alone)


def workers_of(pid):
    """The environment worker processes of a launcher (not
    multiprocessing's resource tracker)."""
    path = pathlib.Path(f'/proc/{pid}/task/{pid}/children')
    return [int(child) for child in path.read_text().split()
            if b'spawn_main' in pathlib.Path(
                f'/proc/{child}/cmdline').read_bytes()]


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='/proc')
@pytest.mark.parametrize('how, message', [
    (signal.SIGKILL, 'environment worker 0 (pid {pid}) died'),
    (signal.SIGSTOP, 'environment worker 0 (pid {pid}) has not answered '
     'in 2 s'),
])
def test_a_dead_or_stopped_worker_stops_the_run_in_one_line(
        tmp_path, how, message):
    run_dir = tmp_path / 'run'
    process = start(*POINT, '--n-workers', '1', '--log-dir', str(run_dir),
                    env={'TCL_GARAGE_WORKER_TIMEOUT': '2'})
    wait_for_rows(process, run_dir)
    worker, = workers_of(process.pid)
    os.kill(worker, how)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    line = one_error_line(subprocess.CompletedProcess([], 1, '', stderr))
    assert message.format(pid=worker) in line
    assert line.endswith(f'--resume {run_dir}')


def test_workers_end_with_their_killed_launcher(tmp_path):
    run_dir = tmp_path / 'run'
    process = start(*POINT, '--n-workers', '2', '--log-dir', str(run_dir))
    wait_for_rows(process, run_dir)
    workers = workers_of(process.pid)
    assert len(workers) == 2
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while any(os.path.exists(f'/proc/{pid}') and pathlib.Path(
            f'/proc/{pid}/stat').read_text().split()[2] != 'Z'
              for pid in workers):
        assert time.time() < deadline, 'workers outlived their launcher'
        time.sleep(0.1)


def test_a_non_finite_loss_met_on_resume_is_one_line_and_adds_no_events(
        finished):
    import cloudpickle
    run_dir = finished()
    with open(run_dir / rundir.SNAPSHOT, 'rb') as file:
        snapshot = pickle.load(file)
    snapshot['algo']._reward_scale = 1e39  # Q targets overflow: inf loss
    with open(run_dir / rundir.SNAPSHOT, 'wb') as file:
        cloudpickle.dump(snapshot, file)
    events = sorted(run_dir.glob('events.out.tfevents.*'))
    result = experiment('--resume', str(run_dir), '--epochs', '4', '--quiet')
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith('error: non-finite training loss in epoch 3')
    assert 'the last good snapshot (if any) is kept' in line
    assert line.endswith(f'--resume {run_dir}')
    assert sorted(run_dir.glob('events.out.tfevents.*')) == events
    assert len(progress(run_dir)) == 3


# ------------------------------------------------------- hostile resumes
def corrupt_pickle(path):
    path.write_bytes(path.read_bytes()[:1000])


HOSTILE_SNAPSHOTS = [
    (lambda path: path.write_bytes(b''), 'params.pkl is empty'),
    (corrupt_pickle, 'is truncated or damaged'),
    (lambda path: path.write_bytes(pickle.dumps({'epoch': 3})),
     'holds no seed, train_args, stats, env, algo'),
    (lambda path: path.write_bytes(b'not a pickle at all'),
     'is truncated or damaged'),
]


@pytest.mark.parametrize('damage, message', HOSTILE_SNAPSHOTS)
def test_a_bad_snapshot_is_refused_in_one_line_and_nothing_is_written(
        finished, damage, message):
    run_dir = finished()
    damage(run_dir / rundir.SNAPSHOT)
    before = files(run_dir)
    result = experiment('--resume', str(run_dir), '--epochs', '4')
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert files(run_dir) == before


def test_a_snapshot_of_another_run_is_refused(finished, tmp_path):
    other = tmp_path / 'other'
    made = experiment('point', '--smoke', '--epochs', '1', '--seed', '8',
                      '--quiet', '--log-dir', str(other))
    assert made.returncode == 0, made.stderr[-2000:]
    run_dir = finished()
    shutil.copy(other / rundir.SNAPSHOT, run_dir / rundir.SNAPSHOT)
    before = files(run_dir)
    result = experiment('--resume', str(run_dir), '--epochs', '4')
    assert result.returncode == 2
    line = one_error_line(result)
    assert 'is a snapshot of another run (point tcl-pearl seed 8; ' in line
    assert files(run_dir) == before


def test_garbage_rows_are_refused_not_cut_down(finished):
    run_dir = finished()
    progress_file = run_dir / rundir.PROGRESS
    progress_file.write_text(progress_file.read_text() + 'garbage\n')
    before = files(run_dir)
    result = experiment('--resume', str(run_dir), '--epochs', '4')
    assert result.returncode == 2
    assert 'line 5 is not a row of its header' in one_error_line(result)
    assert files(run_dir) == before


def test_bad_resumes_are_one_line_and_write_nothing(finished):
    run_dir = finished()
    before = files(run_dir)
    cases = [
        (['--resume', str(run_dir), '--epochs', '2'],
         'epochs=2: {run} has done 3 epochs; give --epochs 4 or more'),
    ]
    for args, message in cases:
        result = experiment(*args)
        assert result.returncode == 2, result.stderr
        assert message.format(run=run_dir) in one_error_line(result)
    launcher = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'cheetah_vel.py'),
         '--resume', str(run_dir)], capture_output=True, text=True,
        cwd=ROOT, timeout=120)
    assert launcher.returncode == 2
    assert ('it is a point run, and this launcher trains cheetah-vel'
            in one_error_line(launcher))
    assert files(run_dir) == before


def test_a_run_directory_in_use_is_locked_and_a_stale_lock_is_taken_over(
        finished):
    run_dir = finished()
    before = files(run_dir)
    with rundir.locked(run_dir):
        result = experiment('--resume', str(run_dir), '--epochs', '4')
    assert result.returncode == 2
    assert (f'is in use by process {os.getpid()}'
            in one_error_line(result))
    assert files(run_dir) == before
    # A lock file left by a dead process (no flock held): taken over.
    (run_dir / rundir.LOCK).write_text('999999\n')
    result = experiment('--resume', str(run_dir), '--epochs', '4',
                        '--quiet')
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(progress(run_dir)) == 4
    assert not (run_dir / rundir.LOCK).exists()


# ------------------------------------------------------- hostile settings
HOSTILE_SETTINGS = [
    (['--n-workers', '1000'], 'n_workers=1000: this machine has'),
    (['--set', 'batch_size=100000000'], 'batch_size=100000000: the run '
     'needs at least'),
    (['--set', 'latent_dim=100000000'], 'latent_dim=100000000: the run '
     'needs at least'),
    (['--set', 'replay_buffer_size=1000000000000'],
     'replay_buffer_size=1000000000000: one replay buffer reserves'),
    (['--set', 'net_size=1000000'], 'net_size=1000000: the run needs'),
    (['--set', 'max_episode_length=30'], 'max_episode_length=30: point '
     'tasks have a fixed episode length of 20'),
    (['--set', 'window_size=[1'], 'not valid YAML'),
    (['--set', 'seed=!!python/object/apply:os.system [echo]'],
     'not valid YAML'),
]


@pytest.mark.parametrize('args, message', HOSTILE_SETTINGS)
def test_hostile_settings_are_refused_before_anything_is_written(
        tmp_path, capsys, args, message):
    from tcl_garage.experiment import main
    with pytest.raises(SystemExit) as stop:
        main(None, ['point', '--smoke', *args, '--log-dir',
                    str(tmp_path / 'run')])
    stderr = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2
    assert len(stderr) == 1 and message in stderr[0], stderr
    assert list(tmp_path.iterdir()) == []


def test_a_log_dir_under_a_file_is_one_line(tmp_path, capsys):
    from tcl_garage.experiment import main
    (tmp_path / 'file').write_text('')
    with pytest.raises(SystemExit) as stop:
        main(None, ['point', '--smoke', '--log-dir',
                    str(tmp_path / 'file' / 'run')])
    stderr = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2
    assert len(stderr) == 1 and 'is a file, not a folder' in stderr[0]
    assert [p.name for p in tmp_path.iterdir()] == ['file']


def test_the_traceback_comes_only_when_asked(tmp_path):
    args = ['point', '--smoke', '--set', 'window_size=[1', '--log-dir',
            str(tmp_path / 'run')]
    short = experiment(*args)
    assert short.returncode == 2 and 'Traceback' not in short.stderr
    full = experiment(*args, env={'TCL_GARAGE_TRACEBACK': '1'})
    assert full.returncode != 0 and 'Traceback' in full.stderr


# ------------------------------------------------------- sweeps, analysis
def fake_run(directory, rows, epochs=3, snapshot=True):
    """A run directory as the sweep sees it: config, snapshot, rows."""
    import json
    directory.mkdir(parents=True)
    (directory / rundir.VARIANT).write_text(json.dumps(
        {'config': {'benchmark': 'point', 'algo': 'pearl', 'seed': 2,
                    'epochs': epochs}}))
    if snapshot:
        (directory / rundir.SNAPSHOT).write_bytes(b'snapshot')
    if rows:
        (directory / rundir.PROGRESS).write_text(
            'TotalEnvSteps\n' + ''.join(f'{10 * (i + 1)}\n'
                                        for i in range(rows)))
    return directory


@pytest.fixture
def commands_run(monkeypatch):
    """The commands the sweep runs, each exiting 0 without running."""
    from tcl_garage.experiment import sweep as sweep_module
    ran = []

    def run(cmd, check=False, **kwargs):
        del check, kwargs
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(sweep_module.subprocess, 'run', run)
    return ran


def test_a_retried_ray_task_resumes_its_own_directory(tmp_path,
                                                      commands_run):
    from tcl_garage.experiment.sweep import run_task
    directory = fake_run(tmp_path / 'point' / 'pearl' / 'seed2', rows=1)
    assert run_task('point', 'pearl', 2, str(directory)) == 0
    assert commands_run[-1][-2:] == ['--resume', str(directory)]
    # Killed before its first snapshot: started again in the same place.
    unstarted = fake_run(tmp_path / 'other' / 'seed2', rows=0,
                         snapshot=False)
    run_task('point', 'pearl', 2, str(unstarted), ['--smoke'])
    assert commands_run[-1][-3:] == ['--log-dir', str(unstarted), '--smoke']
    assert not unstarted.exists()  # the launcher makes it anew
    # Finished by an earlier attempt: nothing runs.
    done = fake_run(tmp_path / 'done' / 'seed2', rows=3)
    count = len(commands_run)
    assert run_task('point', 'pearl', 2, str(done)) == 0
    assert len(commands_run) == count


def test_a_sweep_counts_only_runs_that_hold_all_their_epochs(
        tmp_path, commands_run, capsys):
    from tcl_garage.experiment.sweep import sweep
    fake_run(tmp_path / 'point' / 'pearl' / 'seed2', rows=1)
    assert sweep(['point'], ['pearl'], [2], str(tmp_path)) == []  # exit 0
    directory = tmp_path / 'point' / 'pearl' / 'seed2'
    assert (f'0 of 1 runs finished; 1 stopped before their last epoch '
            f'(resume them): {directory}') in capsys.readouterr().out


def test_analysis_never_counts_one_seed_twice(alone, tmp_path):
    from tcl_garage.analysis.runs import check_distinct, load_run
    copy = tmp_path / 'seed7_1'
    shutil.copytree(alone, copy)
    with pytest.raises(ValueError, match=f'{alone} and {copy} hold the same '
                       r'run \(point tcl-pearl seed 7, same config\)'):
        check_distinct([load_run(alone), load_run(copy)])
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.analysis', 'table', str(alone),
         str(copy), '--out', str(tmp_path / 'results')],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert 'hold the same run' in result.stderr
    assert not (tmp_path / 'results.md').exists()


def ray_task_workers():
    """Processes running a Ray sweep task (``ray::run_task``)."""
    found = []
    for entry in pathlib.Path('/proc').iterdir():
        try:
            if entry.name.isdigit() and (entry / 'cmdline').read_bytes(
            ).startswith(b'ray::run_task'):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='/proc')
def test_a_ray_sweep_task_killed_mid_run_resumes_its_own_directory(
        tmp_path):
    """A local two-node Ray cluster (a head and a second node on
    127.0.0.1); the task's worker is SIGKILLed after the run's first epoch;
    Ray's retry resumes the run in its own directory. (While it runs, a
    ``ray.init()`` elsewhere on this machine joins its cluster: run it
    alone.)"""
    pytest.importorskip('ray')
    import socket
    ray_script = str(pathlib.Path(sys.executable).parent / 'ray')
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED='0',
               RAY_AUTH_MODE='disabled', PYTHONPATH=str(ROOT))
    current = pathlib.Path('/tmp/ray/ray_current_cluster')
    had_current = current.exists()
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                 start_new_session=True, env=env)
    nodes = [subprocess.Popen(
        [ray_script, 'start', '--head', f'--port={port}', '--num-cpus=1',
         '--include-dashboard=false', '--disable-usage-stats', '--block'],
        **quiet)]
    runs = tmp_path / 'runs'
    directory = runs / 'point' / 'tcl-pearl' / 'seed2'
    try:
        time.sleep(10)
        nodes.append(subprocess.Popen(
            [ray_script, 'start', f'--address=127.0.0.1:{port}',
             '--num-cpus=1', '--disable-usage-stats', '--block'], **quiet))
        sweep = subprocess.Popen(
            [sys.executable, str(ROOT / 'experiments' / 'sweep.py'), '--envs',
             'point', '--algos', 'tcl-pearl', '--seeds', '2', '--runs-dir',
             str(runs), '--ray', '--ray-address', f'127.0.0.1:{port}',
             '--smoke', '--epochs', '6', '--quiet'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=ROOT, env=env)
        wait_for_rows(sweep, directory)
        workers = ray_task_workers()
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        output, _ = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, output[-3000:]
        assert '1 of 1 runs finished' in output
        assert os.listdir(directory.parent) == ['seed2']  # no seed2_1
        assert len(rundir.read_machines(directory)) == 2  # start, resume
        alone = experiment('point', '--algo', 'tcl-pearl', '--seed', '2',
                           '--smoke', '--epochs', '6', '--quiet',
                           '--log-dir', str(tmp_path / 'alone'))
        assert alone.returncode == 0, alone.stderr[-2000:]
        assert_same_run(directory, tmp_path / 'alone')
    finally:
        for node in reversed(nodes):
            os.killpg(node.pid, signal.SIGTERM)
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
        if not had_current and current.exists():
            current.unlink()  # ray start's pointer to the cluster now gone


def test_any_error_once_training_started_is_a_fault_of_the_run(
        tmp_path, monkeypatch):
    """Not bad input: exit 1 with the epochs saved and --resume (a shape
    error deep in an update is a ValueError too)."""
    from tcl_garage.algos.pearl import PEARL
    from tcl_garage.experiment import load_config
    from tcl_garage.experiment.launcher import (is_run_time_fault, run,
                                                RunStopped)

    def broken_train(self, trainer):
        raise ValueError('shapes (3, 4) and (5,) not aligned')

    monkeypatch.setattr(PEARL, 'train', broken_train)
    config = load_config('point', algo='tcl-pearl', profile='smoke')
    with pytest.raises(RunStopped) as stopped:
        run(config, log_dir=str(tmp_path / 'run'), quiet=True)
    assert isinstance(stopped.value.cause, ValueError)
    assert (tmp_path / 'run' / rundir.VARIANT).is_file()
    # Before training starts a ValueError is bad input; a config's never
    # is a fault, a full disk always is.
    from tcl_garage.experiment.config import ConfigError
    assert not is_run_time_fault(ValueError('x'), training=False)
    assert not is_run_time_fault(ConfigError('x'), training=True)
    assert is_run_time_fault(OSError(28, 'No space'), training=False)


def test_a_sweep_launcher_ends_at_once_when_its_named_parent_is_gone(
        tmp_path):
    """The Ray sweep's launcher ends itself with its task's process: named
    in the environment, a parent that is not its own means it is gone."""
    finished = experiment(*POINT, '--log-dir', str(tmp_path / 'run'),
                          env={'TCL_GARAGE_END_WITH_PID': '1'})
    assert finished.returncode == 1
    assert not (tmp_path / 'run').exists()
