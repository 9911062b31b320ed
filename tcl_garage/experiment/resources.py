"""Resource checks: settings that size memory or processes, checked
against this machine before anything is built or written.

:func:`check_resources` refuses, in one line naming the limit, a config
whose environment workers are far beyond the cores (more than
:data:`WORKERS_PER_CORE` per core), or whose estimated memory cannot fit:
one replay buffer's reservation (garage allocates a buffer's whole capacity
at its first episode) against the machine's memory and swap, and the
filled buffers, a training step's batch and the networks with their
optimiser state against the memory available now.

The estimates are lower bounds: observations and actions are counted as
one number each (a benchmark's real sizes are known only once it is
built), so a config refused here can never run, and one accepted may still
need more. Only settings the config's algorithm uses are counted.
"""
import os
from typing import Any, Dict, Optional

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.config import ConfigError

#: Environment workers allowed per core: more only waits on the cores.
WORKERS_PER_CORE = 4
#: Bytes of one number in a replay buffer (garage stores float64).
BUFFER_NUMBER_BYTES = 8
#: Bytes of one network parameter or activation (float32).
NETWORK_NUMBER_BYTES = 4
#: Copies of each parameter: itself, its gradient, Adam's two moments.
PARAMETER_COPIES = 4
#: Networks of PEARL's kind: policy, two Q-functions, value and target.
NETWORKS = 5
#: Numbers a transition holds, at least: observation, next observation,
#: action, reward and done (one number each).
NUMBERS_PER_TRANSITION = 5
#: Resident memory of one environment worker process (Python, torch).
WORKER_BYTES = 150 * 2**20


def cores() -> int:
    """The cores this process may run on.

    Returns:
        int: At least 1.

    """
    if hasattr(os, 'sched_getaffinity'):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _meminfo() -> Dict[str, int]:
    """``/proc/meminfo`` in bytes ({} where there is none).

    Returns:
        dict[str, int]: Field -> bytes.

    """
    try:
        with open('/proc/meminfo', encoding='ascii') as file:
            lines = file.read().splitlines()
    except OSError:
        return {}
    info = {}
    for line in lines:
        name, _, value = line.partition(':')
        parts = value.split()
        if parts and parts[0].isdigit():
            info[name] = int(parts[0]) * (1024 if parts[1:] == ['kB'] else 1)
    return info


def machine_memory() -> Optional[Dict[str, int]]:
    """This machine's memory: ``total`` (memory and swap) and
    ``available`` (what can be had now without swapping), in bytes.

    Returns:
        dict or None: The two sizes, or None where they cannot be read.

    """
    info = _meminfo()
    if 'MemTotal' in info:
        return dict(total=info['MemTotal'] + info.get('SwapTotal', 0),
                    available=info.get('MemAvailable', info['MemTotal']))
    try:
        page = os.sysconf('SC_PAGE_SIZE')
        return dict(total=os.sysconf('SC_PHYS_PAGES') * page,
                    available=os.sysconf('SC_AVPHYS_PAGES') * page)
    except (AttributeError, ValueError, OSError):
        return None


def _gib(n_bytes: float) -> str:
    """A size in GiB, for messages.

    Args:
        n_bytes (float): Bytes.

    Returns:
        str: E.g. ``'12.5 GiB'``.

    """
    return f'{n_bytes / 2**30:.3g} GiB'


def _used(config: Dict[str, Any], key: str) -> Optional[Any]:
    """A setting's value if the config's algorithm uses it, else None.

    Args:
        config (dict): Resolved config.
        key (str): The setting.

    Returns:
        object or None: Its value.

    """
    if key not in ALGORITHMS[config['algo']].keys:
        return None
    return config.get(key)


def memory_estimates(config: Dict[str, Any],
                     facts: tuple) -> Dict[str, float]:
    """Lower bounds of the memory a config needs, in bytes, by cause.

    Args:
        config (dict): Resolved config.
        facts (tuple): The benchmark's training tasks, test tasks and
            episode length (:func:`tcl_garage.envs.benchmark_facts`).

    Returns:
        dict[str, float]: ``buffer reservation`` (one buffer's capacity),
            ``replay buffers`` (their filled part over the run), ``batch``
            (a training step's batch and activations), ``networks``
            (parameters with gradients and optimiser state) and
            ``workers`` (environment worker processes); causes the
            algorithm does not have are left out.

    """
    n_train = config.get('num_train_tasks') or facts[0]
    estimates = {}
    transition = NUMBERS_PER_TRANSITION * BUFFER_NUMBER_BYTES
    capacity = _used(config, 'replay_buffer_size')
    if capacity:
        estimates['buffer reservation'] = capacity * transition
        collected = ((_used(config, 'num_initial_steps') or 0) * n_train +
                     config['epochs'] * (
                         _used(config, 'num_tasks_sample') or 0) *
                     ((_used(config, 'num_steps_prior') or 0) +
                      (_used(config, 'num_steps_posterior') or 0) +
                      (_used(config, 'num_extra_rl_steps_posterior') or 0)))
        # Two buffers (RL and context) per task, each at most its capacity.
        estimates['replay buffers'] = 2 * transition * min(
            collected, capacity * n_train)
    width = _used(config, 'net_size') or 0
    layers = _used(config, 'net_layers') or 1
    latent = _used(config, 'latent_dim') or 0
    if width:
        inputs = 2 + latent  # observation and action: one number each
        per_network = inputs * width + (layers - 1) * width * width
        estimates['networks'] = (NETWORKS * per_network * PARAMETER_COPIES *
                                 NETWORK_NUMBER_BYTES)
        encoder = _used(config, 'encoder_hidden_size') or 0
        estimates['networks'] += (encoder * (3 + 2 * latent) *
                                  PARAMETER_COPIES * NETWORK_NUMBER_BYTES)
    batch = _used(config, 'batch_size') or 0
    if batch:
        tasks = _used(config, 'meta_batch_size') or 1
        rows = tasks * batch
        # Each row: its transition, and every layer's activations of each
        # network (kept for the backward pass).
        estimates['batch'] = rows * (
            transition + NETWORKS * (layers * width + latent + 2) *
            NETWORK_NUMBER_BYTES)
    workers = config.get('n_workers') or 0
    if config.get('sampler') == 'local' and workers:
        estimates['workers'] = workers * WORKER_BYTES
    return estimates


def check_resources(config: Dict[str, Any],
                    facts: Optional[tuple] = None) -> None:
    """Refuse a config this machine cannot run: workers far beyond the
    cores, or memory beyond the machine's (see the module's docstring).

    Args:
        config (dict): Resolved config.
        facts (tuple or None): The benchmark's training tasks, test tasks
            and episode length; default
            :func:`tcl_garage.envs.benchmark_facts`.

    Raises:
        ConfigError: ``<key>=<value>: <what is too big>; <what to do>``.

    """
    if facts is None:
        from tcl_garage.envs import benchmark_facts
        facts = benchmark_facts(config['benchmark'])
    workers = config.get('n_workers') or 0
    limit = WORKERS_PER_CORE * cores()
    if config.get('sampler') == 'local' and workers > limit:
        raise ConfigError(
            f'n_workers={workers}: this machine has {cores()} cores; set at '
            f'most {limit} ({WORKERS_PER_CORE} per core)')
    memory = machine_memory()
    if memory is None:
        return
    estimates = memory_estimates(config, facts)
    causes = {'buffer reservation': 'replay_buffer_size',
              'replay buffers': 'replay_buffer_size',
              'networks': 'net_size',
              'batch': 'batch_size',
              'workers': 'n_workers'}
    reservation = estimates.pop('buffer reservation', 0)
    if reservation > memory['total']:
        raise ConfigError(
            f'replay_buffer_size={config["replay_buffer_size"]}: one replay '
            f'buffer reserves at least {_gib(reservation)}, more than this '
            f'machine\'s {_gib(memory["total"])} of memory and swap; lower it')
    total = sum(estimates.values())
    if total > memory['available']:
        cause = max(estimates, key=estimates.get)
        key = causes[cause]
        if cause == 'networks' and (_used(config, 'latent_dim') or 0) > (
                _used(config, 'net_size') or 0):
            key = 'latent_dim'
        raise ConfigError(
            f'{key}={config[key]}: the run needs at least {_gib(total)} '
            f'({cause}: {_gib(estimates[cause])}), more than the '
            f'{_gib(memory["available"])} available on this machine; lower '
            'it')
