"""The table of algorithms an experiment can run: one row each.

Each row says how to build the algorithm from a resolved config, which
trainer runs it, what it needs installed, which samplers and devices it
can use, its own config block and the config keys it reads. The launcher,
the config checks, the sweep and the CLI read this table; none of them
names an algorithm.
"""
import dataclasses
from typing import Any, Callable, Dict, FrozenSet, Optional, Tuple

#: Config keys every algorithm reads.
RUN_KEYS = ('benchmark', 'algo', 'seed', 'device', 'sampler', 'n_workers',
            'epochs', 'max_episode_length', 'num_train_tasks',
            'num_test_tasks', 'reward_function_version', 'discount')
#: PEARL's keys (TCL-PEARL's too).
PEARL_KEYS = ('latent_dim', 'net_size', 'net_layers', 'encoder_hidden_size',
              'encoder_layers', 'meta_batch_size', 'batch_size',
              'embedding_batch_size', 'num_steps_per_epoch',
              'num_initial_steps', 'num_tasks_sample', 'num_steps_prior',
              'num_steps_posterior', 'num_extra_rl_steps_posterior',
              'num_exploration_episodes', 'reward_scale', 'kl_lambda',
              'soft_target_tau', 'policy_lr', 'qf_lr', 'vf_lr',
              'context_lr', 'replay_buffer_size', 'use_next_obs_in_context',
              'use_information_bottleneck', 'compile', 'precision',
              'collector', 'evaluation')
#: TCL's own keys (TCL-PEARL only).
TCL_KEYS = ('window_size', 'windows_per_task', 'contrastive_loss_scale',
            'temperature', 'key_encoder_tau', 'tcl_positive', 'tcl_negatives')
#: MQL's keys besides its ``mql`` block (TCL-MQL's too): the networks, and
#: a PEARL epoch's budget (the same env steps and gradient steps).
MQL_KEYS = ('net_size', 'net_layers', 'batch_size', 'replay_buffer_size',
            'soft_target_tau', 'num_steps_per_epoch', 'num_initial_steps',
            'num_tasks_sample', 'num_steps_prior', 'num_steps_posterior',
            'num_extra_rl_steps_posterior', 'mql')
#: TCL's keys TCL-MQL reads (its window is the GRU's ``mql.history_length``;
#: ``meta_batch_size`` tasks give each step's windows).
TCL_MQL_KEYS = ('meta_batch_size', 'embedding_batch_size', 'windows_per_task',
                'contrastive_loss_scale', 'temperature', 'key_encoder_tau',
                'tcl_positive', 'tcl_negatives')
#: TCL's config keys whose TCLPEARL argument has another name.
_TCL_ALGO_KWARGS = {'tcl_positive': 'positive', 'tcl_negatives': 'negatives'}
#: The PEARL keys the keyword arguments of the algorithm take as they are.
_PEARL_ALGO_KWARGS = ('meta_batch_size', 'batch_size', 'num_steps_per_epoch',
                      'num_initial_steps', 'num_tasks_sample',
                      'num_steps_prior', 'num_steps_posterior',
                      'num_extra_rl_steps_posterior',
                      'num_exploration_episodes', 'reward_scale',
                      'kl_lambda', 'discount', 'soft_target_tau',
                      'policy_lr', 'qf_lr', 'vf_lr', 'context_lr',
                      'replay_buffer_size', 'use_next_obs_in_context',
                      'use_information_bottleneck', 'evaluation')


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
        keys (frozenset[str]): The config keys it reads.
        block (str or None): Its own nested config block (e.g.
            ``maml_trpo``), passed to its builder as keyword arguments.
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
    keys: FrozenSet[str]
    block: Optional[str] = None
    tensorflow: bool = False
    requirement: Optional[Callable[[], None]] = None
    samplers: Tuple[str, ...] = ('local', )
    cpu_only: bool = False
    check: Optional[Callable[[Dict[str, Any], int], None]] = None


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


def _build_pearl(config, benchmark, n_train, n_test) -> BuiltRun:
    """PEARL or TCL-PEARL of a config."""
    from tcl_garage.experiment.build import build_pearl  # garage: slow to import
    kwargs = {key: config[key] for key in _PEARL_ALGO_KWARGS}
    if config['algo'] == 'tcl-pearl':
        kwargs.update({_TCL_ALGO_KWARGS.get(key, key): config[key]
                       for key in TCL_KEYS})
        kwargs['windows_per_task'] = windows_per_task(config)
    else:
        kwargs['embedding_batch_size'] = config['embedding_batch_size']
        kwargs['embedding_mini_batch_size'] = config['embedding_batch_size']
    algo, env = build_pearl(
        config['algo'],
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler,
        num_test_tasks=n_test,
        device=config['device'],
        sampler=config['sampler'],
        n_workers=config['n_workers'],
        collector=config['collector'],
        seed=config['seed'],
        compile_step=config['compile'],
        precision=config['precision'],
        **network_sizes(config),
        **kwargs)
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


def _build_tcl_mql(config, benchmark, n_train, n_test) -> BuiltRun:
    """TCL-MQL of a config: MQL's, with the TCL settings."""
    tcl = dict(tcl_tasks=config['meta_batch_size'],
               windows_per_task=windows_per_task(
                   config, config['mql']['history_length']),
               **{_TCL_ALGO_KWARGS.get(key, key): config[key]
                  for key in TCL_MQL_KEYS[3:]})  # (after the three above)
    return _build_mql(config, benchmark, n_train, n_test, **tcl)


def _build_mql(config, benchmark, n_train, n_test, **tcl) -> BuiltRun:
    """MQL (TCL-MQL, given ``tcl``) of a config: a PEARL epoch's env-step
    budget."""
    from tcl_garage.experiment.build_baselines import build_mql
    algo, env = build_mql(
        config['algo'],
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler,
        num_test_tasks=n_test,
        net_sizes=(config['net_size'], ) * config['net_layers'],
        seed=config['seed'],
        sampler=config['sampler'],
        n_workers=config['n_workers'],
        device=config['device'],
        batch_size=config['batch_size'],
        env_steps_per_task=_env_steps_per_task(config),
        num_steps_per_epoch=config['num_steps_per_epoch'],
        num_initial_steps=config['num_initial_steps'],
        num_tasks_sample=config['num_tasks_sample'],
        replay_buffer_size=config['replay_buffer_size'],
        discount=config['discount'],
        soft_target_tau=config['soft_target_tau'],
        **_block(config),
        **tcl)
    return BuiltRun(algo, env, env.spec.max_episode_length)


def _build_oracle(config, benchmark, n_train, n_test) -> BuiltRun:
    """The oracle of a config: a PEARL epoch's budget per epoch."""
    from tcl_garage.experiment.build_baselines import build_oracle
    algo, env, batch_size = build_oracle(
        benchmark.train_envs()[:n_train],
        benchmark.test_sampler.sample(n_test),
        seed=config['seed'],
        net_sizes=(config['net_size'], ) * config['net_layers'],
        env_steps_per_epoch=config['num_tasks_sample'] *
        _env_steps_per_task(config),
        grad_steps_per_epoch=config['num_steps_per_epoch'],
        min_buffer_size=config['num_initial_steps'],
        batch_size=config['batch_size'],
        replay_buffer_size=config['replay_buffer_size'],
        discount=config['discount'],
        soft_target_tau=config['soft_target_tau'],
        policy_lr=config['policy_lr'],
        qf_lr=config['qf_lr'],
        device=config['device'],
        **_block(config))
    return BuiltRun(algo, env, batch_size)


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
            discount=config['discount'],
            **_block(config))
        return BuiltRun(algo, env, batch_size)

    return build


def _require_tensorflow() -> None:
    """RL2-PPO's requirement (TensorFlow)."""
    from tcl_garage.experiment.build_baselines import require_tensorflow
    require_tensorflow()


_PEARL_FAMILY_KEYS = frozenset(RUN_KEYS + PEARL_KEYS)
_BASELINE_KEYS = frozenset(RUN_KEYS)
_MQL_FAMILY_KEYS = frozenset(RUN_KEYS + MQL_KEYS)

#: Every algorithm, by ``--algo`` name; the first is the default.
ALGORITHMS: Dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm('tcl-pearl', _build_pearl,
                  _PEARL_FAMILY_KEYS | frozenset(TCL_KEYS),
                  samplers=('local', 'ray'), check=_check_tcl_pearl),
        Algorithm('pearl', _build_pearl, _PEARL_FAMILY_KEYS,
                  samplers=('local', 'ray'), check=_check_pearl),
        Algorithm('mql', _build_mql, _MQL_FAMILY_KEYS, block='mql',
                  samplers=('local', 'ray')),
        Algorithm('tcl-mql', _build_tcl_mql,
                  _MQL_FAMILY_KEYS | frozenset(TCL_MQL_KEYS), block='mql',
                  samplers=('local', 'ray'), check=_check_tcl_mql),
        Algorithm('oracle', _build_oracle, _BASELINE_KEYS | {
            'net_size', 'net_layers', 'batch_size', 'replay_buffer_size',
            'soft_target_tau', 'policy_lr', 'qf_lr', 'num_tasks_sample',
            'num_steps_prior', 'num_steps_posterior',
            'num_extra_rl_steps_posterior', 'num_steps_per_epoch',
            'num_initial_steps', 'oracle_sac'}, block='oracle_sac'),
        Algorithm('maml-trpo',
                  _build_on_task_samplers('build_maml_trpo'),
                  _BASELINE_KEYS | {'maml_trpo'}, block='maml_trpo',
                  cpu_only=True),
        Algorithm('rl2-ppo',
                  _build_on_task_samplers('build_rl2_ppo'),
                  _BASELINE_KEYS | {'rl2_ppo'},
                  block='rl2_ppo', tensorflow=True,
                  requirement=_require_tensorflow, cpu_only=True),
    )
}
