"""Experiment configs: defaults, a benchmark's differences, overrides.

Resolution order (later wins): the defaults (the settings table,
:mod:`tcl_garage.experiment.settings`, written out as
``configs/defaults.yaml``; a ``defaults.yaml`` in another configs folder
is applied over them); the benchmark's file (``configs/<family>.yaml``,
``configs/ml1.yaml`` and its ``env_overrides`` entry, or the file a
registered benchmark names, :func:`tcl_garage.envs.register_benchmark`);
the file's section named after the algorithm; a profile
(``configs/profiles/<name>.yaml``); ``key=value`` overrides
(``block.key=value`` inside a baseline's block). Every key must be a
setting, every value must have its type and lie in its range or choices
(the table's), and the keys must agree with each other, with the benchmark
and with the algorithm: :func:`load_config` checks all of it before
anything is built.
"""
import difflib
import pathlib
from typing import Any, Dict, Iterable, Optional

import yaml

from tcl_garage.experiment import settings
from tcl_garage.experiment.algorithms import ALGORITHMS

#: The configs folder (the repository's ``configs/``, shipped with the
#: package).
CONFIG_DIR = settings.CONFIG_DIR


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


def config_file_for(benchmark: str,
                    config_dir: pathlib.Path) -> Optional[pathlib.Path]:
    """The config file of a benchmark name.

    ``<config_dir>/<name>.yaml`` (``ml1.yaml`` for ``ml1/<env>``) where it
    exists, else the file its registration names (None: it has none, the
    defaults serve).

    Args:
        benchmark (str): ``cheetah-vel``, ..., ``ml1/<env>`` or a registered
            name.
        config_dir (pathlib.Path): The configs folder.

    Returns:
        pathlib.Path or None: The file.

    Raises:
        ConfigError: If the benchmark is neither, naming the valid ones.

    """
    name = 'ml1' if benchmark.startswith('ml1/') else benchmark
    path = config_dir / f'{name}.yaml'
    if path.is_file() and name != 'defaults':
        return path
    from tcl_garage.envs.benchmarks import registered_benchmark
    spec = registered_benchmark(benchmark)
    if spec is not None:
        return spec.config_file
    known = sorted(p.stem for p in config_dir.glob('*.yaml')
                   if p.stem != 'defaults')
    from tcl_garage.envs.benchmarks import registered_names
    raise ConfigError(f'unknown benchmark {benchmark!r}: configs exist '
                      f'for {", ".join(known)} (ml1 as ml1/<env>); '
                      'registered: '
                      f'{", ".join(registered_names()) or "none"} (add '
                      'yours with tcl_garage.envs.register_benchmark in a '
                      'module named by $TCL_GARAGE_BENCHMARKS)')


def check_value(key: str, value: Any, where: str,
                block: Optional[str] = None) -> Any:
    """Check a key is a setting and its value has the setting's type.

    Args:
        key (str): The key (inside ``block``, if given).
        value (object): Its value.
        where (str): Where the value came from, for the message.
        block (str or None): The block holding the key.

    Returns:
        object: The value (ints accepted for floats, as floats).

    Raises:
        ConfigError: Naming the key and the fix.

    """
    name = f'{block}.{key}' if block else key
    if block is None and key in settings.BLOCKS:  # check each of its keys
        if not isinstance(value, dict):
            keys = [n.partition('.')[2] for n in settings.SETTINGS
                    if n.startswith(f'{key}.')]
            raise ConfigError(f'{key}={value!r}: must be a mapping of '
                              f'{", ".join(keys)} (in {where}); set one '
                              f'with --set {key}.<key>=<value>')
        return {item_key: check_value(item_key, item, f'{where} {key}', key)
                for item_key, item in value.items()}
    setting = settings.SETTINGS.get(name)
    if setting is None:
        raise ConfigError(f'{key}={value!r}: unknown config key (in {where}); '
                          f'{_did_you_mean(name)}use a key of '
                          'configs/defaults.yaml')
    expected = setting.value_type
    if value is None and setting.may_be_null:
        return value
    if expected is float and isinstance(value, int) and not isinstance(
            value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(
            value, expected):
        raise ConfigError(f'{key}={value!r}: must be {expected.__name__} '
                          f'(in {where}); give a value of that type')
    return value


def _did_you_mean(name: str) -> str:
    """``'did you mean <key>? '`` for the setting nearest a mistyped key
    (in its block, for ``block.key``), or ``''``.

    Args:
        name (str): The unknown key (``block.key`` inside a block).

    Returns:
        str: The suggestion, or ``''`` when no key is near.

    """
    block = name.rpartition('.')[0]
    keys = [n for n in list(settings.SETTINGS) + list(settings.BLOCKS)
            if n.rpartition('.')[0] == block]
    close = difflib.get_close_matches(name, keys, n=1)
    return f'did you mean {close[0]}? ' if close else ''


def _apply(config: Dict[str, Any], updates: Dict[str, Any],
           where: str) -> None:
    """Update config with checked values.

    Args:
        config (dict): Updated in place.
        updates (dict): New values.
        where (str): Source, for messages.

    """
    for key, value in updates.items():
        checked = check_value(key, value, where)
        if key in settings.BLOCKS:
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
        benchmark (str): ``cheetah-vel``, ..., ``ml1/<env>`` or a registered
            benchmark (:func:`tcl_garage.envs.register_benchmark`).
        algo (str or None): An algorithm of
            :data:`~tcl_garage.experiment.algorithms.ALGORITHMS`; None
            keeps the config's.
        profile (str or None): A profile name (``smoke``, ``demo``).
        overrides (dict or None): Final ``key: value`` overrides.
        config_dir (pathlib.Path or None): Configs folder (default
            :data:`CONFIG_DIR`): its ``<benchmark>.yaml``, ``defaults.yaml``
            and ``profiles/`` come first, the library's serve otherwise.

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
    config = settings.defaults()
    if config_dir != CONFIG_DIR and (config_dir / 'defaults.yaml').is_file():
        _apply(config, _read(config_dir / 'defaults.yaml'), 'defaults.yaml')
    path = config_file_for(benchmark, config_dir)
    family = _read(path) if path is not None else {}
    where = path.name if path is not None else benchmark
    # A section named after an algorithm holds that algorithm's values; a
    # name that is also a block (mql: MQL's and TCL-MQL's block) is the
    # block.
    sections = {name: family.pop(name, None) or {} for name in ALGORITHMS
                if name not in settings.BLOCKS}
    env_overrides = family.pop('env_overrides', None) or {}
    _apply(config, family, where)
    config['benchmark'] = benchmark
    if benchmark.startswith('ml1/'):
        env_name = benchmark[len('ml1/'):]
        _apply(config, env_overrides.get(env_name, {}),
               f'{where} env_overrides.{env_name}')
    if algo is not None:
        config['algo'] = algo
    if config['algo'] not in ALGORITHMS:
        raise ConfigError(f'algo={config["algo"]!r}: unknown algorithm; '
                          f'choose one of {", ".join(ALGORITHMS)}')
    _apply(config, sections.get(config['algo'], {}),
           f'{where} section {config["algo"]}')
    if profile is not None:
        profile_path = _profile_file(profile, config_dir)
        _apply(config, _read(profile_path), profile_path.name)
        # A profile's task counts are caps ("at most"), for any benchmark.
        for key, available in zip(('num_train_tasks', 'num_test_tasks'),
                                  _facts(config['benchmark'])[:2]):
            if config[key] is not None:
                config[key] = min(config[key], available)
    _apply(config, overrides, '--set')
    _check_used_by_algorithm(overrides, config['algo'])
    check_ranges(config)
    return config


def _profile_file(profile: str, config_dir: pathlib.Path) -> pathlib.Path:
    """A profile's file: the configs folder's, else the library's.

    Args:
        profile (str): Its name.
        config_dir (pathlib.Path): The configs folder.

    Returns:
        pathlib.Path: The file.

    Raises:
        ConfigError: If neither has it, naming the profiles.

    """
    folders = [config_dir / 'profiles', CONFIG_DIR / 'profiles']
    for folder in folders:
        if (folder / f'{profile}.yaml').is_file():
            return folder / f'{profile}.yaml'
    known = sorted({p.stem for folder in folders
                    for p in folder.glob('*.yaml')})
    close = difflib.get_close_matches(profile, known, n=1)
    raise ConfigError(f'unknown profile {profile!r}: '
                      + (f'did you mean {close[0]}? ' if close else '')
                      + f'choose one of {", ".join(known)}')


#: The allowed range of every numeric key (``block.key`` inside a block):
#: (test, what it must be); a view of the settings table.
RANGES = {name: setting.rule for name, setting in settings.SETTINGS.items()
          if setting.rule is not None}
#: Values a key may take (None is always allowed for nullable keys); a view
#: of the settings table.
CHOICES = {name: setting.choices
           for name, setting in settings.SETTINGS.items()
           if setting.choices is not None}


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
    for check in (settings.check_range, settings.check_choice):
        for name in settings.SETTINGS:
            problem = check(name, settings.value_of(config, name))
            if problem is not None:
                raise ConfigError(problem)
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
        ray = [name for name, other in ALGORITHMS.items()
               if 'ray' in other.samplers]
        raise ConfigError(f'sampler={config["sampler"]}: {algo} samples in '
                          'this process; use --sampler local (ray is for '
                          f'{", ".join(ray)})')
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
