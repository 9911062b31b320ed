"""The settings table is the one place of every setting: the defaults
file, the checks, the algorithms' keys and the builders' defaults come from
it."""
import re

import pytest
import yaml

from tcl_garage.envs import make_benchmark
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
    assert (algo.tcl_settings['window_size'],
            algo.tcl_settings['windows_per_task']) == (64, 2)
    pearl, _ = build_pearl('pearl', benchmark.train_envs()[:2],
                           benchmark.test_sampler, num_test_tasks=2,
                           embedding_batch_size=16)
    assert (pearl._embedding_batch_size,
            pearl._embedding_mini_batch_size) == (16, 16)
