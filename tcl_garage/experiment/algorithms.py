"""The table of algorithms an experiment can run: one row each.

Each row says how to build the algorithm from a resolved config, which
trainer runs it, what it needs installed, which samplers and devices it
can use and its own checks; the config keys it reads, its own block and
the arguments its builder takes come from the settings table
(:mod:`tcl_garage.experiment.settings`). The launcher, the config checks,
the sweep and the CLI read this table; none of them names an algorithm.

Adding an algorithm: its row here (a builder taking ``(config, benchmark,
n_train, n_test)`` and an ``arguments`` function giving its public
builder's keyword arguments for a config, most of them
:func:`tcl_garage.experiment.settings.arguments`), and its name in the
``readers`` (and ``arguments``) of the settings it reads.
"""
import dataclasses
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple

from tcl_garage.experiment import settings


@dataclasses.dataclass(frozen=True)
class BuiltRun:
    """What every builder returns.

    Attributes:
        algo (object): The algorithm, for ``Trainer.setup``.
        env (garage.Environment): An environment, for ``Trainer.setup``.
        batch_size (int or None): ``Trainer.train``'s ``batch_size``.

    """

    algo: Any
    env: Any
    batch_size: Optional[int]


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """One row of the table.

    Attributes:
        name (str): The ``--algo`` name.
        build (callable): ``(config, benchmark, n_train, n_test) ->
            BuiltRun``.
        arguments (callable): ``config -> dict``: the keyword arguments
            its public builder takes, besides the tasks, for a resolved
            config (with :func:`~tcl_garage.experiment.settings.default_config`
            they are the builder's defaults: :func:`default_arguments`).
        tensorflow (bool): Runs in garage's ``TFTrainer``.
        requirement (callable or None): Raises ``ImportError``, naming the
            install command, when something it needs is missing.
        samplers (tuple[str, ...]): Samplers it can use.
        cpu_only (bool): garage's implementation runs on the CPU only.
        check (callable or None): ``(config, episode_length) -> None``:
            its own checks of a resolved config, raising ``ValueError``
            (``<key>=<value>: <what is wrong>; <what to do>``).

    """

    name: str
    build: Callable[..., BuiltRun]
    arguments: Callable[[Dict[str, Any]], Dict[str, Any]]
    tensorflow: bool = False
    requirement: Optional[Callable[[], None]] = None
    samplers: Tuple[str, ...] = ('local', )
    cpu_only: bool = False
    check: Optional[Callable[[Dict[str, Any], int], None]] = None

    @property
    def keys(self) -> FrozenSet[str]:
        """frozenset[str]: The config keys it reads (the settings table's)."""
        return settings.keys_read_by(self.name)

    @property
    def block(self) -> Optional[str]:
        """str or None: Its own nested config block (e.g. ``maml_trpo``),
        passed to its builder as keyword arguments."""
        return settings.block_of(self.name)


def windows_per_task(config: Dict[str, Any],
                     window_size: Optional[int] = None) -> int:
    """TCL windows per task: the config's, or context size / window size.

    Args:
        config (dict): Resolved config.
        window_size (int or None): The window; None: ``window_size``
            (TCL-MQL gives its history length).

    Returns:
        int: Windows per task.

    """
    if config['windows_per_task'] is not None:
        return config['windows_per_task']
    window = window_size or config['window_size']
    return max(1, round(config['embedding_batch_size'] / window))


def network_sizes(config: Dict[str, Any]) -> Dict[str, Any]:
    """The sizes of PEARL's networks in a config, as ``build_pearl`` takes
    them.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: ``latent_dim``, ``net_sizes`` (policy, Q- and value
            functions) and ``encoder_hidden_sizes``.

    """
    return dict(latent_dim=config['latent_dim'],
                net_sizes=(config['net_size'], ) * config['net_layers'],
                encoder_hidden_sizes=(config['encoder_hidden_size'], ) *
                config['encoder_layers'])


def default_arguments(algo: str,
                      explicit: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """The keyword arguments of an algorithm's public builder for the
    documented defaults (:func:`~tcl_garage.experiment.settings.default_config`):
    what ``build_pearl(...)`` and the other builders take for an argument
    not given.

    Args:
        algo (str): The algorithm.
        explicit (tuple[str, ...]): Arguments the builder gives defaults of
            its own (left out).

    Returns:
        dict: The keyword arguments.

    """
    kwargs = ALGORITHMS[algo].arguments(settings.default_config(algo))
    return {key: value for key, value in kwargs.items()
            if key not in explicit}


def _check_pearl_family(config: Dict[str, Any], length: int) -> None:
    """PEARL's and TCL-PEARL's checks: a re-sampled task's context buffer
    is refilled."""
    del length
    if config['evaluation'] == 'metaworld':
        from tcl_garage.envs.metaworld_ml import is_metaworld_benchmark
        if not is_metaworld_benchmark(config['benchmark']):
            raise ValueError(
                f'evaluation=metaworld: {config["benchmark"]} reports no '
                'success, which Meta-World\'s protocol scores; use it on '
                'ml1/<env>, ml10 or ml45, or set evaluation: pearl')
    if config['num_tasks_sample'] > 0 and (
            config['num_steps_prior'] + config['num_steps_posterior'] == 0):
        raise ValueError(
            f'num_steps_prior={config["num_steps_prior"]}: with '
            'num_steps_posterior=0 a re-sampled task\'s context buffer '
            'stays empty; set num_steps_prior or num_steps_posterior >= 1')


def _check_pearl(config: Dict[str, Any], length: int) -> None:
    """PEARL's checks: its context fits in a buffer."""
    _check_pearl_family(config, length)
    if config['embedding_batch_size'] > config['replay_buffer_size']:
        raise ValueError(
            f'embedding_batch_size={config["embedding_batch_size"]}: larger '
            f'than replay_buffer_size={config["replay_buffer_size"]}; lower '
            'it or raise replay_buffer_size')


def _check_tcl_pearl(config: Dict[str, Any], length: int) -> None:
    """TCL-PEARL's checks: a key window fits beside its query in an
    episode, and the windows fit in a buffer."""
    _check_pearl_family(config, length)
    window = config['window_size']
    if window > length - 1:
        raise ValueError(
            f'window_size={window}: episodes last {length} steps and a '
            'key window must start elsewhere than its query; set '
            f'window_size <= {length - 1}')
    windows = windows_per_task(config)
    if window * windows > config['replay_buffer_size']:
        raise ValueError(
            f'windows_per_task={windows}: {windows} windows of {window} '
            'transitions exceed replay_buffer_size='
            f'{config["replay_buffer_size"]}; lower them or raise '
            'replay_buffer_size')


def pearl_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """PEARL's arguments of :func:`~tcl_garage.experiment.build.build_pearl`
    for a config, besides the tasks.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    kwargs = settings.arguments(config)
    kwargs.update(network_sizes(config))
    # PEARL's encoder trains on its whole context batch.
    kwargs['embedding_mini_batch_size'] = config['embedding_batch_size']
    return kwargs


def tcl_pearl_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """TCL-PEARL's arguments of
    :func:`~tcl_garage.experiment.build.build_pearl` for a config.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    kwargs = settings.arguments(config)
    kwargs.update(network_sizes(config))
    kwargs['windows_per_task'] = windows_per_task(config)
    return kwargs


def _build_pearl(config, benchmark, n_train, n_test) -> BuiltRun:
    """PEARL or TCL-PEARL of a config."""
    from tcl_garage.experiment.build import build_pearl  # garage: slow to import
    # Meta-World ML10/ML45's samplers name each task's class: per-class
    # meta-train success is logged (MetaTrain/<class>/SuccessRate).
    classes = getattr(benchmark.train_sampler, 'class_names', None)
    algo, env = build_pearl(
        config['algo'],
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler,
        num_test_tasks=n_test,
        train_task_classes=None if classes is None else classes[:n_train],
        **ALGORITHMS[config['algo']].arguments(config))
    return BuiltRun(algo, env, config['batch_size'])


def _env_steps_per_task(config: Dict[str, Any]) -> int:
    """A PEARL epoch's environment steps in each drawn task (the budget the
    oracle and MQL share)."""
    return (config['num_steps_prior'] + config['num_steps_posterior'] +
            config['num_extra_rl_steps_posterior'])


def _check_tcl_mql(config: Dict[str, Any], length: int) -> None:
    """TCL-MQL's check: a key window (the GRU's length) fits beside its
    query in an episode."""
    history = config['mql']['history_length']
    if history > length - 1:
        raise ValueError(
            f'mql.history_length={history}: TCL-MQL\'s windows are one '
            f'history long, episodes last {length} steps and a key window '
            'must start elsewhere than its query; set '
            f'mql.history_length <= {length - 1}')


def mql_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """MQL's (TCL-MQL's) arguments of
    :func:`~tcl_garage.experiment.build_baselines.build_mql` for a config,
    besides the tasks: a PEARL epoch's env-step budget.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    kwargs = settings.arguments(config)
    kwargs.update(net_sizes=(config['net_size'], ) * config['net_layers'],
                  env_steps_per_task=_env_steps_per_task(config),
                  **_block(config))
    return kwargs


def tcl_mql_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """TCL-MQL's arguments: MQL's, with the TCL settings (its windows are
    one history long).

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    return dict(mql_arguments(config),
                windows_per_task=windows_per_task(
                    config, config['mql']['history_length']))


def _build_mql(config, benchmark, n_train, n_test) -> BuiltRun:
    """MQL or TCL-MQL of a config."""
    from tcl_garage.experiment.build_baselines import build_mql
    algo, env = build_mql(
        config['algo'],
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler,
        num_test_tasks=n_test,
        **ALGORITHMS[config['algo']].arguments(config))
    return BuiltRun(algo, env, env.spec.max_episode_length)


def oracle_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """The oracle's arguments of
    :func:`~tcl_garage.experiment.build_baselines.build_oracle` for a
    config, besides the tasks: a PEARL epoch's budget per epoch.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    kwargs = settings.arguments(config)
    kwargs.update(net_sizes=(config['net_size'], ) * config['net_layers'],
                  env_steps_per_epoch=config['num_tasks_sample'] *
                  _env_steps_per_task(config),
                  **_block(config))
    return kwargs


def _build_oracle(config, benchmark, n_train, n_test) -> BuiltRun:
    """The oracle of a config."""
    from tcl_garage.experiment.build_baselines import build_oracle
    algo, env, batch_size = build_oracle(
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler.sample(n_test),
        **oracle_arguments(config))
    return BuiltRun(algo, env, batch_size)


def block_arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """The arguments of a baseline that samples its own tasks (MAML-TRPO,
    RL2-PPO): its settings (the discount) and its block.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The keyword arguments.

    """
    return {**settings.arguments(config), **_block(config)}


def _block(config: Dict[str, Any]) -> Dict[str, Any]:
    """The config block of the config's algorithm (its table row's).

    Args:
        config (dict): Resolved config.

    Returns:
        dict: The block's settings.

    """
    return config[ALGORITHMS[config['algo']].block]


def _build_on_task_samplers(builder: str) -> Callable[..., BuiltRun]:
    """The builder of a baseline that samples its own tasks (MAML-TRPO,
    RL2-PPO): the training tasks, the test tasks, the discount and its
    block.

    Args:
        builder (str): Its builder in :mod:`tcl_garage.experiment.build_baselines`.

    Returns:
        callable: ``(config, benchmark, n_train, n_test) -> BuiltRun``.

    """

    def build(config, benchmark, n_train, n_test) -> BuiltRun:
        from tcl_garage.experiment import build_baselines  # garage: slow to import
        algo, env, batch_size = getattr(build_baselines, builder)(
            benchmark.train_sampler.first(n_train),
            benchmark.test_sampler,
            num_test_tasks=n_test,
            **block_arguments(config))
        return BuiltRun(algo, env, batch_size)

    return build


def _require_tensorflow() -> None:
    """RL2-PPO's requirement (TensorFlow)."""
    from tcl_garage.experiment.build_baselines import require_tensorflow
    require_tensorflow()


#: Every algorithm, by ``--algo`` name; the first is the default.
ALGORITHMS: Dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm('tcl-pearl', _build_pearl, tcl_pearl_arguments,
                  samplers=('local', 'ray'), check=_check_tcl_pearl),
        Algorithm('pearl', _build_pearl, pearl_arguments,
                  samplers=('local', 'ray'), check=_check_pearl),
        Algorithm('mql', _build_mql, mql_arguments,
                  samplers=('local', 'ray')),
        Algorithm('tcl-mql', _build_mql, tcl_mql_arguments,
                  samplers=('local', 'ray'), check=_check_tcl_mql),
        Algorithm('oracle', _build_oracle, oracle_arguments),
        Algorithm('maml-trpo', _build_on_task_samplers('build_maml_trpo'),
                  block_arguments, cpu_only=True),
        Algorithm('rl2-ppo', _build_on_task_samplers('build_rl2_ppo'),
                  block_arguments, tensorflow=True,
                  requirement=_require_tensorflow, cpu_only=True),
    )
}
