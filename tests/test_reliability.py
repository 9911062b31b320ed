"""Reliability: same seed, same run; a killed run resumes exactly; every bad
setting is a one-line error that writes nothing; a non-finite loss stops the
run and keeps the last good snapshot; Ray sessions outlive samplers."""
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import (assert_killed_run_resumes_exactly, launch,
                      make_point_algo, parameters, progress, same_parameters,
                      train)

from tcl_garage.algos import NonFiniteLossError
from tcl_garage.experiment import load_config, main, run
from tcl_garage.experiment.snapshots import atomic_pickle

def smoke_run(benchmark, log_dir, seed=3, **overrides):
    config = load_config(benchmark, profile='smoke',
                         overrides=dict(seed=seed, **overrides))
    return run(config, str(log_dir))


# ------------------------------------------------------------- determinism
@pytest.mark.parametrize('benchmark', [
    'cheetah-vel', 'cheetah-dir', 'ant-dir', 'ant-goal', 'humanoid-dir',
    'walker-rand-params', 'ml1/reach-v3', 'point'
])
def test_same_seed_same_run_other_seed_other_run(tmp_path, benchmark):
    runs = [smoke_run(benchmark, tmp_path / name, seed=seed)
            for name, seed in (('a', 3), ('b', 3), ('c', 4))]
    first, again, other = (progress(run_dir) for run_dir in runs)
    assert len(first) == 2
    for row_a, row_b in zip(first, again):  # column by column
        assert row_a == row_b
    assert same_parameters(parameters(runs[0]), parameters(runs[1]))
    assert first != other
    assert not same_parameters(parameters(runs[0]), parameters(runs[2]))


def test_environments_never_seed_from_os_entropy():
    from tcl_garage.envs import make_benchmark
    resets = []
    for _ in range(2):
        np.random.seed(11)
        env = make_benchmark('cheetah-vel', seed=0).train_envs()[0]()
        resets.append(env.reset()[0])
    np.testing.assert_array_equal(*resets)


# ----------------------------------------------------------------- resume
@pytest.mark.slow  # (test_faults kills a run at every write point)
def test_sigkilled_run_resumes_to_the_run_left_alone(tmp_path):
    """TCL-PEARL on Walker (early terminations): SIGKILL after its first
    logged epoch, resume; the result is the uninterrupted run's."""
    assert_killed_run_resumes_exactly(
        tmp_path, 'walker_rand_params',
        ['--smoke', '--seed', '5', '--epochs', '4'], epochs=4)


def test_snapshot_holds_the_filled_buffers_and_random_states(tmp_path):
    algo, env = make_point_algo(replay_buffer_size=100_000)
    train(algo, env, tmp_path, n_epochs=1)
    with open(tmp_path / 'params.pkl', 'rb') as f:
        saved = pickle.load(f)
    restored = saved['algo']
    for name in ('_replay_buffers', '_context_replay_buffers'):
        for task, buffer in getattr(algo, name).items():
            copy = getattr(restored, name)[task]
            stored = buffer.n_transitions_stored
            assert stored > 0 and copy.n_transitions_stored == stored
            for key, array in buffer._buffer.items():
                np.testing.assert_array_equal(copy._buffer[key][:stored],
                                              array[:stored])
            assert list(copy._path_segments) == list(buffer._path_segments)
    assert not restored._is_resuming  # nothing is collected again
    assert restored._random_state_to_restore is not None
    # Only the filled part is written: far below 100,000 slots per buffer.
    assert os.path.getsize(tmp_path / 'params.pkl') < 2_000_000


KILL_DURING_WRITE = '''
import sys
import numpy as np
from tcl_garage.experiment.snapshots import atomic_pickle
big = {'algo': np.ones(50_000_000, np.float32)}  # 200 MB: a slow write
print('writing', flush=True)
while True:
    atomic_pickle(big, sys.argv[1])
'''


def test_a_kill_during_a_snapshot_write_keeps_the_previous_snapshot(
        tmp_path):
    path = tmp_path / 'params.pkl'
    atomic_pickle({'epoch': 7}, str(path))
    process = subprocess.Popen(
        [sys.executable, '-c', KILL_DURING_WRITE, str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == 'writing'
        deadline = time.time() + 60
        while not list(tmp_path.glob('.params.pkl*.tmp')):
            assert time.time() < deadline
            time.sleep(0.001)
        time.sleep(0.05)  # well inside the write of 200 MB
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with open(path, 'rb') as f:
        snapshot = pickle.load(f)
    # Either the old snapshot or a whole new one; never a broken file.
    assert snapshot == {'epoch': 7} or snapshot['algo'].size == 50_000_000


# ------------------------------------------------------- numerical faults
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_snapshot(
        tmp_path):
    algo, env = make_point_algo('tcl-pearl')
    real_sample_data = algo._sample_data
    calls = []

    def sample_data(indices):  # a NaN reward from epoch 1, step 2 on
        calls.append(1)
        batch = real_sample_data(indices)
        if len(calls) > algo._num_steps_per_epoch + 2:
            batch[2][0, 0] = float('nan')
        return batch

    algo._sample_data = sample_data
    with pytest.raises(NonFiniteLossError,
                       match=r'epoch 1, step 2 of 5: .*Train/QLoss = nan'):
        train(algo, env, tmp_path, n_epochs=3)
    with open(tmp_path / 'params.pkl', 'rb') as f:
        saved = pickle.load(f)
    assert saved['stats'].total_epoch == 0  # epoch 1 was never saved
    assert all(torch.isfinite(p).all() for net in saved['algo'].networks
               for p in net.parameters())


def test_a_nan_loss_is_a_one_line_error_of_the_launcher(tmp_path):
    result = launch('cheetah_dir', '--smoke', '--set', 'reward_scale=1.0e+39',
                    '--log-dir', str(tmp_path / 'run'))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert lines[-1].startswith('error: non-finite training loss in epoch 0')
    assert 'the last good snapshot (if any) is kept' in lines[-1]


# ------------------------------------------------------------- validation
BAD_SETTINGS = [
    # (launcher, arguments, what the message says)
    ('cheetah_vel', ['--set', 'window_size=-1'], 'window_size=-1: must be >= 1'),
    ('cheetah_vel', ['--set', 'window_size=0'], 'window_size=0: must be >= 1'),
    ('cheetah_vel', ['--set', 'window_size=500'],
     'window_size=500: episodes last 20 steps'),
    ('cheetah_vel', ['--set', 'window_size=20'], 'set window_size <= 19'),
    ('cheetah_vel', ['--set', 'temperature=0'], 'temperature=0.0: must be > 0'),
    ('cheetah_vel', ['--set', 'temperature=-1'], 'temperature=-1.0'),
    ('cheetah_vel', ['--set', 'temperature=.nan'], 'temperature=nan'),
    ('cheetah_vel', ['--set', 'meta_batch_size=0'],
     'meta_batch_size=0: must be >= 1'),
    ('cheetah_vel', ['--epochs', '-3'], 'epochs=-3: must be >= 1'),
    ('cheetah_vel', ['--epochs', '0'], 'epochs=0: must be >= 1'),
    ('cheetah_vel', ['--set', 'key_encoder_tau=0'],
     'key_encoder_tau=0.0: must lie in (0, 1]'),
    ('cheetah_vel', ['--set', 'key_encoder_tau=1.5'], 'must lie in (0, 1]'),
    ('cheetah_vel', ['--set', 'soft_target_tau=2'],
     'soft_target_tau=2.0: must lie in (0, 1]'),
    ('cheetah_vel', ['--set', 'discount=1.01'], 'discount=1.01'),
    ('cheetah_vel', ['--set', 'contrastive_loss_scale=-0.5'],
     'contrastive_loss_scale=-0.5: must be >= 0'),
    ('cheetah_vel', ['--set', 'policy_lr=0'], 'policy_lr=0.0: must be > 0'),
    ('cheetah_vel', ['--set', 'context_lr=-0.001'], 'context_lr=-0.001'),
    ('cheetah_vel', ['--set', 'reward_scale=0'], 'reward_scale=0.0'),
    ('cheetah_vel', ['--set', 'batch_size=0'], 'batch_size=0'),
    ('cheetah_vel', ['--set', 'latent_dim=0'], 'latent_dim=0'),
    ('cheetah_vel', ['--set', 'num_steps_per_epoch=0'],
     'num_steps_per_epoch=0'),
    ('cheetah_vel', ['--set', 'num_steps_prior=-1'], 'num_steps_prior=-1'),
    ('cheetah_vel', ['--set', 'num_steps_prior=0'],
     "re-sampled task's context buffer stays empty"),
    ('cheetah_vel', ['--set', 'num_train_tasks=101'],
     'num_train_tasks=101: cheetah-vel has 100'),
    ('cheetah_dir', ['--set', 'num_test_tasks=3'],
     'num_test_tasks=3: cheetah-dir has 2'),
    ('cheetah_vel', ['--set', 'replay_buffer_size=10'],
     'exceed replay_buffer_size=10'),
    ('cheetah_vel', ['--set', 'max_episode_length=1'],
     'max_episode_length=1: must be >= 2'),
    ('cheetah_vel', ['--set', 'seed=-1'], 'seed=-1'),
    ('cheetah_vel', ['--seed', '-2'], 'seed=-2'),
    ('cheetah_vel', ['--set', 'sampler=mpi'], "sampler='mpi': not one of"),
    ('cheetah_vel', ['--n-workers', '-1'], 'n_workers=-1: must be >= 0'),
    ('cheetah_vel', ['--sampler', 'ray', '--n-workers', '0'],
     'n_workers=0: Ray needs at least 1 worker'),
    ('cheetah_vel', ['--set', 'collector=fast'],
     "collector='fast': not one of"),
    ('cheetah_vel', ['--set', 'precision=fp16'],
     "precision='fp16': not one of fp32, bf16, tf32"),
    ('cheetah_vel', ['--set', 'precision=tf32'],
     'precision=tf32: TF32 matrix products exist on CUDA GPUs only'),
    ('cheetah_vel', ['--algo', 'oracle', '--set', 'precision=bf16'],
     "precision='bf16': oracle does not use this key (used by tcl-pearl, "
     'pearl)'),
    ('cheetah_vel', ['--algo', 'mql', '--set', 'precision=bf16'],
     "precision='bf16': mql does not use this key"),
    ('cheetah_vel', ['--algo', 'mql', '--set', 'mql.beta_clip=0'],
     'mql.beta_clip=0.0: must be > 0'),
    ('cheetah_vel', ['--algo', 'mql', '--set', 'mql.adapt=maybe'],
     "adapt='maybe': must be bool"),
    ('cheetah_vel', ['--algo', 'mql', '--set', 'mql.history_length=0'],
     'mql.history_length=0: must be >= 1'),
    ('cheetah_vel', ['--algo', 'tcl-mql', '--set', 'mql.history_length=20'],
     'set mql.history_length <= 19'),
    ('cheetah_vel', ['--algo', 'tcl-mql', '--set', 'window_size=8'],
     'window_size=8: tcl-mql does not use this key'),
    ('cheetah_vel', ['--algo', 'pearl', '--set', 'mql.lr=0.1'],
     'pearl does not use this key (used by mql, tcl-mql)'),
    ('cheetah_vel', ['--set', 'window_size=abc'], "window_size='abc': must "
     'be int'),
    ('cheetah_vel', ['--set', 'windw_size=3'],
     'windw_size=3: unknown config key'),
    ('cheetah_vel', ['--set', 'window_size'], '--set takes key=value'),
    ('cheetah_vel', ['--algo', 'pearl', '--set', 'window_size=32'],
     'window_size=32: pearl does not use this key (used by tcl-pearl)'),
    ('cheetah_vel', ['--algo', 'oracle', '--set', 'latent_dim=3'],
     'latent_dim=3: oracle does not use this key'),
    ('cheetah_vel', ['--algo', 'maml-trpo', '--device', 'cuda'],
     'device=cuda'),
    ('cheetah_vel', ['--algo', 'alphazero'], "invalid choice: 'alphazero'"),
    ('cheetah_vel', ['--device', 'tpu'], 'device=tpu: unknown device'),
    ('cheetah_vel', ['--device', 'cuda:x'], 'device=cuda:x'),
    ('cheetah_vel', ['--bogus'], 'unrecognized arguments: --bogus'),
    ('cheetah_vel', ['--smoke', '--profile', 'demo'],
     '--smoke and --profile'),
    ('cheetah_vel', ['--profile', 'tiny'], "unknown profile 'tiny'"),
    ('metaworld_ml1', ['--env', 'push-v2'], 'push-v3'),
    ('metaworld_ml1', [], 'the following arguments are required: --env'),
]


#: The benchmark each launcher script passes to ``main``.
LAUNCHER_BENCHMARKS = {'cheetah_vel': 'cheetah-vel',
                       'cheetah_dir': 'cheetah-dir', 'metaworld_ml1': 'ml1'}


def launch_in_process(capsys, script, *args):
    """``experiments/<script>.py ARGS`` in this process: (status, stderr)."""
    with pytest.raises(SystemExit) as stop:
        main(LAUNCHER_BENCHMARKS[script], list(args))
    return stop.value.code, capsys.readouterr().err


@pytest.mark.parametrize('script, args, message', BAD_SETTINGS)
def test_bad_settings_are_one_line_errors_that_write_nothing(
        tmp_path, capsys, script, args, message):
    if '--profile' not in args:
        args = ['--smoke', *args]
    status, stderr = launch_in_process(capsys, script, *args, '--log-dir',
                                       str(tmp_path / 'run'))
    lines = stderr.strip().splitlines()
    assert status == 2, stderr
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('script, args, message',
                         [BAD_SETTINGS[0], BAD_SETTINGS[-5],
                          BAD_SETTINGS[-1]])
def test_the_real_command_line_gives_one_line_and_status_2(
        tmp_path, script, args, message):
    result = launch(script, '--smoke', *args, '--log-dir',
                    str(tmp_path / 'run'))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines()
        if line.startswith('error: ') and message in line]
    assert list(tmp_path.iterdir()) == []


def test_bad_resumes_are_one_line_errors_that_change_nothing(
        tmp_path, capsys):
    run_dir = pathlib.Path(smoke_run('cheetah-dir', tmp_path / 'run',
                                     epochs=1))
    capsys.readouterr()
    before = {path.name: path.read_bytes() for path in run_dir.iterdir()
              if path.is_file()}
    not_a_run = tmp_path / 'empty'
    not_a_run.mkdir()
    cases = [
        (['--resume', str(not_a_run)], 'not a run directory'),
        (['--resume', str(tmp_path / 'missing')], 'not a run directory'),
        (['--resume', str(run_dir), '--algo', 'pearl'],
         'is a tcl-pearl run'),
        (['--resume', str(run_dir), '--set', 'window_size=4'],
         'keeps its own config'),
        (['--resume', str(run_dir), '--seed', '9'], '--seed'),
        (['--resume', str(run_dir), '--epochs', '0'], 'epochs=0'),
    ]
    for args, message in cases:
        status, stderr = launch_in_process(capsys, 'cheetah_dir', *args)
        lines = stderr.strip().splitlines()
        assert status == 2, (args, stderr)
        assert len(lines) == 1 and message in lines[0], (args, lines)
    after = {path.name: path.read_bytes() for path in run_dir.iterdir()
             if path.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['empty', 'run']


def test_the_python_api_raises_the_same_messages():
    from tcl_garage.experiment import ConfigError
    with pytest.raises(ValueError, match=r'temperature=0\.0: must be > 0'):
        load_config('cheetah-vel', overrides={'temperature': 0})
    assert issubclass(ConfigError, ValueError)


# --------------------------------------------------------------------- Ray
def test_samplers_come_and_go_in_one_ray_session():
    """garage's RaySampler ended the Ray session on shutdown and restarted
    it without the hook that adapts garage in new workers."""
    ray = pytest.importorskip('ray')
    try:
        for _ in range(2):
            algo, env = make_point_algo('pearl', sampler='ray', n_workers=1,
                                        collector='sequential')
            sampler = algo._sampler
            sampler.start_worker()
            episodes = sampler.obtain_samples(0, 20, algo._policy, env)
            sampler.shutdown_worker()
            assert len(episodes.lengths) >= 1
            assert ray.is_initialized()  # the session runs on
    finally:
        ray.shutdown()
