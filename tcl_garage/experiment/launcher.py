"""Build, run and resume an experiment from a resolved config.

Every launcher in ``experiments/`` goes through the command line of
:mod:`tcl_garage.experiment.cli` to :func:`run` or :func:`resume`, so all of
them share this one code path: config -> benchmark -> networks and
algorithm (:mod:`tcl_garage.experiment.build`,
:mod:`tcl_garage.experiment.build_baselines`) -> garage's ``Trainer``. A run
directory (:mod:`tcl_garage.experiment.rundir`) is never overwritten.

A process training in a run directory holds its lock
(:func:`~tcl_garage.experiment.rundir.locked`). A resume reads and checks
the snapshot before it writes anything: it refuses (:class:`ConfigError`) a
snapshot that is not the directory's run, a target below the epochs done,
and a ``progress.csv`` it cannot parse; it then rewrites ``progress.csv``
so that its rows end where the snapshot does (the snapshot holds its own
epoch's row, :mod:`tcl_garage.experiment.snapshots`), removes what
interrupted writes left, and trains on. A failure at run time (a signal, a
dead or silent worker, a full disk, a non-finite loss) comes out as
:class:`RunStopped`, which names the run directory and the epochs saved.
"""
import contextlib
import os
import pathlib
import sys
from typing import Any, Dict, Optional

from dowel import (CsvOutput, logger, StdOutput, tabular, TensorBoardOutput,
                   TextOutput)

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.config import ConfigError
from tcl_garage.experiment import rundir
from tcl_garage.experiment.machine import describe_machine
from tcl_garage.experiment.progress import (AtomicCsvOutput, ProgressLine,
                                            resumed_rows, read_rows,
                                            same_rows, TabularOutput,
                                            write_rows)
from tcl_garage.experiment.tracking import (check_installed, Tracking,
                                            WandbOutput)

#: Config keys a resume may change (--epochs): a snapshot whose config
#: differs from its directory's elsewhere is another run's.
RESUMABLE_KEYS = ('epochs', )


class RunStopped(RuntimeError):
    """A run stopped by a fault or a signal while it trained.

    Args:
        cause (BaseException): What stopped it.
        run_dir (str): The run directory.
        epochs_saved (int): Epochs its last snapshot holds (0: none).
        epochs (int): The epochs it was to train.

    """

    def __init__(self, cause: BaseException, run_dir: str,
                 epochs_saved: int, epochs: int) -> None:
        super().__init__(f'{type(cause).__name__}: {cause}')
        self.cause = cause
        self.run_dir = run_dir
        self.epochs_saved = epochs_saved
        self.epochs = epochs


class _LazyTensorBoardOutput(TabularOutput):
    """dowel's TensorBoard output, made at the first logged epoch: a resume
    that fails before that adds no events file.

    Args:
        log_dir (str): The run directory.

    """

    def __init__(self, log_dir: str) -> None:
        self._log_dir = log_dir
        self._output: Optional[TensorBoardOutput] = None

    def record(self, data, prefix=''):
        """Make the output if needed, then record.

        Args:
            data (TabularInput): The epoch's table.
            prefix (str): Passed on.

        """
        if self._output is None:
            self._output = TensorBoardOutput(self._log_dir)
        self._output.record(data, prefix)

    def dump(self, step=None):
        """Flush, once made.

        Args:
            step (int or None): Passed on.

        """
        if self._output is not None:
            self._output.dump(step)

    def close(self):
        """Close, once made."""
        if self._output is not None:
            self._output.close()


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


def check_benchmark(config: Dict[str, Any]) -> None:
    """Refuse settings the benchmark cannot take (a fixed episode length),
    by making its task samplers (no environment is kept, nothing written).

    Args:
        config (dict): Resolved config.

    Raises:
        ConfigError: ``max_episode_length=<value>: <the benchmark's
            rule>``.

    """
    try:
        rundir.benchmark_of(config)
    except ValueError as error:
        raise ConfigError(
            f'max_episode_length={config["max_episode_length"]}: {error}; '
            'leave it unset (null) for this benchmark') from None


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


def check_main_guard(config: Dict[str, Any]) -> None:
    """Stop, with one line, a run with worker processes started from a
    script's top level outside ``if __name__ == '__main__':`` (each worker
    would import the script again and start the run again,
    :func:`tcl_garage.sampling.env_slots.check_main_guard`), before
    anything is written.

    Args:
        config (dict): Resolved config.

    Raises:
        SystemExit: Status 2, after the line ``error: <script>, line <n>:
            ...`` on stderr.

    """
    from tcl_garage.experiment.settings import SETTINGS
    from tcl_garage.sampling.env_slots import (check_main_guard as check,
                                               starts_processes,
                                               UnguardedMainError)
    if config['algo'] not in SETTINGS['n_workers'].arguments or (
            not starts_processes(config['sampler'], config['n_workers'])):
        return
    try:
        check()
    except UnguardedMainError as error:
        print(f'error: {error}', file=sys.stderr)
        raise SystemExit(2) from None


def _trainer(config: Dict[str, Any], snapshot_config):
    """garage's Trainer for the config's algorithm, as a context manager;
    its snapshots hold the config.

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
        return make_trainer(snapshot_config, tensorflow=True, config=config)
    return contextlib.nullcontext(make_trainer(snapshot_config,
                                               config=config))


def _stopped(error: BaseException, trainer, run_dir: str, first_epoch: int,
             epochs: int) -> RunStopped:
    """The :class:`RunStopped` of a failure while training.

    Args:
        error (BaseException): The failure.
        trainer (garage.trainer.Trainer or None): The trainer.
        run_dir (str): The run directory.
        first_epoch (int): Epochs saved when this process started.
        epochs (int): Epochs to train.

    Returns:
        RunStopped: Naming the epochs saved.

    """
    from tcl_garage.experiment.snapshots import snapshotter_of
    saved = None if trainer is None else snapshotter_of(trainer).saved_epochs
    return RunStopped(error, run_dir, first_epoch if saved is None else saved,
                      epochs)


#: Failures at run time that :class:`RunStopped` reports.
RUN_TIME_FAULTS = (KeyboardInterrupt, OSError, RuntimeError, MemoryError)


def is_run_time_fault(error: BaseException, training: bool) -> bool:
    """Whether a failure is a fault at run time (exit 1, with the resume
    command) rather than bad input (exit 2, nothing written).

    Args:
        error (BaseException): The failure.
        training (bool): Training had started (the trainer was set up):
            from then on every error but a config's is a fault of the run.

    Returns:
        bool: A fault at run time.

    """
    if isinstance(error, (ConfigError, rundir.RunDirLockedError)):
        return False
    return isinstance(error, RUN_TIME_FAULTS) or (
        training and isinstance(error, Exception))


def check_log_dir(log_dir: str) -> None:
    """Refuse a run directory that cannot be made: under a file.

    Args:
        log_dir (str): The run directory (absolute).

    Raises:
        ConfigError: Naming the file in the way.

    """
    for parent in [log_dir] + [str(p) for p in
                               pathlib.Path(log_dir).parents]:
        if os.path.exists(parent):
            if not os.path.isdir(parent):
                raise ConfigError(f'log_dir={log_dir}: {parent} is a file, '
                                  'not a folder; give a --log-dir outside '
                                  'it')
            return


def check_tracking(tracking: Optional[Tracking]) -> None:
    """Fail early, with the install command, when tracking is asked for
    and W&B is not installed.

    Args:
        tracking (Tracking or None): The run's tracking (None: none).

    Raises:
        ConfigError: Naming the command that installs the extra.

    """
    if tracking is not None:
        try:
            check_installed()
        except ImportError as error:
            raise ConfigError(str(error)) from None


def _train(trainer_setup, config: Dict[str, Any], run_dir: str,
           start_epoch: int, tracking: Optional[Tracking] = None,
           quiet: bool = False) -> None:
    """Record the machine of this start, attach the progress line (and the
    W&B output of a tracked run), then train or resume.

    Args:
        trainer_setup (callable): Returns the Trainer, set up.
        config (dict): Resolved config.
        run_dir (str): The run directory.
        start_epoch (int): First epoch this process trains.
        tracking (Tracking or None): Where to track the run (None: not).
        quiet (bool): Keep W&B's messages off the terminal.

    """
    from garage.torch import global_device
    rundir.append_machine(run_dir, describe_machine(global_device(),
                                                    start_epoch,
                                                    config['epochs']))
    progress = ProgressLine(config['epochs'], start_epoch)
    logger.add_output(progress)
    tracked = None
    trained = False
    try:
        if tracking is not None:
            tracked = WandbOutput(tracking, config, run_dir,
                                  rundir.read_machines(run_dir), quiet)
            logger.add_output(tracked)
        trainer_setup()
        trained = True
    finally:
        logger.remove_output_type(ProgressLine)
        if tracked is not None:
            logger.remove_output_type(WandbOutput)
            tracked.close(exit_code=0 if trained else 1)


def run(config: Dict[str, Any],
        log_dir: Optional[str] = None,
        quiet: bool = False,
        tracking: Optional[Tracking] = None) -> str:
    """Train a new run through garage's ``wrap_experiment``.

    Args:
        config (dict): Resolved config.
        log_dir (str or None): Run directory; default
            :func:`~tcl_garage.experiment.rundir.default_run_dir`. If it
            exists, a new one with a numbered
            suffix is made (nothing is overwritten).
        quiet (bool): Print only the progress line of each epoch (dowel's
            tables and messages still go to ``debug.log``).
        tracking (Tracking or None): Also send the rows, config and
            machine to Weights & Biases
            (:mod:`tcl_garage.experiment.tracking`); None: not.

    Returns:
        str: The run directory actually used.

    """
    from garage import wrap_experiment
    from garage.experiment.deterministic import set_seed

    from tcl_garage.experiment.resources import check_resources
    check_algorithm_installed(config)
    check_tracking(tracking)
    check_resources(config)
    check_benchmark(config)
    check_main_guard(config)
    tabular.clear()  # nothing of an earlier run in this process

    log_dir = os.path.abspath(log_dir or rundir.default_run_dir(
        config['benchmark'], config['algo'], config['seed']))
    check_log_dir(log_dir)
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
        # garage's CSV output appends and rewrites in place: ours instead.
        logger.remove_output_type(CsvOutput)
        logger.add_output(AtomicCsvOutput(
            os.path.join(ctxt.snapshot_dir, rundir.PROGRESS)))
        set_seed(config['seed'])
        with rundir.locked(ctxt.snapshot_dir), \
                _trainer(config, ctxt) as trainer:
            used['trainer'] = trainer
            built, _ = build_run(config)

            def train():
                used['training'] = True
                trainer.setup(algo=built.algo, env=built.env)
                trainer.train(n_epochs=config['epochs'],
                              batch_size=built.batch_size)

            _train(train, config, ctxt.snapshot_dir, start_epoch=0,
                   tracking=tracking, quiet=quiet)

    try:
        # A registered benchmark's module goes into variant.json, so that
        # --resume and the analysis import it in a new process.
        tcl_garage_experiment(config=config,
                              **rundir.benchmark_module_entry(config))
    except BaseException as error:  # pylint: disable=broad-except
        if 'dir' not in used or not is_run_time_fault(
                error, used.get('training', False)):
            raise
        raise _stopped(error, used.get('trainer'), used['dir'], 0,
                       config['epochs']) from error
    finally:
        # garage removes its log outputs only when the run succeeds; drop
        # them now, so they close here and not at interpreter exit.
        logger.remove_all()
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


def _check_snapshot(run_dir: str, config: Dict[str, Any],
                    snapshot: Dict[str, Any]) -> None:
    """Refuse a snapshot that is not the directory's run.

    Args:
        run_dir (str): The run directory.
        config (dict): Its config (``variant.json``).
        snapshot (dict): Its snapshot.

    Raises:
        ConfigError: Naming the first setting that differs.

    """
    from tcl_garage.experiment.snapshots import CONFIG_KEY
    saved = snapshot.get(CONFIG_KEY)
    if saved is None:  # written before snapshots held their config
        return
    for key in sorted(set(saved) | set(config)):
        if key not in RESUMABLE_KEYS and saved.get(key) != config.get(key):
            raise ConfigError(
                f'{run_dir}: its {rundir.SNAPSHOT} is a snapshot of another '
                f'run ({saved.get("benchmark")} {saved.get("algo")} seed '
                f'{saved.get("seed")}; {key}={saved.get(key)!r}, not '
                f'{config.get(key)!r} as in {rundir.VARIANT}); put back '
                'this run\'s own snapshot, or start a new run')


def resume(run_dir: str,
           epochs: Optional[int] = None,
           quiet: bool = False,
           tracking: Optional[Tracking] = None) -> str:
    """Continue a run from its last snapshot, in the same directory.

    ``progress.csv`` keeps its rows up to the snapshot's epoch;
    ``debug.log`` is appended to. A run whose epochs are all done is left
    as it is (its rows completed from the snapshot if a kill lost the last
    one), with one line saying so. A tracked run stays tracked, in the
    same W&B run.

    Args:
        run_dir (str): The run directory.
        epochs (int or None): Total epochs; default the snapshot's target.
        quiet (bool): Print only the progress line of each epoch.
        tracking (Tracking or None): Track it from now on (a run tracked
            before continues its W&B run without it).

    Returns:
        str: The run directory.

    Raises:
        ConfigError: For a directory, snapshot, progress file or epoch
            count that cannot be resumed; nothing is written then.
        RunStopped: For a failure while training.

    """
    from garage.experiment import SnapshotConfig

    from tcl_garage.experiment.devices import use_device
    from tcl_garage.experiment.snapshots import (load_snapshot,
                                                 remove_temporary_files,
                                                 ROW_KEY, snapshotter_of)

    config = read_run_config(run_dir)
    if tracking is None and os.path.isfile(os.path.join(run_dir,
                                                        rundir.TRACKING)):
        tracking = Tracking()
    check_algorithm_installed(config)
    check_tracking(tracking)
    check_main_guard(config)
    use_device(config['device'])
    run_dir = os.path.abspath(run_dir)
    progress_path = os.path.join(run_dir, rundir.PROGRESS)
    tabular.clear()  # nothing of an earlier run in this process
    snapshot_config = SnapshotConfig(snapshot_dir=run_dir,
                                     snapshot_mode='last',
                                     snapshot_gap=1)
    trainer, saved, training = None, 0, False
    try:
        with rundir.locked(run_dir), _trainer(config,
                                              snapshot_config) as trainer:
            snapshot = load_snapshot(os.path.join(run_dir, rundir.SNAPSHOT))
            _check_snapshot(run_dir, config, snapshot)
            saved = snapshot['stats'].total_epoch + 1
            target = (snapshot['train_args'].n_epochs if epochs is None
                      else epochs)
            if target < saved:
                raise ConfigError(
                    f'epochs={target}: {run_dir} has done {saved} epochs; '
                    f'give --epochs {saved + 1} or more to train on')
            rows = resumed_rows(progress_path, saved, snapshot.get(ROW_KEY))
            remove_temporary_files(run_dir)
            if not same_rows(rows, read_rows(progress_path)):
                write_rows(progress_path, rows)
            if target == saved:
                print(f'{run_dir}: all {saved} epochs are done; nothing to '
                      f'resume (give --epochs {saved + 1} or more to train '
                      'on)')
                return run_dir
            config['epochs'] = target
            outputs = [
                TextOutput(os.path.join(run_dir, 'debug.log')),
                AtomicCsvOutput(progress_path, rows),
                _LazyTensorBoardOutput(run_dir)
            ] + ([] if quiet else [StdOutput()])
            for output in outputs:
                logger.add_output(output)
            snapshotter_of(trainer).use_loaded(snapshot)
            del snapshot
            train_args = trainer.restore(run_dir)
            # pylint: disable=protected-access
            if hasattr(trainer._algo, 'to'):  # garage's MAML and RL2: no
                trainer._algo.to()  # onto this run's device
            logger.log(f'Resuming {run_dir} at epoch '
                       f'{train_args.start_epoch}')
            training = True
            _train(lambda: trainer.resume(n_epochs=target),
                   config, run_dir,
                   start_epoch=train_args.start_epoch, tracking=tracking,
                   quiet=quiet)
    except BaseException as error:  # pylint: disable=broad-except
        if not is_run_time_fault(error, training):
            raise
        raise _stopped(error, trainer, run_dir, saved,
                       epochs or config['epochs']) from error
    finally:
        logger.remove_all()
    return run_dir
