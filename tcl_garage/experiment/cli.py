"""The experiment command line: ``python -m tcl_garage.experiment`` and the
launchers of ``experiments/``.

Parses the options, resolves and checks the config, then trains or resumes
through :mod:`tcl_garage.experiment.launcher`. Every failure is one
``error:`` line on stderr naming what happened and what to do: exit status
2 for bad input (nothing is written), 1 for a fault at run time (Ctrl-C,
SIGTERM, a dead or silent worker, a full disk, a non-finite loss; the line
gives the epochs saved and the ``--resume`` command). The full traceback
comes only when ``TCL_GARAGE_TRACEBACK=1``
(:data:`~tcl_garage.experiment.faults.TRACEBACK_VARIABLE`) is set.
"""
import argparse
import errno
import os
import shlex
import signal
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

import yaml

from tcl_garage.experiment.algorithms import ALGORITHMS
from tcl_garage.experiment.config import (ConfigError, load_config,
                                          parse_overrides)
from tcl_garage.experiment.faults import want_traceback
from tcl_garage.experiment.launcher import (read_run_config, resume, run,
                                            RunStopped)
from tcl_garage.experiment.settings import SETTINGS
from tcl_garage.experiment.tracking import Tracking
from tcl_garage.sampling.env_slots import (
    end_with_parent_named_in_environment, worker_timeout)

#: Exit status of bad input (nothing was written).
BAD_INPUT = 2
#: Exit status of a fault at run time.
RUN_TIME_FAULT = 1


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
        from tcl_garage.envs import benchmark_names
        parser.add_argument(
            'benchmark', nargs='?',
            help=f'one of {", ".join(benchmark_names())} (e.g. ml1/push-v3)'
            ', or one registered by a module of $TCL_GARAGE_BENCHMARKS')
    parser.add_argument('--algo', choices=ALGORITHMS)
    parser.add_argument('--seed', type=int)
    parser.add_argument('--device', help='cpu, cuda or cuda:<index>')
    parser.add_argument('--sampler', choices=SETTINGS['sampler'].choices)
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
    add_config_options(parser, resume=True)
    parser.add_argument('--quiet', action='store_true',
                        help="print only each epoch's progress line (the "
                        'full tables stay in debug.log)')
    parser.add_argument('--track', action='store_true',
                        help='also send every logged scalar, the config and '
                        'the machine to Weights & Biases (pip install '
                        "'tcl_garage[wandb]'); a tracked run's --resume "
                        'continues its W&B run')
    parser.add_argument('--wandb-project', metavar='PROJECT',
                        help="with --track: the W&B project (default: W&B's,"
                        ' $WANDB_PROJECT)')
    parser.add_argument('--wandb-run-name', metavar='NAME',
                        help='with --track: the W&B run name (default: '
                        '<benchmark>/<algo>/seed<seed>)')
    return parser.parse_args(argv)


def tracking_of(args: argparse.Namespace) -> Optional[Tracking]:
    """The tracking the options ask for.

    Args:
        args (argparse.Namespace): Parsed options.

    Returns:
        Tracking or None: None without ``--track``.

    Raises:
        ConfigError: For a W&B option without ``--track``.

    """
    if not args.track:
        for option in ('wandb_project', 'wandb_run_name'):
            if getattr(args, option) is not None:
                raise ConfigError(f'--{option.replace("_", "-")}: it names '
                                  'where --track sends the run; add --track')
        return None
    return Tracking(project=args.wandb_project, name=args.wandb_run_name)


def add_config_options(parser: argparse.ArgumentParser,
                       resume: bool = False) -> None:
    """Add the options that shape a new run's config: ``--epochs``,
    ``--smoke``, ``--profile`` and ``--set`` (the launchers' and the
    sweep's).

    Args:
        parser (argparse.ArgumentParser): The parser.
        resume (bool): The parser also resumes runs (``--epochs`` then
            extends one).

    """
    epochs = SETTINGS['epochs']
    parser.add_argument(
        '--epochs', type=int,
        help=f"{epochs.doc} (default {epochs.default}, or the profile's"
        + ('; with --resume, the total to train to)' if resume else ')'))
    parser.add_argument('--smoke', action='store_true',
                        help='tiny sizes: finishes in seconds (the smoke '
                        'profile)')
    parser.add_argument('--profile', help='a profile of configs/profiles '
                        '(smoke, demo, cpu-hour, or your own)')
    parser.add_argument('--set', action='append', default=[],
                        metavar='KEY=VALUE', help='override a config key '
                        '(repeatable), e.g. --set window_size=32; the keys '
                        'are those of configs/defaults.yaml')


def config_options(args: argparse.Namespace) -> List[str]:
    """The options of :func:`add_config_options` given, as arguments of a
    launcher's command line.

    Args:
        args (argparse.Namespace): Parsed options.

    Returns:
        list[str]: E.g. ``['--profile', 'smoke', '--set', 'seed=1']``.

    """
    return ([] if args.epochs is None else ['--epochs', str(args.epochs)]) + (
        ['--smoke'] if args.smoke else []) + (
            [] if args.profile is None else ['--profile', args.profile]) + [
                item for pair in args.set for item in ('--set', pair)]


def check_command_line(argv: Sequence[str]) -> Dict[str, Any]:
    """The config a new run's command line (``python -m
    tcl_garage.experiment ARGV``) resolves to, checked; nothing runs.

    Args:
        argv (Sequence[str]): Its arguments.

    Returns:
        dict: The resolved config.

    Raises:
        ConfigError: For a bad setting.
        ValueError: For a bad device or ML1 name.
        SystemExit: For options it does not take (one ``error:`` line).

    """
    return _config_from_command_line(parse_args(argv, None), None)


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


def _resume_from_command_line(args, benchmark: Optional[str]) -> str:
    """Resume the run of ``--resume``, after checking the options.

    Args:
        args (argparse.Namespace): Parsed options.
        benchmark (str or None): The launcher's benchmark (``'ml1'``: any
            ML1 environment; None: any).

    Returns:
        str: The run directory.

    Raises:
        ConfigError: For options a resumed run cannot take, or a directory
            that is not a run.

    """
    config = read_run_config(args.resume)
    family = config['benchmark'].split('/')[0]
    if benchmark is not None and benchmark != family:
        raise ConfigError(
            f'resume={args.resume}: it is a {config["benchmark"]} run, and '
            f'this launcher trains {benchmark}; resume it with python -m '
            f'tcl_garage.experiment --resume {args.resume}')
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
    return resume(args.resume, epochs=args.epochs, quiet=args.quiet,
                  tracking=tracking_of(args))


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
        from tcl_garage.envs import benchmark_names
        raise ConfigError('benchmark: missing; give one of '
                          f'{", ".join(benchmark_names())}, or --resume DIR')
    if name.startswith('ml1/'):
        from tcl_garage.envs.metaworld_ml1 import check_env_name
        check_env_name(name[len('ml1/'):])
    config = load_config(name,
                         profile='smoke' if args.smoke else args.profile,
                         overrides=overrides)
    from tcl_garage.experiment.devices import check_device
    check_device(config['device'])
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
    end_with_parent_named_in_environment()  # a Ray sweep task's launcher
    args = parse_args(argv, benchmark)
    previous = (signal.signal(signal.SIGTERM, _terminated)
                if threading.current_thread() is threading.main_thread()
                else None)
    try:
        return _main(args, benchmark)
    except SystemExit:
        raise
    except (ConfigError, ValueError) as error:
        if want_traceback():
            raise
        fail(_one_line(error))
    except yaml.YAMLError as error:
        if want_traceback():
            raise
        fail(f'not valid YAML: {_one_line(error)}; fix the value (--set '
             'takes key=<YAML value>) or the profile')
    except RunStopped as stopped:
        if want_traceback():
            raise
        fail(_stopped_message(stopped), status=RUN_TIME_FAULT)
    except BaseException as error:  # pylint: disable=broad-except
        if want_traceback() or not isinstance(error, Exception) and (
                not isinstance(error, KeyboardInterrupt)):
            raise
        if isinstance(error, KeyboardInterrupt):
            how = (_one_line(error) if isinstance(error, Terminated) else
                   'Ctrl-C')
            fail(f'stopped ({how}) before training started; nothing was '
                 'saved',
                 status=RUN_TIME_FAULT)
        fail(f'{type(error).__name__}: {_one_line(error)}; set '
             'TCL_GARAGE_TRACEBACK=1 for the traceback',
             status=RUN_TIME_FAULT)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return ''


def _main(args, benchmark: Optional[str]) -> str:
    """Check the command line, then run or resume.

    Args:
        args (argparse.Namespace): Parsed options.
        benchmark (str or None): The launcher's benchmark.

    Returns:
        str: The run directory.

    """
    start = time.time()
    worker_timeout()  # a bad TCL_GARAGE_WORKER_TIMEOUT: refused before a run
    if args.resume:
        return _resume_from_command_line(args, benchmark)
    config = _config_from_command_line(args, benchmark)
    tracking = tracking_of(args)
    if args.ray_address:
        from tcl_garage.garage_compat import ray_init
        ray_init(address=args.ray_address)
    run_dir = run(config, args.log_dir, quiet=args.quiet, tracking=tracking)
    print(f'Finished in {time.time() - start:.0f} s; outputs in {run_dir}')
    return run_dir


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception that unwinds the run (its workers
    closed, its outputs flushed) as Ctrl-C does."""


def _terminated(signum, frame) -> None:
    """The SIGTERM handler.

    Args:
        signum (int): The signal.
        frame (frame): Unused.

    Raises:
        Terminated: Always.

    """
    del frame
    raise Terminated(signal.Signals(signum).name)


def _one_line(error: BaseException) -> str:
    """An exception's message as one line.

    Args:
        error (BaseException): The exception.

    Returns:
        str: Its lines joined with ``'; '``.

    """
    lines = [line.strip() for line in str(error).splitlines()]
    return '; '.join(line for line in lines if line) or type(error).__name__


def resume_command(run_dir: str) -> str:
    """The command that resumes a run, as this process was started.

    Args:
        run_dir (str): The run directory.

    Returns:
        str: E.g. ``python experiments/point.py --resume runs/...``.

    """
    script = sys.argv[0] if sys.argv and sys.argv[0].endswith('.py') and (
        not sys.argv[0].endswith('__main__.py')) else None
    launcher = (f'python {shlex.quote(script)}' if script else
                'python -m tcl_garage.experiment')
    return f'{launcher} --resume {shlex.quote(run_dir)}'


def _stopped_message(stopped: RunStopped) -> str:
    """The one line of a run stopped at run time.

    Args:
        stopped (RunStopped): The stop.

    Returns:
        str: What happened, the epochs saved, and the resume command.

    """
    from tcl_garage.algos import NonFiniteLossError
    from tcl_garage.experiment import rundir
    cause = stopped.cause
    saved = stopped.epochs_saved
    has_snapshot = os.path.isfile(os.path.join(stopped.run_dir,
                                               rundir.SNAPSHOT))
    where = (f'{saved} of {stopped.epochs} epochs are saved in '
             f'{stopped.run_dir}')
    then = (f'resume with: {resume_command(stopped.run_dir)}'
            if has_snapshot else 'no epoch was saved: start the run again')
    if isinstance(cause, Terminated):
        what = f'stopped by {cause}'
    elif isinstance(cause, KeyboardInterrupt):
        what = 'interrupted (Ctrl-C)'
    elif isinstance(cause, NonFiniteLossError):
        return (f'{_one_line(cause)}; the last good snapshot (if any) is '
                f'kept in the run directory ({where}): lower the learning '
                f'rates or reward_scale, or {then}')
    elif isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        what = ('the disk is full (the last good snapshot is kept; free '
                'some space first)')
    elif isinstance(cause, OSError):
        what = f'a file could not be written ({_one_line(cause)})'
    else:  # a worker's traceback: its first line and its last
        lines = [line for line in str(cause).splitlines() if line.strip()]
        what = _one_line(cause) if len(lines) < 3 else (
            f'{lines[0].strip()} {lines[-1].strip()}')
    return f'{what}; {where}; {then}'

