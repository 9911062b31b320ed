"""Experiment configs: defaults, a benchmark's differences, overrides.

Resolution order (later wins): ``configs/defaults.yaml``; the benchmark's
file (``configs/<family>.yaml`` or ``configs/ml1.yaml`` and its
``env_overrides`` entry); the file's section named after the algorithm; a
profile (``configs/profiles/<name>.yaml``); ``key=value`` overrides
(``block.key=value`` inside a baseline's block). Every key must exist in the
defaults, every value must have its type and lie in its range
(:data:`RANGES`), and the keys must agree with each other, with the
benchmark and with the algorithm: :func:`load_config` checks all of it
before anything is built.
"""
import copy
import math
import pathlib
from typing import Any, Dict, Iterable, Optional

import yaml

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.sampling.metaworld_protocol import EVALUATIONS
from tcl_garage.tcl.loss import NEGATIVES
from tcl_garage.tcl.windows import POSITIVES

#: The configs folder at the repository root.
CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / 'configs'
#: Keys whose default is null, and the type their values must have.
_NULLABLE_TYPES = {'benchmark': str, 'reward_function_version': str}
#: Keys whose default is a value but which may be set to null (its meaning
#: is in configs/defaults.yaml).
_ALSO_NULL = {'updates_per_episode'}


class ConfigError(ValueError):
    """A config or override that cannot be used; the message says why."""


def _read(path: pathlib.Path) -> Dict[str, Any]:
    """Read a YAML mapping.

    Args:
        path (pathlib.Path): The file.

    Returns:
        dict: Its contents ({} for an empty file).

    Raises:
        ConfigError: If missing or not a mapping.

    """
    if not path.is_file():
        raise ConfigError(f'no config file {path}')
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigError(f'{path} must hold a mapping of key: value')
    return data


def config_file_for(benchmark: str, config_dir: pathlib.Path) -> pathlib.Path:
    """The config file of a benchmark name.

    Args:
        benchmark (str): ``cheetah-vel``, ... or ``ml1/<env>``.
        config_dir (pathlib.Path): The configs folder.

    Returns:
        pathlib.Path: The file.

    Raises:
        ConfigError: If there is none, naming the valid benchmarks.

    """
    name = 'ml1' if benchmark.startswith('ml1/') else benchmark
    path = config_dir / f'{name}.yaml'
    if not path.is_file():
        known = sorted(p.stem for p in config_dir.glob('*.yaml')
                       if p.stem != 'defaults')
        raise ConfigError(f'unknown benchmark {benchmark!r}: configs exist '
                          f'for {", ".join(known)} (ml1 as ml1/<env>)')
    return path


def check_value(key: str, value: Any, defaults: Dict[str, Any],
                where: str) -> Any:
    """Check a key is known and its value has the default's type.

    Args:
        key (str): The key.
        value (object): Its value.
        defaults (dict): The defaults.
        where (str): Where the value came from, for the message.

    Returns:
        object: The value (ints accepted for floats, as floats).

    Raises:
        ConfigError: Naming the key and the fix.

    """
    if key not in defaults:
        raise ConfigError(f'{key}={value!r}: unknown config key (in {where}); '
                          'use a key of configs/defaults.yaml')
    default = defaults[key]
    if isinstance(default, dict):  # a block: check each of its keys
        if not isinstance(value, dict):
            raise ConfigError(f'{key}={value!r}: must be a mapping of '
                              f'{", ".join(default)} (in {where}); set one '
                              f'with --set {key}.<key>=<value>')
        return {name: check_value(name, item, default, f'{where} {key}')
                for name, item in value.items()}
    expected = (_NULLABLE_TYPES.get(key, int)
                if default is None else type(default))
    if value is None and (default is None or key in _ALSO_NULL):
        return value
    if expected is float and isinstance(value, int) and not isinstance(
            value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(
            value, expected):
        raise ConfigError(f'{key}={value!r}: must be {expected.__name__} '
                          f'(in {where}); give a value of that type')
    return value


def _apply(config: Dict[str, Any], updates: Dict[str, Any],
           defaults: Dict[str, Any], where: str) -> None:
    """Update config with checked values.

    Args:
        config (dict): Updated in place.
        updates (dict): New values.
        defaults (dict): The defaults.
        where (str): Source, for messages.

    """
    for key, value in updates.items():
        checked = check_value(key, value, defaults, where)
        if isinstance(defaults[key], dict):
            config[key] = {**config[key], **checked}  # a block merges
        else:
            config[key] = checked


def parse_overrides(pairs: Iterable[str]) -> Dict[str, Any]:
    """Parse ``key=value`` strings (values in YAML: 3, 0.5, true, null).

    Args:
        pairs (Iterable[str]): The strings.

    Returns:
        dict: Parsed values.

    Raises:
        ConfigError: For a string without ``=``.

    """
    parsed: Dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition('=')
        if not sep or not key:
            raise ConfigError(f'--set takes key=value, got {pair!r}')
        block, dot, name = key.strip().partition('.')
        if dot:  # block.key=value
            parsed.setdefault(block, {})[name] = yaml.safe_load(text)
        else:
            parsed[block] = yaml.safe_load(text)
    return parsed


def load_config(benchmark: str,
                algo: Optional[str] = None,
                profile: Optional[str] = None,
                overrides: Optional[Dict[str, Any]] = None,
                config_dir: Optional[pathlib.Path] = None) -> Dict[str, Any]:
    """Resolve the config of one run.

    Args:
        benchmark (str): ``cheetah-vel``, ... or ``ml1/<env>``.
        algo (str or None): ``tcl-pearl`` or ``pearl``; None keeps the
            config's.
        profile (str or None): A profile name (``smoke``, ``demo``).
        overrides (dict or None): Final ``key: value`` overrides.
        config_dir (pathlib.Path or None): Configs folder (default
            :data:`CONFIG_DIR`).

    Returns:
        dict: Every key of the defaults, resolved.

    Raises:
        ConfigError: For unknown keys, wrong types, unknown names.

    """
    config_dir = pathlib.Path(config_dir or CONFIG_DIR)
    overrides = dict(overrides or {})
    if 'algo' in overrides:  # Before the algorithm's section is chosen.
        algo = overrides.pop('algo')
    if 'benchmark' in overrides:
        raise ConfigError('the benchmark is chosen by the launcher, not '
                          '--set: run experiments/<benchmark>.py')
    defaults = _read(config_dir / 'defaults.yaml')
    config = copy.deepcopy(defaults)
    path = config_file_for(benchmark, config_dir)
    family = _read(path)
    # A section named after an algorithm holds that algorithm's values; a
    # name that is also a block of the defaults (mql: MQL's and TCL-MQL's
    # block) is the block.
    sections = {name: family.pop(name, None) or {} for name in ALGORITHMS
                if not isinstance(defaults.get(name), dict)}
    env_overrides = family.pop('env_overrides', None) or {}
    _apply(config, family, defaults, path.name)
    if benchmark.startswith('ml1/'):
        config['benchmark'] = benchmark
        env_name = benchmark[len('ml1/'):]
        _apply(config, env_overrides.get(env_name, {}), defaults,
               f'{path.name} env_overrides.{env_name}')
    if algo is not None:
        config['algo'] = algo
    if config['algo'] not in ALGORITHMS:
        raise ConfigError(f'algo={config["algo"]!r}: unknown algorithm; '
                          f'choose one of {", ".join(ALGORITHMS)}')
    _apply(config, sections.get(config['algo'], {}), defaults,
           f'{path.name} section {config["algo"]}')
    if profile is not None:
        profile_path = config_dir / 'profiles' / f'{profile}.yaml'
        if not profile_path.is_file():
            known = sorted(p.stem for p in profile_path.parent.glob('*.yaml'))
            raise ConfigError(f'unknown profile {profile!r}: choose one of '
                              f'{", ".join(known)}')
        _apply(config, _read(profile_path), defaults, profile_path.name)
        # A profile's task counts are caps ("at most"), for any benchmark.
        for key, available in zip(('num_train_tasks', 'num_test_tasks'),
                                  _facts(config['benchmark'])[:2]):
            if config[key] is not None:
                config[key] = min(config[key], available)
    _apply(config, overrides, defaults, '--set')
    _check_used_by_algorithm(overrides, config['algo'])
    check_ranges(config)
    return config


def _at_least(low):
    return lambda v: v >= low, f'must be >= {low}'


_POSITIVE = (lambda v: v > 0, 'must be > 0')
_NON_NEGATIVE = (lambda v: v >= 0, 'must be >= 0')
_RATE = (lambda v: 0 < v <= 1, 'must lie in (0, 1]')
_UNIT = (lambda v: 0 <= v <= 1, 'must lie in [0, 1]')
_SIZES = (lambda v: len(v) >= 1 and all(
    isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v),
          'must be a list of one or more sizes >= 1')

#: The allowed range of every numeric key (``block.key`` inside a block):
#: (test, what it must be).
RANGES = {
    **{key: _at_least(1) for key in (
        'epochs', 'latent_dim', 'net_size', 'net_layers',
        'encoder_hidden_size', 'encoder_layers', 'meta_batch_size',
        'batch_size', 'embedding_batch_size', 'num_steps_per_epoch',
        'num_initial_steps', 'num_exploration_episodes',
        'replay_buffer_size', 'window_size', 'windows_per_task',
        'num_train_tasks', 'num_test_tasks', 'maml_trpo.meta_batch_size',
        'maml_trpo.episodes_per_task', 'maml_trpo.num_grad_updates',
        'rl2_ppo.hidden_size', 'rl2_ppo.meta_batch_size',
        'rl2_ppo.episodes_per_trial', 'rl2_ppo.minibatch_size',
        'rl2_ppo.optimization_epochs', 'mql.history_length',
        'mql.context_size', 'mql.updates_per_episode',
        'mql.policy_update_every', 'mql.exploration_episodes',
        'mql.classifier_sample_mult')},
    'max_episode_length': _at_least(2),
    'seed': (lambda v: 0 <= v < 2**32, 'must lie in [0, 2**32)'),
    **{key: _NON_NEGATIVE for key in (
        'n_workers', 'num_tasks_sample', 'num_steps_prior',
        'num_steps_posterior', 'num_extra_rl_steps_posterior', 'kl_lambda',
        'contrastive_loss_scale', 'rl2_ppo.policy_ent_coeff',
        'mql.exploration_noise', 'mql.policy_noise', 'mql.noise_clip',
        'mql.plain_adaptation_steps', 'mql.weighted_adaptation_steps',
        'mql.proximal_coef')},
    **{key: _POSITIVE for key in (
        'reward_scale', 'policy_lr', 'qf_lr', 'vf_lr', 'context_lr',
        'temperature', 'oracle_sac.reward_scale', 'maml_trpo.inner_lr',
        'maml_trpo.max_kl_step', 'rl2_ppo.lr_clip_range',
        'rl2_ppo.learning_rate', 'mql.lr', 'mql.beta_clip',
        'mql.logistic_c')},
    **{key: _RATE for key in ('key_encoder_tau', 'soft_target_tau',
                              'discount')},
    **{key: _UNIT for key in ('maml_trpo.gae_lambda', 'rl2_ppo.gae_lambda')},
    'maml_trpo.hidden_sizes': _SIZES,
}
#: Values a key may take (None is always allowed for nullable keys).
CHOICES = {
    'sampler': ('local', 'ray'),
    'collector': ('vectorised', 'sequential'),
    'reward_function_version': ('v1', 'v2'),
    'tcl_positive': POSITIVES,
    'tcl_negatives': NEGATIVES,
    'evaluation': EVALUATIONS,
}


def _value(config: Dict[str, Any], key: str) -> Any:
    """A config value by name, ``block.key`` inside a block.

    Args:
        config (dict): Resolved config.
        key (str): The name.

    Returns:
        object: The value.

    """
    block, dot, name = key.partition('.')
    return config[block][name] if dot else config[block]


def _facts(benchmark: str):
    """The benchmark's task counts and episode length, as a config error.

    Args:
        benchmark (str): Its name.

    Returns:
        tuple[int, int, int]: Training tasks, test tasks, episode length.

    Raises:
        ConfigError: For an unknown benchmark.

    """
    from tcl_garage.envs import benchmark_facts  # imports the simulators
    try:
        return benchmark_facts(benchmark)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _check_used_by_algorithm(overrides: Dict[str, Any], algo: str) -> None:
    """Reject an override of a key the algorithm never reads.

    Args:
        overrides (dict): The ``--set`` overrides.
        algo (str): The algorithm.

    Raises:
        ConfigError: Naming the algorithms that use the key.

    """
    for key, value in overrides.items():
        if key not in ALGORITHMS[algo].keys:
            users = [name for name, row in ALGORITHMS.items()
                     if key in row.keys]
            raise ConfigError(f'{key}={value!r}: {algo} does not use this '
                              f'key (used by {", ".join(users)}); drop it, '
                              'or choose one of those with --algo')


def check_ranges(config: Dict[str, Any]) -> None:
    """Check every value is in its range, and the keys agree with each
    other and with the benchmark; nothing is built.

    Args:
        config (dict): Resolved config.

    Raises:
        ConfigError: ``<key>=<value>: <what is wrong>; <what to do>``.

    """
    for key, (test, rule) in RANGES.items():
        value = _value(config, key)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value) or (
                not test(value)):
            raise ConfigError(f'{key}={value!r}: {rule}; set it with '
                              f'--set {key}=<value> (see configs/'
                              'defaults.yaml)')
    for key, allowed in CHOICES.items():
        if config[key] is not None and config[key] not in allowed:
            raise ConfigError(f'{key}={config[key]!r}: not one of '
                              f'{", ".join(allowed)}; choose one of those')
    n_train, n_test, length = _facts(config['benchmark'])
    for key, available in (('num_train_tasks', n_train),
                           ('num_test_tasks', n_test)):
        if (config[key] or 0) > available:
            raise ConfigError(f'{key}={config[key]}: {config["benchmark"]} '
                              f'has {available}; set at most {available} '
                              '(null: all)')
    length = config['max_episode_length'] or length
    if (config['reward_function_version'] is not None and
            not config['benchmark'].startswith('ml1/')):
        raise ConfigError(
            f'reward_function_version={config["reward_function_version"]}: '
            f'only Meta-World ML1 has reward versions, not '
            f'{config["benchmark"]}; leave it unset')
    algo = config['algo']
    row = ALGORITHMS[algo]
    if config['sampler'] not in row.samplers:
        raise ConfigError(f'sampler={config["sampler"]}: {algo} samples in '
                          'this process; use --sampler local (ray is for '
                          'PEARL and TCL-PEARL)')
    if config['sampler'] == 'ray' and config['n_workers'] < 1:
        raise ConfigError('n_workers=0: Ray needs at least 1 worker; set '
                          '--n-workers N')
    if config['sampler'] == 'ray':
        from tcl_garage.garage_compat import RAY_INSTALL_HINT, ray_available
        if not ray_available():
            raise ConfigError('sampler=ray: Ray is not installed; run '
                              f'{RAY_INSTALL_HINT}, or use --sampler local')
    if 'precision' in row.keys:
        from tcl_garage.algos.precision import check_precision
        try:
            check_precision(config['precision'],
                            config['device'].partition(':')[0])
        except ValueError as error:
            raise ConfigError(str(error)) from None
    if row.cpu_only and config['device'] != 'cpu':
        raise ConfigError(f'device={config["device"]}: garage\'s {algo} '
                          'runs on the CPU only; use --device cpu')
    if row.check is not None:
        try:
            row.check(config, length)
        except ValueError as error:
            raise ConfigError(str(error)) from None
