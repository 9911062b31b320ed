"""Experiment configs: defaults, a benchmark's differences, overrides.

Resolution order (later wins): ``configs/defaults.yaml``; the benchmark's
file (``configs/<family>.yaml`` or ``configs/ml1.yaml`` and its
``env_overrides`` entry); the file's section named after the algorithm; a
profile (``configs/profiles/<name>.yaml``); ``key=value`` overrides. Every
key must exist in the defaults, and every value must have its type.
"""
import pathlib
from typing import Any, Dict, Iterable, Optional

import yaml

#: The configs folder at the repository root.
CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / 'configs'
#: Keys whose default is null, and the type their values must have.
_NULLABLE_TYPES = {'benchmark': str}
#: Algorithms a config may name; each may have a section in a family file.
ALGORITHMS = ('tcl-pearl', 'pearl', 'oracle', 'maml-trpo', 'rl2-ppo')


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
        raise ConfigError(f'unknown config key {key!r} in {where}; known '
                          f'keys are listed in {CONFIG_DIR / "defaults.yaml"}')
    default = defaults[key]
    expected = (_NULLABLE_TYPES.get(key, int)
                if default is None else type(default))
    if value is None and default is None:
        return value
    if expected is float and isinstance(value, int) and not isinstance(
            value, bool):
        return float(value)
    if expected is int and isinstance(value, bool) or not isinstance(
            value, expected):
        raise ConfigError(f'config key {key!r} in {where} must be '
                          f'{expected.__name__}, got {value!r}')
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
        config[key] = check_value(key, value, defaults, where)


def parse_overrides(pairs: Iterable[str]) -> Dict[str, Any]:
    """Parse ``key=value`` strings (values in YAML: 3, 0.5, true, null).

    Args:
        pairs (Iterable[str]): The strings.

    Returns:
        dict: Parsed values.

    Raises:
        ConfigError: For a string without ``=``.

    """
    parsed = {}
    for pair in pairs:
        key, sep, text = pair.partition('=')
        if not sep or not key:
            raise ConfigError(f'--set takes key=value, got {pair!r}')
        parsed[key.strip()] = yaml.safe_load(text)
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
    config = dict(defaults)
    path = config_file_for(benchmark, config_dir)
    family = _read(path)
    sections = {name: family.pop(name, None) or {} for name in ALGORITHMS}
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
        raise ConfigError(f'unknown algorithm {config["algo"]!r}: choose '
                          f'one of {", ".join(ALGORITHMS)}')
    _apply(config, sections[config['algo']], defaults,
           f'{path.name} section {config["algo"]}')
    if profile is not None:
        profile_path = config_dir / 'profiles' / f'{profile}.yaml'
        if not profile_path.is_file():
            known = sorted(p.stem for p in profile_path.parent.glob('*.yaml'))
            raise ConfigError(f'unknown profile {profile!r}: choose one of '
                              f'{", ".join(known)}')
        _apply(config, _read(profile_path), defaults, profile_path.name)
    _apply(config, overrides, defaults, '--set')
    _check_algorithm_settings(config)
    return config


#: Algorithms that sample in the launcher's process only.
_LOCAL_SAMPLING_ONLY = ('oracle', 'maml-trpo', 'rl2-ppo')
#: Algorithms whose garage implementation runs on the CPU only.
_CPU_ONLY = ('maml-trpo', 'rl2-ppo')


def _check_algorithm_settings(config: Dict[str, Any]) -> None:
    """Reject a sampler or device the config's algorithm cannot use.

    Args:
        config (dict): Resolved config.

    Raises:
        ConfigError: Naming the setting to use instead.

    """
    algo = config['algo']
    if algo in _LOCAL_SAMPLING_ONLY and config['sampler'] != 'local':
        raise ConfigError(f'{algo} samples in this process: use --sampler '
                          'local (ray is for PEARL and TCL-PEARL)')
    if algo in _CPU_ONLY and config['device'] != 'cpu':
        raise ConfigError(f'garage\'s {algo} runs on the CPU only, not '
                          f'{config["device"]}: use --device cpu')
