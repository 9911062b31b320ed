"""Configs, launchers, resume, sweep: the experiment scripts as users run them."""
import json
import re
import subprocess
import sys

import pytest
import yaml

from tcl_garage.experiment import ConfigError, load_config
from tcl_garage.experiment.algorithms import ALGORITHMS, windows_per_task
from tcl_garage.experiment.config import CONFIG_DIR
from tcl_garage.experiment.rundir import progress_rows, read_machines

from conftest import kill_after_first_epoch, launch, ROOT

FAMILY_LAUNCHERS = ['cheetah_vel', 'cheetah_dir', 'ant_dir', 'ant_goal',
                    'humanoid_dir', 'walker_rand_params']


# ------------------------------------------------------------------ configs
def test_defaults_are_the_one_source_and_files_hold_only_differences():
    defaults = yaml.safe_load((CONFIG_DIR / 'defaults.yaml').read_text())
    for path in CONFIG_DIR.glob('*.yaml'):
        if path.stem == 'defaults':
            continue
        data = yaml.safe_load(path.read_text())
        for section in (*ALGORITHMS, 'env_overrides'):
            data.pop(section, None)
        assert set(data) <= set(defaults), path.name
        # A file repeating a default would be a second source of it.
        repeated = {k for k, v in data.items()
                    if k != 'benchmark' and defaults[k] == v}
        repeated |= {f'{k}.{name}' for k, v in data.items()
                     if isinstance(v, dict)
                     for name, value in v.items() if defaults[k][name] == value}
        assert not repeated, (path.name, repeated)


def test_baseline_blocks_merge_and_override_by_key():
    ml1 = load_config('ml1/push-v3', algo='maml-trpo',
                      overrides={'maml_trpo': {'inner_lr': 0.05}})
    # defaults, then ml1.yaml's differences, then --set maml_trpo.inner_lr
    assert ml1['maml_trpo'] == dict(hidden_sizes=[100, 100],
                                    meta_batch_size=20, episodes_per_task=10,
                                    inner_lr=0.05, max_kl_step=0.01,
                                    num_grad_updates=1, gae_lambda=1.0)
    assert load_config('cheetah-vel')['maml_trpo']['meta_batch_size'] == 40
    with pytest.raises(ConfigError, match=re.escape(
            'maml_trpo.inner_lr=0.0: must be > 0')):
        load_config('cheetah-vel', algo='maml-trpo',
                    overrides={'maml_trpo': {'inner_lr': 0.0}})
    with pytest.raises(ConfigError, match='inner_rate=0.1: unknown config'):
        load_config('cheetah-vel', algo='maml-trpo',
                    overrides={'maml_trpo': {'inner_rate': 0.1}})
    with pytest.raises(ConfigError, match=re.escape(
            'maml_trpo.hidden_sizes=[0]: must be a list')):
        load_config('cheetah-vel', algo='maml-trpo',
                    overrides={'maml_trpo': {'hidden_sizes': [0]}})


def test_paper_values_resolve_per_algorithm():
    tcl = load_config('humanoid-dir', algo='tcl-pearl')
    pearl = load_config('humanoid-dir', algo='pearl')
    assert (tcl['window_size'], tcl['contrastive_loss_scale']) == (128, 5.0)
    assert tcl['encoder_layers'] == 2 and pearl['encoder_layers'] == 3
    assert tcl['embedding_batch_size'] == pearl['embedding_batch_size'] == 256
    assert windows_per_task(tcl) == 2
    ml1 = load_config('ml1/push-v3')
    assert ml1['benchmark'] == 'ml1/push-v3'
    assert (ml1['latent_dim'], ml1['net_size'], ml1['reward_scale'],
            ml1['num_exploration_episodes'], ml1['window_size'],
            windows_per_task(ml1)) == (7, 400, 10.0, 10, 64, 2)
    walker = load_config('walker-rand-params')
    assert walker['use_next_obs_in_context'] is True


def test_profile_and_typed_overrides():
    config = load_config('cheetah-vel', profile='smoke',
                         overrides={'embedding_batch_size': 24,
                                    'reward_scale': 2, 'algo': 'pearl'})
    assert config['epochs'] == 2 and config['embedding_batch_size'] == 24
    assert config['reward_scale'] == 2.0 and isinstance(
        config['reward_scale'], float)
    assert config['algo'] == 'pearl' and config['encoder_layers'] == 3


@pytest.mark.parametrize('overrides, message', [
    ({'windw_size': 3}, 'windw_size=3: unknown config key'),
    ({'window_size': 'big'}, "window_size='big': must be int (in --set)"),
    ({'use_next_obs_in_context': 1}, 'must be bool'),
    ({'algo': 'maml'}, "algo='maml': unknown algorithm"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config('cheetah-vel', overrides=overrides)


def test_unknown_key_in_a_file_is_rejected(tmp_path):
    for name in ('defaults.yaml', 'profiles'):
        src = CONFIG_DIR / name
        if src.is_dir():
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_text(src.read_text())
    (tmp_path / 'cheetah-vel.yaml').write_text(
        'benchmark: cheetah-vel\nlatent_size: 5\n')
    with pytest.raises(ConfigError,
                       match=re.escape('latent_size=5: unknown config key '
                                       '(in cheetah-vel.yaml)')):
        load_config('cheetah-vel', config_dir=tmp_path)


def test_unknown_benchmark_and_profile():
    with pytest.raises(ConfigError, match='cheetah-vel'):
        load_config('cheetah-speed')
    with pytest.raises(ConfigError, match='smoke'):
        load_config('cheetah-vel', profile='tiny')


# ---------------------------------------------------------------- launchers
@pytest.mark.parametrize('script', FAMILY_LAUNCHERS)
def test_family_launcher_smoke(tmp_path, script):
    result = launch(script, '--smoke', '--log-dir', str(tmp_path / 'run'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count('[progress] epoch') == 2
    rows = progress_rows(tmp_path / 'run')
    assert len(rows) == 2
    assert 'Train/TCLLoss' in rows[0]
    variant = json.loads((tmp_path / 'run' / 'variant.json').read_text())
    assert variant['config']['algo'] == 'tcl-pearl'
    assert (tmp_path / 'run' / 'params.pkl').is_file()


@pytest.mark.parametrize('env, workers', [('reach-v3', '0'),
                                          ('push-v3', '2')])
def test_ml1_launcher_smoke(tmp_path, env, workers):
    """push-v3 with the vectorised collector's environments in 2 worker
    processes (ML1's default; the smoke profile steps them in-process)."""
    result = launch('metaworld_ml1', '--env', env, '--smoke', '--algo',
                    'pearl', '--n-workers', workers, '--log-dir',
                    str(tmp_path / 'run'))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = progress_rows(tmp_path / 'run')
    assert len(rows) == 2 and 'MetaTest/Average/SuccessRate' in rows[0]
    assert 'success' in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize('env', __import__(
    'tcl_garage.envs', fromlist=['ML1_ENV_NAMES']).ML1_ENV_NAMES)
def test_ml1_launcher_smoke_all_50(tmp_path, env):
    result = launch('metaworld_ml1', '--env', env, '--smoke', '--log-dir',
                    str(tmp_path / 'run'))
    assert result.returncode == 0, result.stderr[-3000:]


def test_resume_continues_at_the_next_epoch_with_the_same_config(tmp_path):
    run_dir = tmp_path / 'run'
    first = launch('cheetah_vel', '--smoke', '--epochs', '1', '--seed', '3',
                   '--set', 'window_size=6', '--log-dir', str(run_dir))
    assert first.returncode == 0, first.stderr[-3000:]
    config_before = json.loads((run_dir / 'variant.json').read_text())
    second = launch('cheetah_vel', '--resume', str(run_dir), '--epochs', '2')
    assert second.returncode == 0, second.stderr[-3000:]
    assert 'at epoch 1' in second.stdout
    assert '[progress] epoch 2/2' in second.stdout
    rows = progress_rows(run_dir)
    assert len(rows) == 2
    assert float(rows[1]['TotalEnvSteps']) > float(rows[0]['TotalEnvSteps'])
    assert json.loads((run_dir / 'variant.json').read_text()) == config_before
    log = (run_dir / 'debug.log').read_text()
    assert 'epoch #0' in log and 'epoch #1' in log
    # Each start says where it trained: the first from epoch 0, the resume
    # from epoch 1.
    starts = read_machines(run_dir)
    assert [start['start_epoch'] for start in starts] == [0, 1]
    assert all(start['device'] == 'cpu' and start['gpu'] is None
               for start in starts)


def test_the_machine_of_each_start_is_appended_to_the_run_directory(
        tmp_path):
    import torch
    from tcl_garage.algos.precision import native_bf16
    from tcl_garage.experiment.machine import describe_machine
    from tcl_garage.experiment.rundir import append_machine
    first = describe_machine(torch.device('cpu'), start_epoch=0)
    assert first['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert first['cpu_native_bf16'] == native_bf16('cpu')
    assert first['torch'] == torch.__version__
    assert first['device'] == 'cpu' and first['gpu'] is None
    assert first['logical_cpus'] >= 1 and first['torch_threads'] >= 1
    append_machine(tmp_path, first)
    append_machine(tmp_path, describe_machine(None, start_epoch=7))
    starts = read_machines(tmp_path)
    assert starts[0] == json.loads(json.dumps(first))  # JSON types only
    assert [s['start_epoch'] for s in starts] == [0, 7]
    assert starts[1]['device'] == 'cpu'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['machine.json']
    assert read_machines(tmp_path / 'missing') == []  # runs before the file


def test_existing_run_directory_is_never_overwritten(tmp_path):
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    (run_dir / 'keep.txt').write_text('precious')
    result = launch('cheetah_dir', '--smoke', '--epochs', '1', '--log-dir',
                    str(run_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / 'keep.txt').read_text() == 'precious'
    assert not (run_dir / 'progress.csv').exists()
    assert (tmp_path / 'run_1' / 'progress.csv').is_file()
    assert 'exists' in result.stderr


@pytest.mark.parametrize('args, message', [
    (['--smoke', '--set', 'windw_size=3'], 'windw_size=3: unknown config key'),
    (['--smoke', '--set', 'window_size'], 'key=value'),
    (['--smoke', '--device', 'tpu'], 'device=tpu: unknown device'),
])
def test_bad_options_give_one_line_errors(args, message):
    result = launch('cheetah_vel', *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error:')
    assert message in lines[0]


def test_unknown_ml1_env_gives_one_line_error():
    result = launch('metaworld_ml1', '--env', 'push-v2', '--smoke')
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1
    assert 'push-v3' in lines[0] and lines[0].startswith('error:')


def test_resume_of_a_non_run_gives_one_line_error(tmp_path):
    result = launch('cheetah_vel', '--resume', str(tmp_path))
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1
    assert 'not a run directory' in lines[0]


@pytest.mark.slow  # (test_user_messages: a smoke grid on the point robot)
def test_sweep_runs_the_grid_then_skips_finished_runs(tmp_path):
    def sweep():
        return subprocess.run(
            [sys.executable, str(ROOT / 'experiments' / 'sweep.py'), '--envs',
             'cheetah-dir', '--algos', 'tcl-pearl', 'oracle',
             '--seeds', '0', '--runs-dir', str(tmp_path), '--smoke',
             '--epochs', '1'],
            capture_output=True, text=True, timeout=600, cwd=ROOT)

    first = sweep()
    assert first.returncode == 0, first.stderr[-3000:]
    assert '2 of 2 runs finished' in first.stdout
    for algo in ('tcl-pearl', 'oracle'):
        assert len(progress_rows(tmp_path / 'cheetah-dir' / algo /
                                 'seed0')) == 1
    second = sweep()
    assert second.returncode == 0
    assert second.stdout.count('skip (done)') == 2
    assert 'nothing to run' in second.stdout


@pytest.mark.slow
def test_ray_sampler_smoke_epoch_with_two_workers(tmp_path):
    pytest.importorskip('ray')  # the optional extra (make install-ray)
    result = launch('cheetah_vel', '--smoke', '--epochs', '1', '--sampler',
                    'ray', '--n-workers', '2', '--log-dir',
                    str(tmp_path / 'run'))
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(progress_rows(tmp_path / 'run')) == 1


@pytest.mark.slow  # (test_faults kills a run at every write point)
def test_killed_run_resumes_after_its_last_snapshot(tmp_path):
    """SIGKILL a run after its first epoch is logged, then --resume it."""
    run_dir = tmp_path / 'run'
    kill_after_first_epoch('cheetah_dir', '--smoke', '--epochs', '50',
                           run_dir=run_dir)
    logged = len(progress_rows(run_dir))
    result = launch('cheetah_dir', '--resume', str(run_dir), '--epochs',
                    str(logged + 2))
    assert result.returncode == 0, result.stderr[-3000:]
    # The snapshot is saved just before its epoch's row is logged.
    assert (f'at epoch {logged}' in result.stdout
            or f'at epoch {logged + 1}' in result.stdout)
    assert f'[progress] epoch {logged + 2}/{logged + 2}' in result.stdout
    rows = progress_rows(run_dir)
    assert logged + 1 <= len(rows) <= logged + 2
    steps = [float(row['TotalEnvSteps']) for row in rows]
    assert steps == sorted(steps)


def test_one_cli_for_every_benchmark_and_resume(tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, '-m', 'tcl_garage.experiment', *args],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)

    run_dir = tmp_path / 'run'
    first = cli('point', '--smoke', '--epochs', '1', '--log-dir',
                str(run_dir))
    assert first.returncode == 0, first.stderr[-3000:]
    assert json.loads((run_dir / 'variant.json').read_text())['config'][
        'benchmark'] == 'point'
    second = cli('--resume', str(run_dir), '--epochs', '2')
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(progress_rows(run_dir)) == 2
    missing = cli('--smoke')
    assert missing.returncode == 2
    assert missing.stderr.startswith('error: benchmark: missing')


def test_run_commands_prefixes_lines_and_reports_failures(capsys):
    from tcl_garage.experiment.sweep import run_commands
    say = [sys.executable, '-c', 'import os; print("threads", '
           'os.environ["OMP_NUM_THREADS"]); print("[progress] one")']
    fail = [sys.executable, '-c', 'print("before"); raise SystemExit(3)']
    codes = run_commands([('a', say), ('bb', say), ('c', fail)], parallel=2,
                         show=lambda line: line.startswith('[progress]'))
    assert codes == [0, 0, 3]
    out, err = capsys.readouterr()
    assert sorted(out.splitlines()) == [' a | [progress] one',
                                        'bb | [progress] one']
    assert 'c failed (exit status 3)' in err and 'before' in err
    codes = run_commands([('a', say)], parallel=1)
    threads = str(max(1, (__import__('os').cpu_count() or 1)))
    assert capsys.readouterr().out.splitlines()[0] == f'a | threads {threads}'


def test_run_commands_reports_each_job_as_it_ends():
    from tcl_garage.experiment.sweep import run_commands
    quick = [sys.executable, '-c', 'raise SystemExit(4)']
    slow = [sys.executable, '-c', 'import time; time.sleep(1.5)']
    ended = []
    codes = run_commands([('slow', slow), ('quick', quick)], parallel=2,
                         on_exit=lambda index, code: ended.append(
                             (index, code)))
    assert codes == [0, 4]
    assert ended == [(1, 4), (0, 0)]  # in the order they ended


def test_sweep_rejects_a_parallel_below_one(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'sweep.py'), '--envs',
         'point', '--runs-dir', str(tmp_path), '--parallel', '0'],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip() == 'error: parallel=0: give at least 1'
