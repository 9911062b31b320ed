"""The settings table is the one place of every setting: the defaults
file, the checks, the algorithms' keys and the builders' defaults come from
it; a registered benchmark resolves and is checked as a built-in one."""
import re

import pytest
import yaml

from tcl_garage.envs import (benchmark_facts, draw_task_samplers,
                             make_benchmark, PointTaskEnv,
                             register_benchmark, unregister_benchmark)
from tcl_garage.experiment import ConfigError, load_config
from tcl_garage.experiment import settings
from tcl_garage.experiment.algorithms import ALGORITHMS, default_arguments
from tcl_garage.experiment.config import CONFIG_DIR


def test_the_committed_defaults_file_is_the_one_the_table_writes():
    committed = (CONFIG_DIR / 'defaults.yaml').read_text()
    assert committed == settings.defaults_yaml(), (
        'configs/defaults.yaml and tcl_garage/experiment/settings.py '
        'disagree: run `make defaults`')
    loaded = yaml.safe_load(committed)
    assert loaded == settings.defaults()
    assert list(loaded) == list(settings.defaults())
    for name, setting in settings.SETTINGS.items():
        value = settings.value_of(loaded, name)
        assert value is None or isinstance(value, setting.value_type), name


def test_every_reader_and_argument_names_an_algorithm_that_reads_it():
    for name, setting in settings.SETTINGS.items():
        readers = settings.readers_of(setting)
        assert readers == settings.ALL or set(readers) <= set(ALGORITHMS), name
        for algo in setting.arguments:
            assert settings.reads(algo, setting), (name, algo)
        assert setting.default is None or setting.may_be_null or (
            isinstance(setting.default, setting.value_type)), name
        assert settings.check_range(name, setting.default) is None, name
    for block in settings.BLOCKS.values():
        assert set(block.readers) <= set(ALGORITHMS)


def test_each_algorithms_keys_come_from_the_table():
    assert 'window_size' in ALGORITHMS['tcl-pearl'].keys
    assert 'window_size' not in ALGORITHMS['tcl-mql'].keys
    assert {'tcl_positive', 'meta_batch_size', 'mql'} <= \
        ALGORITHMS['tcl-mql'].keys
    assert 'kl_lambda' in ALGORITHMS['pearl'].keys
    assert 'kl_lambda' not in ALGORITHMS['mql'].keys
    assert ALGORITHMS['maml-trpo'].keys == {
        'benchmark', 'algo', 'seed', 'device', 'sampler', 'n_workers',
        'epochs', 'max_episode_length', 'num_train_tasks',
        'num_test_tasks', 'reward_function_version', 'discount',
        'maml_trpo'}
    assert [ALGORITHMS[name].block for name in ALGORITHMS] == [
        None, None, 'mql', 'mql', 'oracle_sac', 'maml_trpo', 'rl2_ppo']


def test_a_setting_an_algorithm_does_not_read_is_refused_naming_its_readers():
    with pytest.raises(ConfigError, match=re.escape(
            'window_size=8: tcl-mql does not use this key (used by '
            'tcl-pearl)')):
        load_config('point', algo='tcl-mql', overrides={'window_size': 8})
    with pytest.raises(ConfigError, match=re.escape(
            'ray is for tcl-pearl, pearl, mql, tcl-mql')):
        load_config('point', algo='oracle', overrides={'sampler': 'ray'})


def test_the_builders_take_the_documented_defaults():
    pearl = default_arguments('pearl')
    assert (pearl['meta_batch_size'], pearl['num_steps_per_epoch'],
            pearl['batch_size'], pearl['net_sizes'],
            pearl['embedding_mini_batch_size']) == (16, 2000, 256,
                                                    (300, 300, 300), 100)
    tcl = default_arguments('tcl-pearl')
    assert (tcl['window_size'], tcl['windows_per_task'], tcl['positive']) \
        == (64, 2, 'trajectory')
    assert 'embedding_batch_size' not in tcl
    tcl_mql = default_arguments('tcl-mql')
    assert (tcl_mql['tcl_tasks'], tcl_mql['windows_per_task'],
            tcl_mql['history_length'], tcl_mql['updates_per_episode']) == (
                16, 5, 20, 200)
    assert default_arguments('maml-trpo')['hidden_sizes'] == [100, 100]


def test_build_pearl_without_sizes_builds_the_documented_defaults():
    from tcl_garage.experiment.build import build_pearl
    benchmark = make_benchmark('point', seed=0)
    algo, _ = build_pearl('tcl-pearl', benchmark.train_envs()[:2],
                          benchmark.test_sampler, num_test_tasks=2)
    assert (algo._meta_batch_size, algo._num_steps_per_epoch,
            algo._batch_size, algo._reward_scale) == (16, 2000, 256, 5.0)
    assert (algo._window_size, algo._windows_per_task) == (64, 2)
    pearl, _ = build_pearl('pearl', benchmark.train_envs()[:2],
                           benchmark.test_sampler, num_test_tasks=2,
                           embedding_batch_size=16)
    assert (pearl._embedding_batch_size,
            pearl._embedding_mini_batch_size) == (16, 16)


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
