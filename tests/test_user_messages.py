"""The library tells the user what happened: a script that would start its
run again in every worker process is stopped in one line, before anything
is written; a mistyped setting gets a suggestion; the sweep takes the
launchers' config options; the commands' help is whole; outputs go into
folders made for them; a run extended by ``--resume --epochs`` is not
taken for finished."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

from tcl_garage.experiment import rundir
from tcl_garage.experiment.config import ConfigError, load_config


def python(*args, cwd=ROOT, timeout=300):
    """``python ARGS`` run to its end (this worktree's package first)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


# --------------------------------------------------- the main guard
UNGUARDED = '''\
from tcl_garage.experiment import load_config, run

config = load_config('point', algo='pearl', profile='smoke',
                     overrides={'n_workers': 1})
run(config, log_dir='runs/mine', quiet=True)
'''


def test_a_script_without_the_main_guard_stops_in_one_line_writing_nothing(
        tmp_path):
    script = tmp_path / 'mine.py'
    script.write_text(UNGUARDED)
    result = python(str(script), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f'error: {script}, line 5: ')
    assert "if __name__ == '__main__':" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mine.py']


def test_worker_processes_built_by_hand_refuse_to_start_unguarded(tmp_path):
    script = tmp_path / 'slots.py'
    script.write_text(
        'from tcl_garage.sampling import ProcessEnvs\n'
        'from tcl_garage.sampling.env_slots import UnguardedMainError\n'
        'envs = ProcessEnvs(seed=0, n_workers=1)\n'
        'try:\n'
        '    envs.reset([0])\n'
        'except UnguardedMainError as error:\n'
        '    print(error)\n')
    result = python(str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f'{script}, line 5: ')  # in the try
    assert result.stderr == ''  # no worker started, none failed


WHERE = '''\
from tcl_garage.sampling.env_slots import unguarded_main_line


def where():
    return unguarded_main_line()


top = where()
if __name__ == '__main__':
    print(top and top[1], where(), flush=True)
'''


def test_only_a_call_outside_the_guard_is_taken_for_unguarded(tmp_path):
    script = tmp_path / 'where.py'
    script.write_text(WHERE)
    result = python(str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ['8', 'None']
    # Without a script file (python -c) a worker imports nothing again.
    assert python('-c', WHERE).stdout.split() == ['None', 'None']


# ------------------------------------------------------- run status
def test_a_run_extended_by_resume_epochs_is_partial_until_it_holds_them(
        tmp_path):
    run = tmp_path / 'run'
    run.mkdir()
    (run / rundir.VARIANT).write_text(json.dumps({'config': {'epochs': 3}}))
    (run / rundir.SNAPSHOT).write_bytes(b'snapshot')
    (run / rundir.PROGRESS).write_text('a\n1\n2\n3\n4\n')  # 4 rows
    assert rundir.status(run) == 'done'  # its config's 3 epochs
    rundir.append_machine(run, {'start_epoch': 0, 'epochs': 3})
    rundir.append_machine(run, {'start_epoch': 3, 'epochs': 6})  # --epochs 6
    assert rundir.status(run) == 'partial'
    (run / rundir.PROGRESS).write_text('a\n1\n2\n3\n4\n5\n6\n')
    assert rundir.status(run) == 'done'


# ----------------------------------------------- mistyped settings
def test_a_mistyped_key_or_profile_gets_a_suggestion():
    with pytest.raises(ConfigError, match='did you mean window_size'):
        load_config('point', overrides={'windw_size': 3})
    with pytest.raises(ConfigError, match=r'did you mean mql\.lr\?'):
        load_config('point', algo='mql', overrides={'mql': {'lrr': 0.1}})
    with pytest.raises(ConfigError, match='did you mean smoke'):
        load_config('point', profile='smok')
    with pytest.raises(ConfigError) as far:
        load_config('point', overrides={'zzzzzz': 3})
    assert 'did you mean' not in str(far.value)


# ------------------------------------------------------------ sweep
def test_the_sweep_runs_a_smoke_grid_and_refuses_a_bad_setting_first(
        tmp_path):
    runs = tmp_path / 'runs'
    bad = python('experiments/sweep.py', '--envs', 'point', '--algos',
                 'pearl', '--profile', 'smoke', '--set', 'windw_size=3',
                 '--runs-dir', str(runs))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        'error: windw_size=3: unknown config key (in --set); did you mean '
        'window_size? use a key of configs/defaults.yaml']
    assert not runs.exists()
    grid = ['experiments/sweep.py', '--envs', 'point', '--algos', 'pearl',
            'oracle', '--profile', 'smoke', '--epochs', '2', '--set',
            'num_steps_per_epoch=3', '--runs-dir', str(runs)]
    good = python(*grid)
    assert good.returncode == 0, good.stderr[-3000:]
    assert '2 of 2 runs finished' in good.stdout
    for algo in ('pearl', 'oracle'):
        run = runs / 'point' / algo / 'seed0'
        assert len(rundir.progress_rows(run)) == 2
        config = rundir.read_config(run)
        assert config['epochs'] == 2 and config['num_steps_per_epoch'] == 3
    again = python(*grid)  # finished runs are skipped
    assert again.returncode == 0
    assert again.stdout.count('skip (done)') == 2
    assert 'nothing to run' in again.stdout


# ------------------------------------------------------------- help
def option_helps(help_text):
    """``{option: its help}`` of argparse's ``--help`` text."""
    helps, option = {}, None
    for line in help_text.split('options:', 1)[1].splitlines():
        stripped = line.strip()
        if line.startswith('  ') and stripped.startswith('-') and not \
                line.startswith('    '):
            option, _, text = stripped.partition('  ')
            helps[option.split()[0].rstrip(',')] = text.strip()
        elif option and stripped:
            helps[option.split()[0].rstrip(',')] += ' ' + stripped
    return helps


@pytest.mark.parametrize('command',
                         ['embeddings', 'curves', 'table', 'classes',
                          'learning', 'training'])
def test_every_analysis_option_has_help(command, capsys):
    from tcl_garage.analysis.__main__ import main
    with pytest.raises(SystemExit):
        main([command, '--help'])
    helps = option_helps(capsys.readouterr().out)
    assert helps and all(helps.values()), helps


def test_the_demos_help_says_its_whole_first_sentence():
    result = python('experiments/demo.py', '--help')
    assert result.returncode == 0
    assert 'side by side, in about 3 minutes on a 2-core CPU.' in ' '.join(
        result.stdout.split())


def test_benchmark_scripts_print_no_gym_notice():
    result = python('benchmarks/step_time.py', '--help')
    assert result.returncode == 0 and result.stderr == '', result.stderr


# --------------------------------------------------- analysis outputs
def fake_run(root, name, seed):
    """A run directory holding a config and three rows."""
    run = root / name
    run.mkdir(parents=True)
    (run / rundir.VARIANT).write_text(json.dumps(
        {'config': {'benchmark': 'point', 'algo': 'pearl', 'seed': seed}}))
    (run / rundir.PROGRESS).write_text(
        'TotalEnvSteps,MetaTest/Average/AverageReturn\n'
        '100,-3.0\n200,-2.0\n300,-1.0\n')
    return run


def test_curves_and_table_make_their_output_folder(tmp_path, capsys):
    from tcl_garage.analysis.__main__ import main
    runs = [str(fake_run(tmp_path, f'r{seed}', seed)) for seed in (0, 1)]
    out = tmp_path / 'new' / 'folder' / 'curves.png'
    main(['curves', *runs, '--out', str(out)])
    assert out.read_bytes()[:4] == b'\x89PNG'
    main(['table', *runs, '--out', str(tmp_path / 'other' / 'results'),
          '--last-steps', '200'])
    assert (tmp_path / 'other' / 'results.md').is_file()
    capsys.readouterr()
    (tmp_path / 'file').write_text('')  # a file where a folder should be
    with pytest.raises(SystemExit) as stopped:
        main(['curves', *runs, '--out', str(tmp_path / 'file' / 'c.png')])
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), lines
    assert 'give another --out' in lines[0]
