"""The paper's other baselines: task vectors, the oracle, MAML-TRPO, RL2-PPO.

Each algorithm runs a smoke epoch through the launchers on one MuJoCo family
and one ML1 environment and logs what the analysis tools read; the oracle's
observations carry the true task vector.
"""
import csv
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tcl_garage.envs import make_benchmark
from tcl_garage.envs.task_vector import TaskVectorEnv
from tcl_garage.garage_compat import tensorflow_available

ROOT = pathlib.Path(__file__).resolve().parents[1]


def launch(script, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / f'{script}.py'), *args],
        capture_output=True, text=True, timeout=600, cwd=ROOT)


def progress_rows(run_dir):
    with open(pathlib.Path(run_dir) / 'progress.csv', newline='') as f:
        return list(csv.DictReader(f))


def first_train_env(name):
    update = make_benchmark(name, seed=0).train_envs()[0]
    return update, update()


# ------------------------------------------------------------ task vectors
@pytest.mark.parametrize('name, expected', [
    ('cheetah-vel', lambda task: [task['velocity']]),
    ('cheetah-dir', lambda task: [task['direction'] == -1.0,
                                  task['direction'] == 1.0]),
    ('ant-dir', lambda task: [task['angle'] == 0.0, task['angle'] != 0.0]),
    ('ant-goal', lambda task: task['goal']),
    ('humanoid-dir', lambda task: [np.cos(task['angle']),
                                   np.sin(task['angle'])]),
    ('point', None),
])
def test_task_vector_is_the_task(name, expected):
    update, env = first_train_env(name)
    vector = env.task_vector()
    assert vector.dtype == np.float32
    if expected is None:  # point: the goal
        np.testing.assert_allclose(vector, env._goal, rtol=1e-6)
    else:
        np.testing.assert_allclose(vector,
                                   np.asarray(expected(update.task), float),
                                   rtol=1e-6)


def test_walker_task_vector_is_the_parameter_exponents():
    update, env = first_train_env('walker-rand-params')
    vector = env.task_vector()
    scales = update.task
    assert vector.shape == (sum(v.size for v in scales.values()), ) == (65, )
    assert np.all(np.abs(vector) <= 3.0)
    mass_exponents = vector[:scales['body_mass'].size]
    np.testing.assert_allclose(1.5**mass_exponents,
                               scales['body_mass'].ravel(), rtol=1e-5)


def test_ml1_task_vector_holds_object_and_goal_positions():
    _, env = first_train_env('ml1/push-v3')
    env.reset()
    vector = env.task_vector()
    unwrapped = env.unwrapped
    np.testing.assert_allclose(vector[:2], unwrapped.obj_init_pos[:2],
                               atol=1e-6)
    np.testing.assert_allclose(vector[3:5], unwrapped._target_pos[:2],
                               atol=1e-6)


def test_oracle_observation_carries_the_task_vector():
    benchmark = make_benchmark('cheetah-vel', seed=0)
    updates = benchmark.train_envs()[:3]
    env = TaskVectorEnv(updates, seed=1)
    velocities = {update.task['velocity'] for update in updates}
    seen = set()
    for _ in range(12):
        observation, _ = env.reset()
        inner_size = env.inner.observation_space.flat_dim
        assert observation.shape == (inner_size + 1, )
        assert env.observation_space.contains(observation)
        velocity = float(observation[-1])
        assert velocity == pytest.approx(env.inner.task['velocity'])
        step = env.step(env.action_space.sample())
        assert step.observation[-1] == observation[-1]
        assert step.env_info['task_name'].startswith('Task #')
        seen.add(round(velocity, 5))
    # Each reset draws one of the training tasks; all three turn up.
    assert seen == {round(v, 5) for v in velocities}


def test_task_vector_env_rejects_envs_without_a_task_vector():
    from garage.envs import PointEnv

    class Plain:

        def __call__(self, old_env=None):
            return PointEnv()

    with pytest.raises(ValueError, match='task_vector'):
        TaskVectorEnv([Plain()])


# --------------------------------------------------------------- launchers
def assert_smoke_epochs_log_meta_test(result, run, script):
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count('[progress] epoch') == 2
    rows = progress_rows(run)
    assert len(rows) == 2
    for key in ('MetaTest/Average/AverageReturn', 'TotalEnvSteps'):
        assert np.isfinite(float(rows[-1][key])), key
    assert int(rows[-1]['TotalEnvSteps']) > int(rows[0]['TotalEnvSteps'])
    if script == 'metaworld_ml1':
        assert 'MetaTest/Average/SuccessRate' in rows[0]


# (MAML-TRPO on Cheetah-Vel: in the resume test below.)
@pytest.mark.parametrize('algo, script, args', [
    ('oracle', 'cheetah_vel', ()),
    ('oracle', 'metaworld_ml1', ('--env', 'reach-v3')),
    ('maml-trpo', 'metaworld_ml1', ('--env', 'reach-v3')),
])
def test_baseline_smoke_epoch_logs_meta_test(tmp_path, algo, script, args):
    run = tmp_path / 'run'
    result = launch(script, *args, '--algo', algo, '--smoke', '--log-dir',
                    str(run))
    assert_smoke_epochs_log_meta_test(result, run, script)


def test_maml_run_logs_meta_test_and_resumes(tmp_path):
    """Needs garage_compat's ConjugateGradientOptimizer unpickling fix."""
    run = tmp_path / 'run'
    assert_smoke_epochs_log_meta_test(
        launch('cheetah_vel', '--algo', 'maml-trpo', '--smoke', '--log-dir',
               str(run)), run, 'cheetah_vel')
    result = launch('cheetah_vel', '--resume', str(run), '--epochs', '3')
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(progress_rows(run)) == 3


@pytest.mark.skipif(tensorflow_available(),
                    reason='TensorFlow is installed (make install-rl2)')
def test_rl2_without_tensorflow_says_how_to_install_it(tmp_path):
    result = launch('cheetah_vel', '--algo', 'rl2-ppo', '--smoke',
                    '--log-dir', str(tmp_path / 'run'))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        'error: rl2-ppo runs garage\'s TensorFlow RL2, and TensorFlow is '
        'not installed: make install-rl2 (pip install -e ".[rl2]")'
    ]
    assert not (tmp_path / 'run').exists()


@pytest.mark.skipif(not tensorflow_available(),
                    reason='needs TensorFlow: make install-rl2')
@pytest.mark.parametrize('script, args', [
    ('cheetah_vel', ()),
    ('metaworld_ml1', ('--env', 'reach-v3')),
])
def test_rl2_smoke_epoch_logs_meta_test(tmp_path, script, args):
    run = tmp_path / 'run'
    result = launch(script, *args, '--algo', 'rl2-ppo', '--smoke',
                    '--log-dir', str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = progress_rows(run)
    assert len(rows) == 2
    assert np.isfinite(float(rows[-1]['MetaTest/Average/AverageReturn']))


@pytest.mark.parametrize('args, message', [
    (('--algo', 'maml-trpo', '--device', 'cuda'), 'cuda'),
    (('--algo', 'oracle', '--sampler', 'ray'), '--sampler local'),
])
def test_baselines_refuse_what_they_cannot_do(tmp_path, args, message):
    result = launch('cheetah_vel', *args, '--smoke', '--log-dir',
                    str(tmp_path / 'run'))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
