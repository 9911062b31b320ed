"""Meta-World ML10 and ML45: tasks, environments, and smoke runs of every
algorithm the launcher offers on them."""
import pickle

import metaworld
import numpy as np
import pytest

from tcl_garage.envs import benchmark_facts, BENCHMARK_NAMES, make_benchmark
from tcl_garage.envs.metaworld_ml import (goal_draws_only, GOALS_PER_CLASS,
                                          interleave, ml_class_names,
                                          ml_tasks, MetaWorldMLEnv,
                                          RAND_VEC_WIDTH)
from tcl_garage.experiment.config import load_config
from tcl_garage.experiment.launcher import run
from tcl_garage.experiment.rundir import progress_rows


def rand_vec(task):
    """A task's object and goal positions."""
    return tuple(np.round(pickle.loads(task.data)['rand_vec'], 9))


def test_ml10_and_ml45_count_classes_times_50_goals():
    assert benchmark_facts('ml10') == (500, 250, 200)
    assert benchmark_facts('ml45') == (2250, 250, 200)
    assert {'ml10', 'ml45'} <= set(BENCHMARK_NAMES)
    benchmark = make_benchmark('ml10', seed=0)
    assert benchmark.train_sampler.n_tasks == 500
    assert benchmark.test_sampler.n_tasks == 250
    assert len(benchmark.train_envs()) == 500


def test_training_and_test_classes_are_disjoint_and_every_goal_distinct():
    train, test, train_classes, test_classes = ml_tasks('ml10', 0)
    assert len(train_classes) == 10 and len(test_classes) == 5
    assert not set(train_classes) & set(test_classes)
    assert {t.env_name for t in train} == set(train_classes)
    assert {t.env_name for t in test} == set(test_classes)
    for tasks, classes in ((train, train_classes), (test, test_classes)):
        for name in classes:
            goals = {rand_vec(t) for t in tasks if t.env_name == name}
            assert len(goals) == GOALS_PER_CLASS


def test_tasks_are_listed_goal_by_goal_across_classes():
    train, _, classes, _ = ml_tasks('ml10', 0)
    assert [t.env_name for t in train[:10]] == list(classes)
    assert all(t.env_name == classes[i % 10] for i, t in enumerate(train))
    # the first 10 training tasks: one goal of each class
    first = make_benchmark('ml10', seed=0).train_sampler.first(10)
    assert sorted(first.class_names) == sorted(classes)


def test_interleave_keeps_each_class_order():
    tasks = [metaworld.Task(env_name=name, data=bytes([i]))
             for name in ('a', 'b') for i in range(3)]
    ordered = interleave(tasks, ('a', 'b'))
    assert [(t.env_name, t.data[0]) for t in ordered] == [
        ('a', 0), ('b', 0), ('a', 1), ('b', 1), ('a', 2), ('b', 2)]


def test_the_split_is_fixed_by_the_seed():
    train0, test0, _, _ = ml_tasks('ml10', 0)
    train1, _, _, _ = ml_tasks('ml10', 1)
    assert [t.data for t in train0] != [t.data for t in train1]
    # the same seed, built again, gives the same tasks
    fresh = make_benchmark('ml10', seed=0)
    assert [t.data for t in fresh.test_sampler.tasks] == [
        t.data for t in test0]


def test_drawing_goals_without_placing_the_arm_gives_metaworlds_tasks():
    """The shortcut of ml_tasks, checked against Meta-World's own draw on
    two classes (ML1: train and test goals of one class each)."""
    for name, seed in (('pick-place-v3', 3), ('door-open-v3', 4)):
        real = metaworld.ML1(name, seed=seed)
        with goal_draws_only():
            fast = metaworld.ML1(name, seed=seed)
        assert [t.data for t in fast.train_tasks] == [
            t.data for t in real.train_tasks]
        assert [t.data for t in fast.test_tasks] == [
            t.data for t in real.test_tasks]
    from metaworld.sawyer_xyz_env import SawyerXYZEnv
    assert SawyerXYZEnv._reset_hand.__name__ == '_reset_hand'  # restored


def first_env(sampler, index=0, seed=5):
    """An environment of a sampler's task ``index``, seeded."""
    env = sampler.sample(sampler.n_tasks)[index]()
    env.seed(seed)
    return env


def test_environment_hides_the_goal_and_reports_success_and_class():
    benchmark = make_benchmark('ml10', seed=0)
    env = first_env(benchmark.test_sampler)
    obs, _ = env.reset()
    assert obs.shape == (39, ) and env.action_space.shape == (4, )
    assert env.observation_space.shape == (39, )
    assert (obs[-3:] == 0).all()  # goal hidden
    step = env.step(np.zeros(4))
    assert 'success' in step.env_info
    assert step.env_info['task_name'] == benchmark.test_sampler.tasks[
        0].env_name


def test_episodes_are_truncated_at_max_episode_length():
    env = first_env(make_benchmark('ml10', seed=0,
                                   max_episode_length=7).train_sampler)
    env.reset()
    types = [env.step(np.zeros(4)).step_type for _ in range(7)]
    assert types[-1].name == 'TIMEOUT' and types[0].name == 'FIRST'


def test_seeded_steps_repeat_exactly_and_survive_pickling():
    sampler = make_benchmark('ml10', seed=0).train_sampler
    actions = np.random.default_rng(0).uniform(-1, 1, (6, 4))

    def rollout(env):
        obs = [env.reset()[0]]
        for action in actions:
            step = env.step(action)
            obs.append(step.observation)
        return np.array(obs)

    first, second = first_env(sampler, 3), first_env(sampler, 3)
    np.testing.assert_array_equal(rollout(first), rollout(second))
    data = pickle.dumps(first)
    assert len(data) < 20_000  # constructor arguments and task, no simulator
    np.testing.assert_array_equal(rollout(pickle.loads(data)),
                                  rollout(second))


def test_one_environment_per_class_is_built_and_goals_are_set_on_it():
    sampler = make_benchmark('ml10', seed=0).train_sampler
    updates = sampler.sample(sampler.n_tasks)
    env = updates[0]()
    # task 10 is the next goal of task 0's class: the same environment
    assert updates[10](env) is env
    assert env.task is sampler.tasks[10]
    other = updates[1](env)  # another class: another environment
    assert other is not env and type(other) is MetaWorldMLEnv
    assert other.task_name == sampler.tasks[1].env_name


def test_fewer_test_tasks_keep_the_class_of_each_position():
    sampler = make_benchmark('ml10', seed=0).test_sampler
    np.random.seed(3)
    chosen = [u.task for u in sampler.sample(12)]
    assert [t.env_name for t in chosen] == sampler.class_names[:12]
    assert len({t.data for t in chosen}) == 12
    assert [u.task for u in sampler.sample(250)] == sampler.tasks


def test_the_oracles_task_vector_has_one_size_for_every_class():
    benchmark = make_benchmark('ml10', seed=0)
    classes = ml_class_names('ml10')
    sizes, codes = set(), set()
    for sampler in (benchmark.train_sampler, benchmark.test_sampler):
        env = None
        for update in sampler.sample(sampler.n_tasks)[:15]:
            env = update(env)
            vector = env.task_vector()
            sizes.add(vector.shape)
            codes.add(int(np.argmax(vector[:len(classes)])))
            assert vector[:len(classes)].sum() == 1
    assert sizes == {(len(classes) + RAND_VEC_WIDTH, )}
    assert len(codes) == 15


def test_reward_versions_and_unknown_classes_are_refused():
    with pytest.raises(ValueError, match='only Meta-World ML1'):
        make_benchmark('ml10', reward_function_version='v1')
    with pytest.raises(ValueError, match='not a class of ml10'):
        MetaWorldMLEnv('assembly-v3', 'ml10')


def smoke(tmp_path, benchmark, algo, **overrides):
    """A smoke run in this process; its progress rows."""
    config = load_config(benchmark, algo=algo, profile='smoke',
                         overrides=overrides)
    run_dir = run(config, str(tmp_path / f'{benchmark}-{algo}'), quiet=True)
    return progress_rows(run_dir)


@pytest.mark.parametrize('benchmark', ['ml10', 'ml45'])
@pytest.mark.parametrize('algo', ['pearl', 'tcl-pearl'])
def test_pearl_and_tcl_pearl_smoke_runs_log_success_per_test_class(
        tmp_path, benchmark, algo):
    rows = smoke(tmp_path, benchmark, algo)
    assert len(rows) == 2
    _, test, _, test_classes = ml_tasks(benchmark, 0)
    # the smoke profile's 2 test tasks: the first goal of 2 test classes
    for name in test_classes[:2]:
        assert 0.0 <= float(rows[-1][f'MetaTest/{name}/SuccessRate']) <= 1
    assert f'MetaTest/{test_classes[2]}/SuccessRate' not in rows[-1]
    assert 0.0 <= float(rows[-1]['MetaTest/Average/SuccessRate']) <= 1
    assert len(test) == 250


@pytest.mark.parametrize('algo', ['pearl', 'tcl-pearl'])
def test_pearl_smoke_runs_log_meta_train_success_of_the_classes_drawn(
        tmp_path, algo):
    rows = smoke(tmp_path, 'ml10', algo)
    _, _, train_classes, _ = ml_tasks('ml10', 0)
    # the smoke profile's 4 training tasks: goal 0 of the first 4 classes;
    # 2 drawn (with replacement) an epoch
    for row in rows:
        logged = [name for name in train_classes
                  if row.get(f'MetaTrain/{name}/SuccessRate', '') != '']
        assert 1 <= len(logged) <= 2
        assert set(logged) <= set(train_classes[:4])
        rates = [float(row[f'MetaTrain/{name}/SuccessRate'])
                 for name in logged]
        assert all(0.0 <= rate <= 1.0 for rate in rates)
        average = float(row['MetaTrain/Average/SuccessRate'])
        assert min(rates) <= average <= max(rates)


def test_meta_train_success_is_the_mean_over_each_class_and_all_episodes():
    from dowel import tabular
    from tcl_garage.sampling.collector import log_success_per_class
    tabular.clear()
    # tasks 0 and 2 of class a, task 1 of b, task 3 (class c) not drawn
    log_success_per_class({0: [True, False], 2: [True, True], 1: [False]},
                          ['a', 'b', 'a', 'c'])
    values = dict(tabular.as_dict)
    tabular.clear()
    assert values == {'MetaTrain/a/SuccessRate': 0.75,
                      'MetaTrain/b/SuccessRate': 0.0,
                      'MetaTrain/Average/SuccessRate': 0.6}


def test_a_run_without_meta_world_classes_logs_no_meta_train_success(
        tmp_path):
    rows = smoke(tmp_path, 'ml1/reach-v3', 'pearl')
    assert not [key for key in rows[-1] if key.startswith('MetaTrain/')]


@pytest.mark.parametrize('algo', ['mql', 'tcl-mql', 'oracle', 'maml-trpo'])
def test_the_baselines_run_on_ml10_at_smoke_size(tmp_path, algo):
    rows = smoke(tmp_path, 'ml10', algo)
    assert len(rows) == 2
    _, _, _, test_classes = ml_tasks('ml10', 0)
    for name in test_classes[:2]:  # grouped by class, every algorithm
        assert f'MetaTest/{name}/SuccessRate' in rows[-1]
    assert 'MetaTest/Average/SuccessRate' in rows[-1]


@pytest.mark.slow
def test_a_killed_ml10_run_resumes_to_the_run_left_alone(tmp_path):
    """TCL-PEARL on ML10 with the collector's environments in 2 worker
    processes (slots of different classes): SIGKILL after the first logged
    epoch, resume; the result is the uninterrupted run's. (Slow: three
    launches with worker processes, 2 to 3 minutes on 2 busy cores.)"""
    from conftest import assert_killed_run_resumes_exactly
    assert_killed_run_resumes_exactly(
        tmp_path, 'metaworld_ml10',
        ['--smoke', '--seed', '2', '--epochs', '4', '--n-workers', '2'],
        epochs=4)
