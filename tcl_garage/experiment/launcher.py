"""Build and run an experiment from a resolved config; the launchers' CLI.

Every launcher in ``experiments/`` calls :func:`main` with its benchmark, so
all of them share this one code path: config -> benchmark -> networks and
algorithm (:mod:`tcl_garage.build`, :mod:`tcl_garage.build_baselines`) ->
garage's ``Trainer``.
A run directory (:mod:`tcl_garage.experiment.rundir`) is never overwritten.
"""
import argparse
import contextlib
import os
import sys
import time
import warnings
from typing import Any, Dict, Optional, Sequence

from dowel import logger, StdOutput, tabular, TensorBoardOutput, TextOutput

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.config import (ConfigError, load_config,
                                          parse_overrides)
from tcl_garage.experiment import rundir
from tcl_garage.experiment.progress import ProgressLine, ResumableCsvOutput


def benchmark_of(config: Dict[str, Any]):
    """The benchmark of a config: its tasks, split by the config's seed.

    Args:
        config (dict): Resolved config.

    Returns:
        tcl_garage.envs.Benchmark: The benchmark.

    """
    from tcl_garage.envs import make_benchmark
    return make_benchmark(
        config['benchmark'],
        seed=config['seed'],
        max_episode_length=config['max_episode_length'],
        reward_function_version=config['reward_function_version'])


def build_run(config: Dict[str, Any]):
    """Build the benchmark and the algorithm of a config.

    Args:
        config (dict): Resolved config (:func:`load_config`).

    Returns:
        tuple: The :class:`~tcl_garage.experiment.algorithms.BuiltRun`
            (algorithm, environment, ``batch_size`` for ``Trainer.train``)
            and the :class:`~tcl_garage.envs.Benchmark`.

    """
    benchmark = benchmark_of(config)
    # Checked by load_config: at most the benchmark's counts.
    n_train = config['num_train_tasks'] or benchmark.num_train_tasks
    n_test = config['num_test_tasks'] or benchmark.num_test_tasks
    built = ALGORITHMS[config['algo']].build(config, benchmark, n_train,
                                             n_test)
    return built, benchmark


def check_algorithm_installed(config: Dict[str, Any]) -> None:
    """Fail early, with the install command, when something the config's
    algorithm needs is not installed (rl2-ppo without TensorFlow).

    Args:
        config (dict): Resolved config.

    Raises:
        ConfigError: Naming the command that installs what is missing.

    """
    requirement = ALGORITHMS[config['algo']].requirement
    if requirement is not None:
        try:
            requirement()
        except ImportError as error:
            raise ConfigError(str(error)) from None


def _trainer(config: Dict[str, Any], snapshot_config):
    """garage's Trainer for the config's algorithm, as a context manager.

    Args:
        config (dict): Resolved config.
        snapshot_config (garage.experiment.SnapshotConfig): Snapshots.

    Returns:
        contextlib.AbstractContextManager: Gives the trainer: a
            ``TFTrainer`` (its TensorFlow session open) for rl2-ppo, else a
            ``Trainer``.

    """
    from tcl_garage.experiment.snapshots import make_trainer
    if ALGORITHMS[config['algo']].tensorflow:  # its session opens on enter
        return make_trainer(snapshot_config, tensorflow=True)
    return contextlib.nullcontext(make_trainer(snapshot_config))


def _train(trainer_setup, config: Dict[str, Any], start_epoch: int) -> None:
    """Attach the progress line, then train or resume.

    Args:
        trainer_setup (callable): Returns the Trainer, set up.
        config (dict): Resolved config.
        start_epoch (int): First epoch this process trains.

    """
    progress = ProgressLine(config['epochs'], start_epoch)
    logger.add_output(progress)
    try:
        trainer_setup()
    finally:
        logger.remove_output_type(ProgressLine)


def run(config: Dict[str, Any],
        log_dir: Optional[str] = None,
        quiet: bool = False) -> str:
    """Train a new run through garage's ``wrap_experiment``.

    Args:
        config (dict): Resolved config.
        log_dir (str or None): Run directory; default
            :func:`~tcl_garage.experiment.rundir.default_run_dir`. If it
            exists, a new one with a numbered
            suffix is made (nothing is overwritten).
        quiet (bool): Print only the progress line of each epoch (dowel's
            tables and messages still go to ``debug.log``).

    Returns:
        str: The run directory actually used.

    """
    from garage import wrap_experiment
    from garage.experiment.deterministic import set_seed

    check_algorithm_installed(config)
    tabular.clear()  # nothing of an earlier run in this process

    log_dir = os.path.abspath(log_dir or rundir.default_run_dir(
        config['benchmark'], config['algo'], config['seed']))
    if os.path.exists(log_dir):
        print(f'{log_dir} exists: this run gets a new directory beside it '
              '(use --resume DIR to continue that run)', file=sys.stderr)
    used = {}

    @wrap_experiment(log_dir=log_dir,
                     snapshot_mode='last',
                     archive_launch_repo=False)
    def tcl_garage_experiment(ctxt, config):
        used['dir'] = ctxt.snapshot_dir
        if quiet:
            logger.remove_output_type(StdOutput)
        set_seed(config['seed'])
        with _trainer(config, ctxt) as trainer:
            built, _ = build_run(config)

            def train():
                trainer.setup(algo=built.algo, env=built.env)
                trainer.train(n_epochs=config['epochs'],
                              batch_size=built.batch_size)

            _train(train, config, start_epoch=0)

    try:
        tcl_garage_experiment(config=config)
    except BaseException:
        # garage removes its log outputs only when the run succeeds; drop
        # them now, so they close here and not at interpreter exit.
        logger.remove_all()
        raise
    return used['dir']


def read_run_config(run_dir: str) -> Dict[str, Any]:
    """The config of the run to resume in ``run_dir``.

    Args:
        run_dir (str): The run directory.

    Returns:
        dict: Its config.

    Raises:
        ConfigError: If it is not a run directory of this package.

    """
    if not rundir.is_resumable(run_dir):
        raise ConfigError(f'resume={run_dir}: not a run directory (it needs '
                          f'{rundir.VARIANT} and {rundir.SNAPSHOT}); give the '
                          'directory of a run')
    try:
        return rundir.read_config(run_dir)
    except ValueError as error:
        raise ConfigError(f'resume={run_dir}: {error}; give the directory '
                          'of a tcl_garage run') from None


def resume(run_dir: str,
           epochs: Optional[int] = None,
           quiet: bool = False) -> str:
    """Continue a run from its last snapshot, in the same directory.

    ``progress.csv`` keeps its rows; ``debug.log`` is appended to.

    Args:
        run_dir (str): The run directory.
        epochs (int or None): Total epochs; default the run's own.
        quiet (bool): Print only the progress line of each epoch.

    Returns:
        str: The run directory.

    """
    from garage.experiment import SnapshotConfig
    from garage.torch import set_gpu_mode

    from tcl_garage.build import resolve_device

    config = read_run_config(run_dir)
    if epochs is not None:
        config['epochs'] = epochs
    check_algorithm_installed(config)
    use_gpu, gpu_id = resolve_device(config['device'])
    set_gpu_mode(use_gpu, gpu_id=gpu_id)
    run_dir = os.path.abspath(run_dir)
    tabular.clear()  # nothing of an earlier run in this process
    csv_output = ResumableCsvOutput(os.path.join(run_dir, rundir.PROGRESS))
    outputs = [
        TextOutput(os.path.join(run_dir, 'debug.log')), csv_output,
        TensorBoardOutput(run_dir)
    ] + ([] if quiet else [StdOutput()])
    for output in outputs:
        logger.add_output(output)
    snapshot_config = SnapshotConfig(snapshot_dir=run_dir,
                                     snapshot_mode='last',
                                     snapshot_gap=1)
    try:
        with _trainer(config, snapshot_config) as trainer:
            train_args = trainer.restore(run_dir)
            csv_output.keep_rows(train_args.start_epoch)
            # pylint: disable=protected-access
            if hasattr(trainer._algo, 'to'):  # garage's MAML and RL2: no
                trainer._algo.to()  # onto this run's device
            logger.log(f'Resuming {run_dir} at epoch '
                       f'{train_args.start_epoch}')
            _train(lambda: trainer.resume(n_epochs=config['epochs']),
                   config,
                   start_epoch=train_args.start_epoch)
    finally:
        logger.remove_all()
    return run_dir


def parse_args(argv: Optional[Sequence[str]], benchmark: Optional[str]):
    """The experiment command line.

    Args:
        argv (Sequence[str] or None): Arguments (default ``sys.argv[1:]``).
        benchmark (str or None): The launcher's benchmark; ``'ml1'`` takes
            the environment from ``--env``; None takes the benchmark as the
            first argument (``python -m tcl_garage.experiment``).

    Returns:
        argparse.Namespace: Parsed arguments.

    """
    parser = _OneLineParser(
        prog=None if benchmark else 'python -m tcl_garage.experiment',
        description=(
            'Train TCL-PEARL or a baseline on a Meta-World ML1 environment.'
            if benchmark == 'ml1' else
            f'Train TCL-PEARL or a baseline on {benchmark}.' if benchmark
            else 'Train TCL-PEARL or a baseline on a benchmark (or resume a '
            'run with --resume DIR).'))
    if benchmark == 'ml1':
        parser.add_argument('--env', required=True,
                            help='Meta-World v3 name, e.g. push-v3')
    elif benchmark is None:
        from tcl_garage.envs import BENCHMARK_NAMES
        parser.add_argument(
            'benchmark', nargs='?',
            help=f'one of {", ".join(BENCHMARK_NAMES)} (e.g. ml1/push-v3)')
    parser.add_argument('--algo', choices=ALGORITHMS)
    parser.add_argument('--seed', type=int)
    parser.add_argument('--device', help='cpu, cuda or cuda:<index>')
    parser.add_argument('--sampler', choices=['local', 'ray'])
    parser.add_argument('--n-workers', type=int,
                        help='environment workers: local 0 = this process, '
                        'N = N worker processes; ray: N Ray workers')
    parser.add_argument('--ray-address',
                        help='join this Ray cluster (implies --sampler ray)')
    parser.add_argument('--log-dir', help='run directory (never '
                        'overwritten; default runs/<benchmark>/<algo>/'
                        'seed<seed>)')
    parser.add_argument('--resume', metavar='DIR',
                        help='continue the run in DIR from its last snapshot')
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--smoke', action='store_true',
                        help='tiny sizes: finishes in seconds')
    parser.add_argument('--profile', help='a profile of configs/profiles')
    parser.add_argument('--quiet', action='store_true',
                        help="print only each epoch's progress line (the "
                        'full tables stay in debug.log)')
    parser.add_argument('--set', action='append', default=[],
                        metavar='KEY=VALUE', help='override a config key '
                        '(repeatable), e.g. --set window_size=32')
    return parser.parse_args(argv)


def fail(message: str, status: int = 2) -> None:
    """Stop with one line on stderr: ``error: <message>``.

    Args:
        message (str): What is wrong and what to do.
        status (int): Exit status (2: bad input).

    Raises:
        SystemExit: Always.

    """
    print(f'error: {message}', file=sys.stderr)
    raise SystemExit(status)


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one ``error:`` line, exit status 2."""

    def error(self, message):
        fail(f'{message}; see --help')


#: Options that change a run's config: --resume continues a run as it was.
_CONFIG_OPTIONS = ('algo', 'seed', 'device', 'sampler', 'n_workers',
                   'ray_address', 'log_dir', 'profile')


def _resume_from_command_line(args) -> str:
    """Resume the run of ``--resume``, after checking the options.

    Args:
        args (argparse.Namespace): Parsed options.

    Returns:
        str: The run directory.

    Raises:
        ConfigError: For options a resumed run cannot take, or a directory
            that is not a run.

    """
    config = read_run_config(args.resume)
    if args.algo is not None and args.algo != config['algo']:
        raise ConfigError(f'algo={args.algo}: {args.resume} is a '
                          f'{config["algo"]} run; resume it without --algo')
    changed = [name for name in _CONFIG_OPTIONS + ('benchmark', )
               if getattr(args, name, None) is not None]
    if args.set or args.smoke or changed:
        option = (changed[0].replace('_', '-') if changed else
                  'set' if args.set else 'smoke')
        raise ConfigError(f'--{option}: a resumed run keeps its own config; '
                          'resume with --epochs alone, or start a new run')
    if args.epochs is not None and args.epochs < 1:
        raise ConfigError(f'epochs={args.epochs}: must be >= 1; give the '
                          'total number of epochs')
    return resume(args.resume, epochs=args.epochs, quiet=args.quiet)


def _config_from_command_line(args, benchmark: Optional[str]):
    """The resolved, checked config of a new run's command line.

    Args:
        args (argparse.Namespace): Parsed options.
        benchmark (str or None): The launcher's benchmark; None for ML1.

    Returns:
        dict: The config.

    Raises:
        ConfigError: For a bad setting.
        ValueError: For a bad device or ML1 name.

    """
    overrides = parse_overrides(args.set)
    for key in ('algo', 'seed', 'device', 'sampler', 'n_workers', 'epochs'):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.ray_address:
        overrides['sampler'] = 'ray'
    if args.smoke and args.profile:
        raise ConfigError('--smoke and --profile: give one of them')
    if benchmark == 'ml1':
        name = f'ml1/{args.env}'
    else:
        name = benchmark or args.benchmark
    if name is None:
        from tcl_garage.envs import BENCHMARK_NAMES
        raise ConfigError('benchmark: missing; give one of '
                          f'{", ".join(BENCHMARK_NAMES)}, or --resume DIR')
    if name.startswith('ml1/'):
        from tcl_garage.envs.metaworld_ml1 import check_env_name
        check_env_name(name[len('ml1/'):])
    config = load_config(name,
                         profile='smoke' if args.smoke else args.profile,
                         overrides=overrides)
    from tcl_garage.build import resolve_device
    resolve_device(config['device'])
    return config


def main(benchmark: Optional[str] = None,
         argv: Optional[Sequence[str]] = None) -> str:
    """Run (or resume) one experiment from the command line.

    Args:
        benchmark (str or None): The launcher's benchmark; ``'ml1'`` reads
            ``--env``; None reads it as the first argument.
        argv (Sequence[str] or None): Arguments.

    Returns:
        str: The run directory.

    """
    args = parse_args(argv, benchmark)
    if args.quiet:  # garage's notices that every run repeats
        warnings.filterwarnings('ignore', category=UserWarning,
                                module=r'garage\.')
    try:
        if args.resume:
            return _resume_from_command_line(args)
        config = _config_from_command_line(args, benchmark)
    except (ConfigError, ValueError) as error:
        fail(str(error))
    if args.ray_address:
        from tcl_garage.garage_compat import ray_init
        ray_init(address=args.ray_address)
    from tcl_garage.algos.pearl import NonFiniteLossError  # loads garage
    start = time.time()
    try:
        run_dir = run(config, args.log_dir, quiet=args.quiet)
    except ConfigError as error:
        fail(str(error))
    except NonFiniteLossError as error:
        fail(f'{error}; the last good snapshot (if any) is kept in the '
             'run directory: lower the learning rates or reward_scale',
             status=1)
    print(f'Finished in {time.time() - start:.0f} s; outputs in {run_dir}')
    return run_dir

