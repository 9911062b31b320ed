"""The layout of a run directory, known here only.

A run directory holds garage's outputs: ``debug.log``, TensorBoard events,
:data:`PROGRESS` (one row per epoch), :data:`VARIANT` (the resolved config,
under ``config``), :data:`SNAPSHOT` (the last snapshot) and :data:`MACHINE`
(the machine of each start, :mod:`tcl_garage.experiment.machine`), and
for a tracked run :data:`TRACKING` (its W&B run); a run on
a registered benchmark also records, under :data:`BENCHMARK_MODULE`, the
module that registers it, imported by :func:`read_config`. Runs go to
``<runs dir>/<benchmark>/<algo>/seed<seed>`` by default (``ml1/push-v3``
nests). The launcher, the sweep and the analysis read directories through
these functions, and learn a run's benchmark through :func:`read_benchmark`.

A process training in a run directory holds its lock (:func:`locked`,
:data:`LOCK`): an ``flock`` on a file naming the process, so a second
process refuses the directory, naming the first, and a lock left by a dead
process is free (the kernel drops it with the process).
"""
import contextlib
import csv
import json
import os
import pathlib
from typing import Any, Dict, Iterator, List, Union

try:
    import fcntl
except ImportError:  # Windows: no flock; directories are not locked
    fcntl = None

#: The resolved config of the run, under ``config``.
VARIANT = 'variant.json'
#: The last snapshot (garage's ``snapshot_mode='last'``).
SNAPSHOT = 'params.pkl'
#: One row per epoch.
PROGRESS = 'progress.csv'
#: A study record's copy of the columns a report reads
#: (:mod:`tcl_garage.analysis.records`): not a run log, so not named like one.
RECORD_PROGRESS = 'record.csv'
#: One entry per start of the run (new, then each resume): the machine it
#: trained on (:func:`tcl_garage.experiment.machine.describe_machine`).
MACHINE = 'machine.json'
#: A tracked run's W&B run id and project
#: (:mod:`tcl_garage.experiment.tracking`).
TRACKING = 'wandb.json'
#: The key of :data:`VARIANT` naming the module that registers the run's
#: benchmark (a registered benchmark's run only).
BENCHMARK_MODULE = 'benchmark_module'
#: The lock of a run directory in use: holds the process id.
LOCK = '.lock'
#: Where runs go by default.
DEFAULT_RUNS_DIR = 'runs'

PathLike = Union[str, pathlib.Path]


def default_run_dir(benchmark: str,
                    algo: str,
                    seed: int,
                    runs_dir: PathLike = DEFAULT_RUNS_DIR) -> pathlib.Path:
    """``<runs_dir>/<benchmark>/<algo>/seed<seed>``.

    Args:
        benchmark (str): The benchmark (``ml1/push-v3`` nests).
        algo (str): The algorithm.
        seed (int): The seed.
        runs_dir (str or pathlib.Path): The folder of all runs.

    Returns:
        pathlib.Path: The run directory.

    """
    return pathlib.Path(runs_dir) / benchmark / algo / f'seed{seed}'


def read_config(run_dir: PathLike) -> Dict[str, Any]:
    """The resolved config saved in a run directory.

    Args:
        run_dir (str or pathlib.Path): The run directory.

    Returns:
        dict: Its config.

    Raises:
        ValueError: If it holds no config (not a tcl_garage run).

    """
    path = pathlib.Path(run_dir) / VARIANT
    if not path.is_file():
        raise ValueError(f'{run_dir} is not a run directory (it has no '
                         f'{VARIANT})')
    variant = json.loads(path.read_text(encoding='utf-8'))
    if 'config' not in variant:
        raise ValueError(f'{path} holds no config: tcl_garage did not make '
                         'this run')
    if variant.get(BENCHMARK_MODULE):  # a registered benchmark's
        from tcl_garage.envs.benchmarks import import_benchmark_modules
        import_benchmark_modules(variant[BENCHMARK_MODULE])
    return variant['config']


def benchmark_module_entry(config: Dict[str, Any]) -> Dict[str, str]:
    """What :data:`VARIANT` records beside the config of a run on a
    registered benchmark: the module that registers it
    (:func:`tcl_garage.envs.register_benchmark`), imported again by
    :func:`read_config`; nothing for a built-in benchmark.

    Args:
        config (dict): Resolved config.

    Returns:
        dict: ``{BENCHMARK_MODULE: module}`` or ``{}``.

    """
    from tcl_garage.envs.benchmarks import registered_benchmark
    spec = registered_benchmark(config['benchmark'])
    if spec is None or spec.module is None:
        return {}
    return {BENCHMARK_MODULE: spec.module}


def progress_file(run_dir: PathLike) -> pathlib.Path:
    """The file holding a run's rows: its ``progress.csv``, or a study
    record's ``record.csv`` where only that is there.

    Args:
        run_dir (str or pathlib.Path): A run directory or a record.

    Returns:
        pathlib.Path: The file (it may not exist yet).

    """
    path = pathlib.Path(run_dir) / PROGRESS
    record = pathlib.Path(run_dir) / RECORD_PROGRESS
    return record if not path.is_file() and record.is_file() else path


def progress_rows(run_dir: PathLike) -> List[Dict[str, str]]:
    """The rows of a run's progress file (:func:`progress_file`), one per
    logged epoch.

    Args:
        run_dir (str or pathlib.Path): The run directory.

    Returns:
        list[dict[str, str]]: The rows ([] when there is no file yet).

    """
    path = progress_file(run_dir)
    if not path.is_file():
        return []
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def read_machines(run_dir: PathLike) -> List[Dict[str, Any]]:
    """The machines a run (or its record) trained on, one per start.

    Args:
        run_dir (str or pathlib.Path): A run directory or a record.

    Returns:
        list[dict]: The :data:`MACHINE` entries, oldest first ([] for a
            run made before runs recorded them).

    """
    path = pathlib.Path(run_dir) / MACHINE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding='utf-8'))['starts']


def append_machine(run_dir: PathLike, entry: Dict[str, Any]) -> None:
    """Add a start's machine to the run's :data:`MACHINE` file.

    The file is rewritten whole through a temporary file and a rename, so
    a kill leaves the old one or the new one.

    Args:
        run_dir (str or pathlib.Path): The run directory.
        entry (dict): The start's machine (JSON types).

    """
    path = pathlib.Path(run_dir) / MACHINE
    starts = read_machines(run_dir) + [entry]
    temporary = path.with_name(f'.{MACHINE}.tmp')
    temporary.write_text(json.dumps({'starts': starts}, indent=1) + '\n',
                         encoding='utf-8')
    temporary.replace(path)


def is_resumable(run_dir: PathLike) -> bool:
    """Whether a run directory has a config and a snapshot to resume from.

    Args:
        run_dir (str or pathlib.Path): The directory.

    Returns:
        bool: True when both are there.

    """
    run_dir = pathlib.Path(run_dir)
    return (run_dir / VARIANT).is_file() and (run_dir / SNAPSHOT).is_file()


def status(run_dir: PathLike) -> str:
    """``'new'``, ``'partial'`` (resumable) or ``'done'``: done when it
    holds the epochs of its last start (:data:`MACHINE`; a resume with
    ``--epochs`` extends a run), or of its config.

    Args:
        run_dir (str or pathlib.Path): The directory.

    Returns:
        str: The run's status.

    """
    if not is_resumable(run_dir):
        return 'new'
    starts = read_machines(run_dir)
    epochs = (starts[-1].get('epochs') if starts else None) or read_config(
        run_dir)['epochs']
    return 'done' if len(progress_rows(run_dir)) >= epochs else 'partial'


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


def read_benchmark(run_dir: PathLike):
    """The benchmark a run directory's run trained on (its tasks, split by
    its seed).

    Args:
        run_dir (str or pathlib.Path): The run directory.

    Returns:
        tcl_garage.envs.Benchmark: The benchmark.

    """
    config = read_config(run_dir)
    config.setdefault('reward_function_version', None)  # older runs
    return benchmark_of(config)


class RunDirLockedError(ValueError):
    """Another live process trains in the run directory."""


@contextlib.contextmanager
def locked(run_dir: PathLike) -> Iterator[None]:
    """Hold the run directory's lock while the block runs; the lock file is
    removed on leaving it.

    Args:
        run_dir (str or pathlib.Path): The run directory (it exists).

    Yields:
        None

    Raises:
        RunDirLockedError: If a live process holds the lock; the message
            names it.

    """
    if fcntl is None:
        yield
        return
    path = pathlib.Path(run_dir) / LOCK
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 64).decode(errors='replace').strip()
            os.close(handle)
            raise RunDirLockedError(
                f'{run_dir} is in use by process {holder or "(unknown)"} (a '
                'run or resume of it still going); wait for it to end, or '
                f'stop it (kill {holder or "<pid>"}) and resume') from None
        except OSError as error:  # e.g. ENOLCK: no locks on this filesystem
            os.close(handle)
            raise RunDirLockedError(
                f'{run_dir} cannot be locked ({error.strerror}); give a run '
                'directory on a local filesystem') from None
        try:  # the file may have been removed by its last holder meanwhile
            same = os.fstat(handle).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)
    try:
        os.ftruncate(handle, 0)
        os.write(handle, f'{os.getpid()}\n'.encode())
        yield
    finally:
        os.unlink(path)
        os.close(handle)
