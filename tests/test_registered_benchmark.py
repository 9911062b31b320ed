"""A registered benchmark resolves, is checked and runs as a built-in one:
in this process, found through an installed package's entry point, and
through the sweep and the ablation, whose runs find it through
TCL_GARAGE_BENCHMARKS."""
import importlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tcl_garage.envs import (benchmark_facts, draw_task_samplers,
                             make_benchmark, PointTaskEnv,
                             register_benchmark, unregister_benchmark)
from tcl_garage.envs.benchmarks import import_benchmark_modules
from tcl_garage.experiment import ConfigError, load_config
from tcl_garage.experiment.rundir import progress_rows

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: A module registering ``few-points``: 3 training and 2 test goals of the
#: point robot.
FEW_POINTS = """
from tcl_garage.envs import draw_task_samplers, PointTaskEnv, register_benchmark


def samplers(seed, max_episode_length):
    return draw_task_samplers(PointTaskEnv, 3, 2, seed)


register_benchmark('few-points', samplers, num_train_tasks=3,
                   num_test_tasks=2, max_episode_length=20,
                   fixed_episode_length=True)
"""


@pytest.fixture
def few_points():
    """``few-points``: 3 training and 2 test goals of the point robot."""

    def samplers(seed, max_episode_length):
        del max_episode_length
        return draw_task_samplers(PointTaskEnv, 3, 2, seed)

    register_benchmark('few-points', samplers, num_train_tasks=3,
                       num_test_tasks=2, max_episode_length=20,
                       fixed_episode_length=True)
    yield
    unregister_benchmark('few-points')


def test_a_registered_benchmark_resolves_and_is_checked(few_points):
    del few_points
    assert benchmark_facts('few-points') == (3, 2, 20)
    config = load_config('few-points', algo='pearl', profile='smoke')
    assert config['benchmark'] == 'few-points'
    assert config['num_train_tasks'] == 3  # the profile's 4, capped
    benchmark = make_benchmark('few-points', seed=1)
    assert len(benchmark.train_envs()) == 3
    assert benchmark.test_sampler.n_tasks == 2
    with pytest.raises(ConfigError, match=re.escape(
            'num_test_tasks=5: few-points has 2; set at most 2')):
        load_config('few-points', overrides={'num_test_tasks': 5})
    with pytest.raises(ValueError, match='fixed episode length of 20'):
        make_benchmark('few-points', max_episode_length=30)


def installed_plugin(site, name, entry_point):
    """A package's metadata in ``site``, declaring one entry point of the
    ``tcl_garage.benchmarks`` group (``'name = module'``)."""
    info = site / f'{name.replace("-", "_")}-1.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n')
    (info / 'entry_points.txt').write_text(
        f'[tcl_garage.benchmarks]\n{entry_point}\n')
    importlib.invalidate_caches()


def test_an_installed_package_registers_its_benchmark_and_a_broken_one_is_named(
        tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / 'few_points_plugin.py').write_text(FEW_POINTS)
    installed_plugin(tmp_path, 'few-points-plugin', 'few = few_points_plugin')
    try:  # found through its entry point, on first use of its name
        assert benchmark_facts('few-points') == (3, 2, 20)
    finally:
        unregister_benchmark('few-points')
    installed_plugin(tmp_path, 'broken-plugin',
                     'broken = no_such_module_of_a_plugin')
    with pytest.raises(ValueError) as raised:
        import_benchmark_modules()
    assert str(raised.value) == (
        "the tcl_garage.benchmarks entry point 'broken' "
        '(no_such_module_of_a_plugin) of package broken-plugin cannot be '
        "loaded (ModuleNotFoundError: No module named "
        "'no_such_module_of_a_plugin'); fix or uninstall that package")


def test_a_registration_whose_samplers_disagree_with_its_counts_fails():
    register_benchmark(
        'miscounted', lambda seed, length: draw_task_samplers(
            PointTaskEnv, 3, 2, seed), num_train_tasks=4, num_test_tasks=2,
        max_episode_length=20)
    try:
        with pytest.raises(ValueError, match=re.escape(
                'miscounted: its train sampler holds 3 tasks, its '
                'registration says 4')):
            make_benchmark('miscounted')
    finally:
        unregister_benchmark('miscounted')
    with pytest.raises(ValueError, match='built in'):
        register_benchmark('point', None, num_train_tasks=1,
                           num_test_tasks=1, max_episode_length=2)
    with pytest.raises(ConfigError, match='register_benchmark'):
        load_config('miscounted')


def test_the_sweep_and_the_ablation_run_a_registered_benchmark(tmp_path):
    (tmp_path / 'few_points.py').write_text(FEW_POINTS)
    env = dict(os.environ, PYTHONPATH=f'{ROOT}:{tmp_path}',
               TCL_GARAGE_BENCHMARKS='few_points')
    sweep = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'sweep.py'), '--envs',
         'few-points', '--algos', 'pearl', '--seeds', '0', '--runs-dir',
         str(tmp_path / 'runs'), '--smoke'],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert sweep.returncode == 0, sweep.stdout[-3000:] + sweep.stderr[-3000:]
    run = tmp_path / 'runs' / 'few-points' / 'pearl' / 'seed0'
    assert len(progress_rows(run)) == 2
    variant = json.loads((run / 'variant.json').read_text())
    assert variant['benchmark_module'] == 'few_points'
    assert variant['config']['num_train_tasks'] == 3
    ablation = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'ablation.py'), '--env',
         'few-points', '--seeds', '1', '--arms', 'tcl-pearl',
         '--profile', 'smoke', '--parallel', '1', '--out',
         str(tmp_path / 'study')],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert ablation.returncode == 0, ablation.stderr[-3000:]
    report = (tmp_path / 'study' / 'few-points' / 'results.md').read_text()
    assert 'tcl-pearl' in report
    assert len(progress_rows(tmp_path / 'study' / 'runs' / 'few-points' /
                             'tcl-pearl' / 'seed0')) == 2
