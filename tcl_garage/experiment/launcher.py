"""Build, run and resume an experiment from a resolved config.

Every launcher in ``experiments/`` goes through the command line of
:mod:`tcl_garage.experiment.cli` to :func:`run` or :func:`resume`, so all of
them share this one code path: config -> benchmark -> networks and
algorithm (:mod:`tcl_garage.experiment.build`,
:mod:`tcl_garage.experiment.build_baselines`) -> garage's ``Trainer``. A run
directory (:mod:`tcl_garage.experiment.rundir`) is never overwritten.
"""
import contextlib
import os
import sys
from typing import Any, Dict, Optional

from dowel import logger, StdOutput, tabular, TensorBoardOutput, TextOutput

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.config import ConfigError
from tcl_garage.experiment import rundir
from tcl_garage.experiment.machine import describe_machine
from tcl_garage.experiment.progress import ProgressLine, ResumableCsvOutput


def build_run(config: Dict[str, Any]):
    """Build the benchmark and the algorithm of a config.

    Args:
        config (dict): Resolved config (:func:`load_config`).

    Returns:
        tuple: The :class:`~tcl_garage.experiment.algorithms.BuiltRun`
            (algorithm, environment, ``batch_size`` for ``Trainer.train``)
            and the :class:`~tcl_garage.envs.Benchmark`.

    """
    benchmark = rundir.benchmark_of(config)
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


def _train(trainer_setup, config: Dict[str, Any], run_dir: str,
           start_epoch: int) -> None:
    """Record the machine of this start, attach the progress line, then
    train or resume.

    Args:
        trainer_setup (callable): Returns the Trainer, set up.
        config (dict): Resolved config.
        run_dir (str): The run directory.
        start_epoch (int): First epoch this process trains.

    """
    from garage.torch import global_device
    rundir.append_machine(run_dir, describe_machine(global_device(),
                                                    start_epoch))
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
    def tcl_garage_experiment(ctxt, config, benchmark_module=None):
        del benchmark_module  # recorded in variant.json for --resume
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

            _train(train, config, ctxt.snapshot_dir, start_epoch=0)

    try:
        # A registered benchmark's module goes into variant.json, so that
        # --resume and the analysis import it in a new process.
        tcl_garage_experiment(config=config,
                              **rundir.benchmark_module_entry(config))
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

    from tcl_garage.experiment.devices import use_device
    from tcl_garage.experiment.snapshots import moved_modules

    config = read_run_config(run_dir)
    if epochs is not None:
        config['epochs'] = epochs
    check_algorithm_installed(config)
    use_device(config['device'])
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
            with moved_modules():  # snapshots of tcl_garage 0.1
                train_args = trainer.restore(run_dir)
            csv_output.keep_rows(train_args.start_epoch)
            # pylint: disable=protected-access
            if hasattr(trainer._algo, 'to'):  # garage's MAML and RL2: no
                trainer._algo.to()  # onto this run's device
            logger.log(f'Resuming {run_dir} at epoch '
                       f'{train_args.start_epoch}')
            _train(lambda: trainer.resume(n_epochs=config['epochs']),
                   config, run_dir,
                   start_epoch=train_args.start_epoch)
    finally:
        logger.remove_all()
    return run_dir
