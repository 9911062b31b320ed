"""Every experiment setting, written once: the table :data:`SETTINGS`.

Each :class:`Setting` holds a key's name, default, type, allowed range or
choices, one line of documentation, the algorithms that read it and the
keyword argument each algorithm's builder takes it as. Everything else
comes from this table: ``configs/defaults.yaml`` (written by ``make
defaults``; a test fails when the committed file and the table
disagree), the config checks of :mod:`tcl_garage.experiment.config`
(``--set`` included), the keys each row
of :data:`tcl_garage.experiment.algorithms.ALGORITHMS` reads, the
arguments the launcher gives the builders, and the builders' own defaults
(``build_pearl(...)`` without sizes builds what the table documents).

``make settings`` lists the table: name, type, default, range, readers
and documentation.

Adding a setting: one :class:`Setting` line here (``arguments`` names the
keyword argument of the algorithms that take it as it is), then ``make
defaults``. Adding an algorithm: its row in
:mod:`tcl_garage.experiment.algorithms`, and its name in ``readers`` of
the settings it reads here.
"""
import argparse
import dataclasses
import inspect
import math
import pathlib
import sys
import textwrap
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Tuple, Union)

from tcl_garage.algos.optimizers import ADAM_KERNELS
from tcl_garage.sampling.metaworld_protocol import EVALUATIONS
from tcl_garage.tcl.component import TCL
from tcl_garage.tcl.loss import NEGATIVES
from tcl_garage.tcl.windows import POSITIVES

#: TCL's defaults are its component's (``tcl_garage.tcl.TCL``'s constructor):
#: the experiment's TCL settings take them from there.
_TCL = {name: parameter.default for name, parameter
        in inspect.signature(TCL.__init__).parameters.items()}
#: ``readers`` of a setting every algorithm reads.
ALL = ('*', )
#: PEARL and TCL-PEARL.
PEARL_FAMILY = ('tcl-pearl', 'pearl')
#: MQL and TCL-MQL.
MQL_FAMILY = ('mql', 'tcl-mql')
#: The algorithms that train PEARL's networks and budget, and the oracle.
_OFF_POLICY = PEARL_FAMILY + MQL_FAMILY + ('oracle', )

#: An allowed range: (test of a value, what the value must be).
Rule = Tuple[Callable[[Any], bool], str]


def at_least(low: int) -> Rule:
    """The rule ``>= low``.

    Args:
        low (int): The smallest allowed value.

    Returns:
        tuple: The rule.

    """
    return lambda v: v >= low, f'must be >= {low}'


POSITIVE: Rule = (lambda v: v > 0, 'must be > 0')
NON_NEGATIVE: Rule = (lambda v: v >= 0, 'must be >= 0')
RATE: Rule = (lambda v: 0 < v <= 1, 'must lie in (0, 1]')
UNIT: Rule = (lambda v: 0 <= v <= 1, 'must lie in [0, 1]')
SIZES: Rule = (lambda v: len(v) >= 1 and all(
    isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in v),
               'must be a list of one or more sizes >= 1')
SEED: Rule = (lambda v: 0 <= v < 2**32, 'must lie in [0, 2**32)')
_COUNT = at_least(1)


def _as(keyword: str, *algorithms: Tuple[str, ...]) -> Dict[str, str]:
    """``arguments`` of a setting: these algorithms take it as ``keyword``.

    Args:
        keyword (str): The keyword argument.
        *algorithms (tuple[str, ...]): Groups of algorithm names.

    Returns:
        dict[str, str]: Algorithm name -> keyword.

    """
    return {name: keyword for group in algorithms for name in group}


@dataclasses.dataclass(frozen=True)
class Setting:
    """One config key.

    Attributes:
        name (str): The key; ``block.key`` inside a block.
        default (object): Its default.
        doc (str): What it is (one line; ``defaults.yaml`` wraps it).
        readers (tuple[str, ...]): The algorithms that read it (:data:`ALL`:
            every one); a block's keys are read by the block's readers.
        type (type or None): The type of its values; None: the default's.
        nullable (bool): null is allowed (always, for a null default).
        rule (tuple or None): Its allowed range (:data:`POSITIVE`, ...).
        choices (tuple or None): The values it may take.
        arguments (Mapping[str, str]): Algorithm name -> the keyword
            argument its builder takes this setting as, unchanged (a
            setting an algorithm reads but derives an argument from is not
            here).

    """

    name: str
    default: Any
    doc: str
    readers: Tuple[str, ...] = ()
    type: Optional[type] = None
    nullable: bool = False
    rule: Optional[Rule] = None
    choices: Optional[Tuple[Any, ...]] = None
    arguments: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def value_type(self) -> type:
        """type: The type of its values."""
        return self.type or type(self.default)

    @property
    def may_be_null(self) -> bool:
        """bool: Whether null is allowed."""
        return self.default is None or self.nullable


@dataclasses.dataclass(frozen=True)
class Block:
    """A nested block of settings: one algorithm's own (e.g. ``mql``),
    passed to its builder as keyword arguments.

    Attributes:
        name (str): The block's key.
        readers (tuple[str, ...]): The algorithms that read it.
        doc (str): What it is (comment lines of ``defaults.yaml``).

    """

    name: str
    readers: Tuple[str, ...]
    doc: str


@dataclasses.dataclass(frozen=True)
class Section:
    """A heading of ``defaults.yaml``.

    Attributes:
        doc (str): Its comment lines.

    """

    doc: str


_TABLE: List[Union[Section, Setting, Block]] = [
    Section('--- run ---'),
    Setting('benchmark', None, 'set by the launcher: the benchmark run',
            ALL, type=str),
    Setting('algo', 'tcl-pearl', 'the algorithm (--algo): a row of '
            'tcl_garage/experiment/algorithms.py (--help lists them)', ALL),
    Setting('seed', 0, 'decides everything: tasks, networks, environments',
            ALL, rule=SEED, arguments=_as('seed', _OFF_POLICY)),
    Setting('device', 'cpu', 'cpu, cuda or cuda:<index>', ALL,
            arguments=_as('device', _OFF_POLICY)),
    Setting('sampler', 'local', 'local (this machine) or ray (Ray workers, '
            'a cluster)', ALL, choices=('local', 'ray'),
            arguments=_as('sampler', PEARL_FAMILY, MQL_FAMILY)),
    Setting('n_workers', 2, 'environment workers: local 0 = this process, '
            'N = N worker processes; ray: N Ray workers (>= 1). Each runs '
            'whole episodes with a policy copy; the data is the same for '
            'any N', ALL, rule=NON_NEGATIVE,
            arguments=_as('n_workers', PEARL_FAMILY, MQL_FAMILY)),
    Setting('collector', 'vectorised', 'vectorised: every task of a round '
            'and every test task at once, one policy call per step; '
            "sequential: garage's, one task at a time", PEARL_FAMILY,
            choices=('vectorised', 'sequential'),
            arguments=_as('collector', PEARL_FAMILY)),
    Setting('epochs', 500, 'training epochs', ALL, rule=_COUNT),
    Setting('max_episode_length', None, "null: the benchmark's (200)", ALL,
            type=int, rule=at_least(2)),
    Setting('num_train_tasks', None, 'the first N training tasks (at most '
            'all); null: all', ALL, type=int, rule=_COUNT),
    Setting('num_test_tasks', None, 'N test tasks (at most all) per '
            'evaluation; null: all', ALL, type=int, rule=_COUNT),
    Setting('reward_function_version', None, "ML1 only: v2 (null: "
            "Meta-World 3's) or v1 (the paper's)", ALL, type=str,
            choices=('v1', 'v2')),
    Section('--- networks ---'),
    Setting('latent_dim', 5, 'size of z', PEARL_FAMILY, rule=_COUNT,
            arguments=_as('latent_dim', PEARL_FAMILY)),
    Setting('net_size', 300, 'hidden units of policy, Q- and value '
            'functions (MQL: actor and each Q-function)', _OFF_POLICY,
            rule=_COUNT),
    Setting('net_layers', 3, 'hidden layers of those networks',
            _OFF_POLICY, rule=_COUNT),
    Setting('encoder_hidden_size', 200, 'hidden units of the context '
            'encoder', PEARL_FAMILY, rule=_COUNT),
    Setting('encoder_layers', 3, 'hidden layers of the context encoder',
            PEARL_FAMILY, rule=_COUNT),
    Section("--- PEARL, and an epoch's budget of env and gradient steps ---"),
    Setting('meta_batch_size', 16, 'tasks per gradient step (tcl-mql: '
            "tasks giving each step's TCL windows)",
            PEARL_FAMILY + ('tcl-mql', ),
            rule=_COUNT, arguments={**_as('meta_batch_size', PEARL_FAMILY),
                                    'tcl-mql': 'tcl_tasks'}),
    Setting('batch_size', 256, 'RL transitions per task per step (MQL: '
            'per step, over all tasks)', _OFF_POLICY, rule=_COUNT,
            arguments=_as('batch_size', _OFF_POLICY)),
    Setting('embedding_batch_size', 100, 'context transitions per task '
            "(TCL: windows_per_task's default)",
            PEARL_FAMILY + ('tcl-mql', ), rule=_COUNT,
            arguments=_as('embedding_batch_size', ('pearl', ))),
    Setting('num_steps_per_epoch', 2000, 'gradient steps per epoch',
            _OFF_POLICY, rule=_COUNT,
            arguments={**_as('num_steps_per_epoch', PEARL_FAMILY,
                             MQL_FAMILY),
                       'oracle': 'grad_steps_per_epoch'}),
    Setting('num_initial_steps', 2000, 'transitions per task before '
            'training', _OFF_POLICY, rule=_COUNT,
            arguments={**_as('num_initial_steps', PEARL_FAMILY, MQL_FAMILY),
                       'oracle': 'min_buffer_size'}),
    Setting('num_tasks_sample', 5, 'tasks whose data is collected each '
            'epoch', _OFF_POLICY, rule=NON_NEGATIVE,
            arguments=_as('num_tasks_sample', PEARL_FAMILY, MQL_FAMILY)),
    Setting('num_steps_prior', 400, 'transitions per sampled task with z ~ '
            'prior', _OFF_POLICY, rule=NON_NEGATIVE,
            arguments=_as('num_steps_prior', PEARL_FAMILY)),
    Setting('num_steps_posterior', 0, '... with z ~ posterior (also for the '
            'encoder)', _OFF_POLICY, rule=NON_NEGATIVE,
            arguments=_as('num_steps_posterior', PEARL_FAMILY)),
    Setting('num_extra_rl_steps_posterior', 600, '... with z ~ posterior, '
            'RL only', _OFF_POLICY, rule=NON_NEGATIVE,
            arguments=_as('num_extra_rl_steps_posterior', PEARL_FAMILY)),
    Setting('num_exploration_episodes', 2, 'episodes per test task before '
            'adapting', PEARL_FAMILY, rule=_COUNT,
            arguments=_as('num_exploration_episodes', PEARL_FAMILY)),
    Setting('reward_scale', 5.0, 'reward multiplier of the RL losses',
            PEARL_FAMILY, rule=POSITIVE,
            arguments=_as('reward_scale', PEARL_FAMILY)),
    Setting('kl_lambda', 0.1, 'weight of the KL term of the encoder loss',
            PEARL_FAMILY, rule=NON_NEGATIVE,
            arguments=_as('kl_lambda', PEARL_FAMILY)),
    Setting('discount', 0.99, 'discount of future rewards', ALL, rule=RATE,
            arguments=_as('discount', _OFF_POLICY, ('maml-trpo', 'rl2-ppo'))),
    Setting('soft_target_tau', 0.005, "target networks' soft-update rate",
            _OFF_POLICY, rule=RATE,
            arguments=_as('soft_target_tau', _OFF_POLICY)),
    Setting('policy_lr', 0.0003, "the policy's Adam step size",
            PEARL_FAMILY + ('oracle', ), rule=POSITIVE,
            arguments=_as('policy_lr', PEARL_FAMILY, ('oracle', ))),
    Setting('qf_lr', 0.0003, "the Q-functions' Adam step size",
            PEARL_FAMILY + ('oracle', ), rule=POSITIVE,
            arguments=_as('qf_lr', PEARL_FAMILY, ('oracle', ))),
    Setting('vf_lr', 0.0003, "the value function's Adam step size",
            PEARL_FAMILY, rule=POSITIVE,
            arguments=_as('vf_lr', PEARL_FAMILY)),
    Setting('context_lr', 0.0003, "the context encoder's Adam step size",
            PEARL_FAMILY, rule=POSITIVE,
            arguments=_as('context_lr', PEARL_FAMILY)),
    Setting('replay_buffer_size', 1000000, 'replay capacity per task '
            '(oracle: in all)', _OFF_POLICY, rule=_COUNT,
            arguments=_as('replay_buffer_size', _OFF_POLICY)),
    Setting('use_next_obs_in_context', False, 'the context also holds each '
            'next observation', PEARL_FAMILY,
            arguments=_as('use_next_obs_in_context', PEARL_FAMILY)),
    Setting('use_information_bottleneck', True, 'z is sampled from the '
            'posterior (false: its mean)', PEARL_FAMILY,
            arguments=_as('use_information_bottleneck', PEARL_FAMILY)),
    Setting('adam', 'foreach', "Adam's kernel for the five optimizers: "
            "foreach (bit for bit torch's per-tensor loop) or fused "
            "(faster; rounds differently, so results are not the default's "
            'bit for bit); docs/performance.md', PEARL_FAMILY,
            choices=tuple(ADAM_KERNELS), arguments=_as('adam', PEARL_FAMILY)),
    Setting('compile', False, 'torch.compile each training step (CUDA '
            'graphs on GPU)', PEARL_FAMILY,
            arguments=_as('compile_step', PEARL_FAMILY)),
    Setting('precision', 'fp32', "the training step's: fp32, bf16 (bfloat16 "
            'autocast of the forward passes; float32 weights, optimizer and '
            'losses) or tf32 (CUDA: TF32 matrix products); '
            'docs/performance.md',
            PEARL_FAMILY,
            arguments=_as('precision', PEARL_FAMILY)),
    Setting('evaluation', 'pearl', "the meta-test protocol: pearl (PEARL's: "
            'num_exploration_episodes with z from the prior, then one adapted '
            "episode) or metaworld (Meta-World's: num_exploration_episodes "
            'adaptation episodes, then 3 evaluation episodes a task that stop '
            'at the first success, counted per (task, goal); Meta-World '
            'benchmarks only)', PEARL_FAMILY, choices=EVALUATIONS,
            arguments=_as('evaluation', PEARL_FAMILY)),
    Section('--- TCL ---'),
    Setting('window_size', _TCL['window_size'],
            'W: transitions per window (tcl-mql: mql.history_length)',
            ('tcl-pearl', ),
            rule=_COUNT, arguments=_as('window_size', ('tcl-pearl', ))),
    Setting('windows_per_task', None, 'null: max(1, round('
            'embedding_batch_size / W)) (tcl-mql: W = mql.history_length)',
            ('tcl-pearl', 'tcl-mql'), type=int, rule=_COUNT),
    Setting('contrastive_loss_scale', _TCL['contrastive_loss_scale'],
            'weight of the TCL loss',
            ('tcl-pearl', 'tcl-mql'), rule=NON_NEGATIVE,
            arguments=_as('contrastive_loss_scale', ('tcl-pearl', 'tcl-mql'))),
    Setting('temperature', _TCL['temperature'],
            "the TCL softmax's temperature",
            ('tcl-pearl', 'tcl-mql'), rule=POSITIVE,
            arguments=_as('temperature', ('tcl-pearl', 'tcl-mql'))),
    Setting('key_encoder_tau', _TCL['key_encoder_tau'],
            'momentum encoder EMA rate',
            ('tcl-pearl', 'tcl-mql'), rule=RATE,
            arguments=_as('key_encoder_tau', ('tcl-pearl', 'tcl-mql'))),
    Setting('tcl_positive', _TCL['positive'], "a query's key: trajectory (its "
            "own episode at another start: the paper's text) or task "
            '(another episode of its task; a task holding one such episode '
            'falls back to its own, logged as '
            'Train/TCLSameEpisodeKeyFraction)', ('tcl-pearl', 'tcl-mql'),
            choices=POSITIVES,
            arguments=_as('positive', ('tcl-pearl', 'tcl-mql'))),
    Setting('tcl_negatives', _TCL['negatives'],
            'all (every key but the positive and '
            "those of its trajectory: the paper's text) or other-tasks (keys "
            "of the query's own task are left out: the loss separates "
            'tasks, not episodes)', ('tcl-pearl', 'tcl-mql'),
            choices=NEGATIVES,
            arguments=_as('negatives', ('tcl-pearl', 'tcl-mql'))),
    Section('--- baselines: each has its own block, passed to its builder '
            'as keyword arguments (override one value with --set '
            '<block>.<key>=<value>).'),
    Block('oracle_sac', ('oracle', ),
          "oracle: SAC on the true task vector (the paper's Table 5). An "
          "epoch has a PEARL epoch's budget: num_tasks_sample x "
          '(num_steps_prior + '
          'num_steps_posterior + num_extra_rl_steps_posterior) env steps and '
          'num_steps_per_epoch gradient steps; learning starts after '
          'num_initial_steps transitions.'),
    Setting('oracle_sac.reward_scale', 1.0, 'garage SAC tunes its entropy '
            'temperature', rule=POSITIVE),
    Block('mql', MQL_FAMILY,
          'MQL (Fakoor et al. 2020, Meta-Q-Learning) and TCL-MQL (TCL on the '
          "critic's recurrent context; also the TCL keys above but "
          'window_size). TD3 with a GRU context; values: MQL\'s Cheetah-Vel '
          "run (its run_script.py); each family's file holds its own MQL "
          "run's differences, ml1.yaml the TCL paper's Table 6. batch_size "
          'is the transitions of a step over all tasks (MQL 256), '
          'replay_buffer_size per task, num_initial_steps random-action '
          "transitions per task first; an epoch has a PEARL epoch's env "
          'steps: num_tasks_sample tasks x '
          '(num_steps_prior + num_steps_posterior + '
          'num_extra_rl_steps_posterior) steps, in whole episodes.'),
    Setting('mql.history_length', 20, 'H: transitions each context reads',
            rule=_COUNT),
    Setting('mql.context_size', 15, "the GRU's hidden units", rule=_COUNT),
    Setting('mql.lr', 0.001, 'Adam, actor and critic', rule=POSITIVE),
    Setting('mql.updates_per_episode', 200, 'TD3 steps per collected '
            "episode; null: num_steps_per_epoch per epoch (PEARL's budget)",
            nullable=True, rule=_COUNT),
    Setting('mql.exploration_noise', 0.3, 'action noise std while '
            'collecting (x half range)', rule=NON_NEGATIVE),
    Setting('mql.policy_noise', 0.3, 'TD3 target smoothing noise std',
            rule=NON_NEGATIVE),
    Setting('mql.noise_clip', 0.5, 'TD3 target smoothing noise bound',
            rule=NON_NEGATIVE),
    Setting('mql.policy_update_every', 2, "TD3's delayed actor and target "
            'updates', rule=_COUNT),
    Setting('mql.adapt', True, 'false: TD3-context (no meta-test '
            'adaptation)'),
    Setting('mql.exploration_episodes', 1, 'episodes per test task before '
            'adapting', rule=_COUNT),
    Setting('mql.plain_adaptation_steps', 10, 'TD3 steps on the test '
            'episode', rule=NON_NEGATIVE),
    Setting('mql.weighted_adaptation_steps', 100, 'propensity-weighted '
            'steps on the replay', rule=NON_NEGATIVE),
    Setting('mql.beta_clip', 1.0, 'propensity <= exp(beta_clip)',
            rule=POSITIVE),
    Setting('mql.logistic_c', 0.1, "classifier's inverse L2 strength "
            '(lam_csc)', rule=POSITIVE),
    Setting('mql.classifier_sample_mult', 5, 'training transitions per test '
            'transition', rule=_COUNT),
    Setting('mql.classifier_observations', False, 'the classifier also '
            "reads observations (MQL's Ant-Goal, Humanoid and Walker runs)"),
    Setting('mql.proximal_coef', 0.1, 'weight of |theta - theta_meta|^2 '
            'when adapting', rule=NON_NEGATIVE),
    Block('maml_trpo', ('maml-trpo', ),
          'MAML-TRPO (Finn et al. 2017, as run by Rakelly et al. 2019). An '
          'epoch is one meta-update: meta_batch_size tasks x '
          'episodes_per_task episodes.'),
    Setting('maml_trpo.hidden_sizes', [100, 100], 'hidden sizes of the '
            'policy and value function (tanh)', rule=SIZES),
    Setting('maml_trpo.meta_batch_size', 40, 'tasks per meta-update',
            rule=_COUNT),
    Setting('maml_trpo.episodes_per_task', 20, 'episodes per task for one '
            'adaptation', rule=_COUNT),
    Setting('maml_trpo.inner_lr', 0.1, 'adaptation step size',
            rule=POSITIVE),
    Setting('maml_trpo.max_kl_step', 0.01, "TRPO's KL bound of the "
            'meta-update', rule=POSITIVE),
    Setting('maml_trpo.num_grad_updates', 1, 'adaptation steps',
            rule=_COUNT),
    Setting('maml_trpo.gae_lambda', 1.0, 'GAE lambda', rule=UNIT),
    Block('rl2_ppo', ('rl2-ppo', ),
          "RL2-PPO (Duan et al. 2016; garage's TensorFlow RL2PPO: make "
          'install-rl2). An epoch is one PPO update on meta_batch_size '
          'trials of episodes_per_trial episodes.'),
    Setting('rl2_ppo.hidden_size', 64, 'GRU units', rule=_COUNT),
    Setting('rl2_ppo.meta_batch_size', 10, 'trials (tasks) per update',
            rule=_COUNT),
    Setting('rl2_ppo.episodes_per_trial', 2, 'episodes per trial (hidden '
            'state kept across)', rule=_COUNT),
    Setting('rl2_ppo.gae_lambda', 0.95, 'GAE lambda', rule=UNIT),
    Setting('rl2_ppo.lr_clip_range', 0.2, "PPO's clip range",
            rule=POSITIVE),
    Setting('rl2_ppo.policy_ent_coeff', 0.02, 'entropy bonus',
            rule=NON_NEGATIVE),
    Setting('rl2_ppo.learning_rate', 0.001, "Adam's step size",
            rule=POSITIVE),
    Setting('rl2_ppo.minibatch_size', 32, 'PPO minibatch size',
            rule=_COUNT),
    Setting('rl2_ppo.optimization_epochs', 10, 'PPO epochs per update',
            rule=_COUNT),
]

#: Every setting, by name (``block.key`` inside a block), in file order.
SETTINGS: Dict[str, Setting] = {
    item.name: item for item in _TABLE if isinstance(item, Setting)
}
#: Every block, by name.
BLOCKS: Dict[str, Block] = {
    item.name: item for item in _TABLE if isinstance(item, Block)
}


def readers_of(setting: Setting) -> Tuple[str, ...]:
    """The algorithms that read a setting (a block's key: the block's).

    Args:
        setting (Setting): The setting.

    Returns:
        tuple[str, ...]: Their names (:data:`ALL`: every algorithm).

    """
    block, dot, _ = setting.name.partition('.')
    return BLOCKS[block].readers if dot else setting.readers


def reads(algo: str, setting: Setting) -> bool:
    """Whether an algorithm reads a setting.

    Args:
        algo (str): The algorithm.
        setting (Setting): The setting.

    Returns:
        bool: True if it does.

    """
    readers = readers_of(setting)
    return readers == ALL or algo in readers


def keys_read_by(algo: str) -> frozenset:
    """The top-level config keys an algorithm reads (a block by its name).

    Args:
        algo (str): The algorithm.

    Returns:
        frozenset[str]: The keys.

    """
    return frozenset(
        setting.name.partition('.')[0] for setting in SETTINGS.values()
        if reads(algo, setting))


def block_of(algo: str) -> Optional[str]:
    """The algorithm's own block, if it has one.

    Args:
        algo (str): The algorithm.

    Returns:
        str or None: The block's name.

    """
    return next((name for name, block in BLOCKS.items()
                 if algo in block.readers), None)


def defaults() -> Dict[str, Any]:
    """Every key's default, blocks as nested dicts, in file order.

    Returns:
        dict: A fresh copy (lists included).

    """
    config: Dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        block, dot, key = name.partition('.')
        value = (list(setting.default) if isinstance(setting.default, list)
                 else setting.default)
        if dot:
            config.setdefault(block, {})[key] = value
        else:
            config[name] = value
    return config


def default_config(algo: str) -> Dict[str, Any]:
    """The defaults as a resolved config of an algorithm (no benchmark).

    Args:
        algo (str): The algorithm.

    Returns:
        dict: The config.

    """
    return {**defaults(), 'algo': algo}


def value_of(config: Dict[str, Any], name: str) -> Any:
    """A config value by name, ``block.key`` inside a block.

    Args:
        config (dict): Resolved config.
        name (str): The name.

    Returns:
        object: The value.

    """
    block, dot, key = name.partition('.')
    return config[block][key] if dot else config[block]


def arguments(config: Dict[str, Any]) -> Dict[str, Any]:
    """The settings the config's algorithm takes as keyword arguments,
    unchanged, under its keywords (:attr:`Setting.arguments`).

    Args:
        config (dict): Resolved config.

    Returns:
        dict: Keyword -> value.

    """
    algo = config['algo']
    return {
        setting.arguments[algo]: value_of(config, name)
        for name, setting in SETTINGS.items() if algo in setting.arguments
    }


def check_range(name: str, value: Any) -> Optional[str]:
    """What is wrong with a value of a setting, or None.

    Args:
        name (str): The setting (``block.key``).
        value (object): Its value (of its type, or None).

    Returns:
        str or None: ``<name>=<value>: <what is wrong>; <what to do>``.

    """
    setting = SETTINGS[name]
    if value is None:
        return None
    if setting.rule is not None:
        test, rule = setting.rule
        if isinstance(value, float) and not math.isfinite(value) or (
                not test(value)):
            return (f'{name}={value!r}: {rule}; set it with --set '
                    f'{name}=<value> (see configs/defaults.yaml)')
    return None


def check_choice(name: str, value: Any) -> Optional[str]:
    """What is wrong with a value of a setting with choices, or None.

    Args:
        name (str): The setting.
        value (object): Its value.

    Returns:
        str or None: The message.

    """
    allowed = SETTINGS[name].choices
    if value is not None and allowed is not None and value not in allowed:
        return (f'{name}={value!r}: not one of {", ".join(allowed)}; choose '
                'one of those')
    return None


# ----------------------------------------------------------- defaults.yaml
#: The configs folder: ``tcl_garage/configs``, package data, a link to the
#: repository's ``configs/`` in a checkout (resolved there to that folder).
CONFIG_DIR = (pathlib.Path(__file__).resolve().parents[1] /
              'configs').resolve()
#: configs/defaults.yaml, written from the table.
DEFAULTS_FILE = CONFIG_DIR / 'defaults.yaml'
_HEADER = """\
# The defaults of every experiment, written by `make defaults` from the
# table of tcl_garage/experiment/settings.py (edit that, not this file;
# `make settings` lists each key's type, range and the algorithms that read
# it). Each benchmark's file (cheetah-vel.yaml, ..., ml1.yaml, or a
# registered benchmark's) holds only what differs from this one; a section
# named after an algorithm (e.g. `tcl-pearl:`) applies to that algorithm
# only; profiles/ shrink a run (smoke, demo); `--set key=value` (`--set
# block.key=value` in a block) overrides last. Unknown keys, values out of
# range and a --set of a key the algorithm does not read are rejected before
# anything runs. Values: PEARL's MuJoCo defaults (Rakelly et al. 2019) and
# TCL's (Wang et al. 2021).
"""
#: Column of the inline comments.
_COMMENT_COLUMN = 27
_WIDTH = 79


def _yaml_value(value: Any) -> str:
    """A value as YAML (flow style).

    Args:
        value (object): None, bool, int, float, str or a list of them.

    Returns:
        str: Its text.

    """
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        return '[' + ', '.join(_yaml_value(item) for item in value) + ']'
    return str(value) if isinstance(value, str) else repr(value)


def _comment_lines(text: str, indent: str = '') -> List[str]:
    """Text as wrapped comment lines.

    Args:
        text (str): The text.
        indent (str): Leading spaces.

    Returns:
        list[str]: The lines.

    """
    return textwrap.wrap(text, _WIDTH, initial_indent=indent + '# ',
                         subsequent_indent=indent + '# ',
                         break_on_hyphens=False)


def _run_section() -> List[str]:
    """The settings of the table's first section (the run's).

    Returns:
        list[str]: Their names.

    """
    first = [i for i, item in enumerate(_TABLE) if isinstance(item, Section)]
    return [item.name for item in _TABLE[first[0]:first[1]]
            if isinstance(item, Setting)]


def _also_read(block: Block) -> str:
    """The settings outside a block and the run's that its algorithms read.

    Args:
        block (Block): The block.

    Returns:
        str: ``a, b, c; tcl-mql: also d``.

    """
    names = [name for name, setting in SETTINGS.items()
             if '.' not in name and name not in _run_section()
             and any(reads(algo, setting) for algo in block.readers)]
    every = [name for name in names
             if all(reads(algo, SETTINGS[name]) for algo in block.readers)]
    text = ', '.join(every)
    for algo in block.readers:
        own = [name for name in names
               if name not in every and reads(algo, SETTINGS[name])]
        if own:
            text += f'; {algo}: also ' + ', '.join(own)
    return text


def defaults_yaml() -> str:
    """The text of ``configs/defaults.yaml``, from the table.

    Returns:
        str: The file's text.

    """
    lines = _HEADER.splitlines()
    for item in _TABLE:
        if isinstance(item, Section):
            lines += [''] + _comment_lines(item.doc)
        elif isinstance(item, Block):
            lines += _comment_lines(f'{item.doc} Also reads '
                                    f'{_also_read(item)}.')
            lines.append(f'{item.name}:')
        else:
            block, dot, key = item.name.partition('.')
            indent = '  ' if dot else ''
            text = f'{indent}{key if dot else block}: ' + _yaml_value(
                item.default)
            column = max(_COMMENT_COLUMN, len(text) + 1)
            doc = textwrap.wrap(item.doc, _WIDTH - column - 2,
                                break_on_hyphens=False)
            lines.append(f'{text.ljust(column)}# {doc[0]}')
            lines += [' ' * column + f'# {line}' for line in doc[1:]]
    return '\n'.join(lines) + '\n'


def _describe() -> Iterator[str]:
    """The table, one line per setting.

    Yields:
        str: ``name  type  default  range  readers  doc``.

    """
    for name, setting in SETTINGS.items():
        kind = setting.value_type.__name__ + (' or null'
                                              if setting.may_be_null else '')
        allowed = (setting.rule[1] if setting.rule else
                   'one of ' + ', '.join(setting.choices)
                   if setting.choices else '')
        readers = readers_of(setting)
        yield (f'{name}: {kind} = {_yaml_value(setting.default)}'
               f'{"; " + allowed if allowed else ""}; read by '
               f'{"every algorithm" if readers == ALL else ", ".join(readers)}'
               f'. {setting.doc}')


def main(argv: Optional[List[str]] = None) -> None:
    """List the settings, or write ``configs/defaults.yaml``.

    Args:
        argv (list[str] or None): Arguments.

    """
    parser = argparse.ArgumentParser(
        prog='make settings',
        description='List every experiment setting, or write '
        'configs/defaults.yaml from the table.')
    parser.add_argument('--write', action='store_true',
                        help=f'write {DEFAULTS_FILE}')
    args = parser.parse_args(argv)
    if args.write:
        DEFAULTS_FILE.write_text(defaults_yaml(), encoding='utf-8')
        print(f'wrote {DEFAULTS_FILE}')
    else:
        sys.stdout.write('\n'.join(_describe()) + '\n')


if __name__ == '__main__':
    main()
