"""Run an (environment x algorithm x seed) grid, skipping finished runs.

Each run goes to ``<runs_dir>/<benchmark>/<arm>/seed<seed>``: an arm is an
algorithm with settings of its own (:class:`Arm`; a plain algorithm is the
arm of its name). A run whose
progress file already has all its epochs is skipped; one that stopped
part-way is resumed from its last snapshot; others start fresh. Each run is
its own process (``python -m tcl_garage.experiment``): one after another,
several at a time on this machine (:func:`run_commands`, each on its share
of the CPU cores), or as Ray tasks on a cluster.

A Ray task decides its command when it starts (:func:`run_task`), not when
it is submitted: a task Ray retries after its worker died resumes the run
its first attempt left in its own directory (or starts it again there if no
epoch was saved), never a numbered sibling; the run's launcher dies with
the task's worker, so the retry never finds it still running. The summary
counts a run as finished only when its directory holds all its epochs.
"""
import collections
import concurrent.futures
import dataclasses
import os
import pathlib
import subprocess
import sys
import threading
from typing import (AbstractSet, Callable, List, Optional, Sequence, Tuple,
                    Union)

from tcl_garage.experiment import rundir


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm of a study: an algorithm and the settings it runs with.

    Attributes:
        name (str): Its run directories' name (``<benchmark>/<name>/seed<s>``)
            and its label in tables and curves.
        algo (str): The ``--algo`` it runs.
        launcher_args (tuple[str, ...]): Its own launcher options (e.g.
            ``('--set', 'tcl_negatives=other-tasks')``), after the study's.

    """

    name: str
    algo: str
    launcher_args: Tuple[str, ...] = ()


def command(benchmark: str, algo: str, seed: int, directory: pathlib.Path,
            launcher_args: Sequence[str] = ()) -> List[str]:
    """The command line of one run: resume it, or start it.

    Args:
        benchmark (str): The benchmark (``ml1/<env>`` for Meta-World).
        algo (str): The algorithm.
        seed (int): The seed.
        directory (pathlib.Path): Its run directory.
        launcher_args (Sequence[str]): Further launcher options (a new run
            only: a resumed run keeps its config).

    Returns:
        list[str]: The command.

    Raises:
        ValueError: If the directory holds something that is not a
            resumable run.

    """
    launcher = [sys.executable, '-m', 'tcl_garage.experiment']
    if rundir.status(directory) == 'partial':
        return [*launcher, '--resume', str(directory)]
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f'{directory} exists but is not a resumable run: '
                         'move it away first')
    return [*launcher, benchmark, '--algo', algo, '--seed', str(seed),
            '--log-dir', str(directory), *launcher_args]


def restart_unstarted(directory: pathlib.Path) -> None:
    """Remove a run directory whose run saved no epoch (its launcher was
    killed before its first snapshot), so that the run starts again in it.

    Args:
        directory (pathlib.Path): The run directory.

    Raises:
        ValueError: If a live process holds it (its lock), or it holds a
            snapshot or progress rows (not an unstarted run).

    """
    import shutil
    if not directory.is_dir() or rundir.is_resumable(directory):
        return
    if not (directory / rundir.VARIANT).is_file() or rundir.progress_rows(
            directory):
        return  # not a run of this package: command() refuses it
    with rundir.locked(directory):  # refuses one in use
        pass
    shutil.rmtree(directory)


def run_task(benchmark: str, algo: str, seed: int, directory: str,
             launcher_args: Sequence[str] = ()) -> int:
    """One run of a Ray sweep, its command decided now (a retried task
    resumes its own directory); its launcher dies with this process.

    Args:
        benchmark (str): The benchmark.
        algo (str): The algorithm.
        seed (int): The seed.
        directory (str): Its run directory.
        launcher_args (Sequence[str]): Further options of a new run.

    Returns:
        int: The launcher's exit status (0 for a run already done).

    """
    from tcl_garage.sampling.env_slots import END_WITH_ENV
    directory = pathlib.Path(directory)
    if rundir.status(directory) == 'done':
        return 0
    try:
        restart_unstarted(directory)
    except rundir.RunDirLockedError as error:  # another process trains it
        print(f'error: {error}', file=sys.stderr)
        return 2
    cmd = command(benchmark, algo, seed, directory, launcher_args)
    # The launcher ends itself with this process (a Ray worker is threaded:
    # no preexec_fn).
    env = dict(os.environ, **{END_WITH_ENV: str(os.getpid())})
    return subprocess.run(cmd, check=False, env=env).returncode


def run_commands(jobs: Sequence[Tuple[str, Sequence[str]]],
                 parallel: int = 1,
                 show: Callable[[str], bool] = lambda line: True,
                 cwd: Optional[str] = None,
                 on_exit: Optional[Callable[[int, int], None]] = None
                 ) -> List[int]:
    """Run commands, ``parallel`` at a time, each with its share of this
    machine's cores as its thread count; print their output lines as they
    come, each after its job's label.

    Args:
        jobs (Sequence[tuple[str, Sequence[str]]]): (label, command) pairs.
        parallel (int): How many run at once.
        show (callable): Which output lines to print (all by default); a
            failed job's last 20 lines are printed to stderr in any case.
        cwd (str or None): Working directory of the commands.
        on_exit (callable or None): Called as each job ends, with its index
            in ``jobs`` and its exit status (one call at a time).

    Returns:
        list[int]: The exit status of each job, in order.

    """
    threads = str(max(1, (os.cpu_count() or 1) // parallel))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    width = max(len(label) for label, _ in jobs)
    lock = threading.Lock()
    exit_lock = threading.Lock()  # not the print lock: on_exit may be long

    def run_one(index):
        label, cmd = jobs[index]
        tail = collections.deque(maxlen=20)
        with subprocess.Popen(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env,
                              cwd=cwd) as process:
            for line in process.stdout:
                tail.append(line)
                if show(line):
                    with lock:
                        print(f'{label:>{width}} | {line}', end='',
                              flush=True)
        if process.returncode != 0:
            with lock:
                sys.stderr.write(f'{label} failed (exit status '
                                 f'{process.returncode}); its last lines:\n'
                                 + ''.join(tail))
        if on_exit is not None:
            with exit_lock:
                on_exit(index, process.returncode)
        return process.returncode

    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(run_one, range(len(jobs))))


def sweep(benchmarks: Sequence[str],
          algos: Sequence[Union[str, Arm]],
          seeds: Sequence[int],
          runs_dir: str = rundir.DEFAULT_RUNS_DIR,
          launcher_args: Sequence[str] = (),
          ray: bool = False,
          ray_address: Optional[str] = None,
          cpus_per_run: float = 1.0,
          parallel: int = 1,
          skip: AbstractSet[Tuple[str, str, int]] = frozenset(),
          on_finished: Optional[Callable[[pathlib.Path], None]] = None
          ) -> List[str]:
    """Run the grid; print a line per run and a summary.

    Args:
        benchmarks (Sequence[str]): Benchmarks.
        algos (Sequence[str or Arm]): Algorithms (any of the table's), or
            arms (an algorithm with settings of its own).
        seeds (Sequence[int]): Seeds. Runs are ordered seed by seed (every
            arm of seed 0 first), so a study stopped part-way has as many
            seeds of each arm.
        runs_dir (str): Folder of the run directories.
        launcher_args (Sequence[str]): Options for every new run (e.g.
            ``--profile cpu-hour``, ``--device cuda``).
        ray (bool): Run the grid as Ray tasks.
        ray_address (str or None): Join this Ray cluster (implies ray).
        cpus_per_run (float): CPUs Ray reserves per run.
        parallel (int): Without Ray: runs at once on this machine, each on
            its share of the cores (1: one after another, with all cores).
        skip (AbstractSet[tuple[str, str, int]]): ``(benchmark, arm name,
            seed)`` of runs finished elsewhere (a study's record of an
            earlier part, :mod:`tcl_garage.analysis.records`): not run.
        on_finished (callable or None): Called with each run directory as
            soon as its run has finished all its epochs (after the last
            run, with Ray), e.g. to record it before the next run ends, so
            that a study cut short keeps every run it finished. It should
            not raise.

    Returns:
        list[str]: The run directories that failed (empty when all ran).

    """
    if parallel < 1:
        raise ValueError(f'parallel={parallel}: give at least 1')
    if ray or ray_address:
        from tcl_garage.garage_compat import RAY_INSTALL_HINT, ray_available
        if not ray_available():
            raise ValueError('--ray: Ray is not installed; run '
                             f'{RAY_INSTALL_HINT}, or drop --ray')
    arms = [arm if isinstance(arm, Arm) else Arm(arm, arm) for arm in algos]
    jobs = []
    for benchmark in benchmarks:
        for seed in seeds:
            for arm in arms:
                directory = rundir.default_run_dir(benchmark, arm.name, seed,
                                                   runs_dir)
                if rundir.status(directory) == 'done':
                    print(f'skip (done): {directory}')
                    continue
                if (benchmark, arm.name, seed) in skip:
                    print(f'skip (recorded): {directory}')
                    continue
                args = [*launcher_args, *arm.launcher_args]
                jobs.append((directory,
                             command(benchmark, arm.algo, seed, directory,
                                     args),
                             (benchmark, arm.algo, seed, str(directory),
                              args)))
    if not jobs:
        print('nothing to run')
        return []
    codes_not_done = set()  # exit 0, yet not all epochs in the directory

    def finished(index: int, code: int) -> None:
        directory = jobs[index][0]
        if code == 0 and rundir.status(directory) != 'done':
            codes_not_done.add(index)
        if (on_finished is not None and code == 0 and
                rundir.status(directory) == 'done'):
            on_finished(directory)
    if ray or ray_address:
        import ray as ray_module

        from tcl_garage import garage_compat
        garage_compat.ray_init(address=ray_address)

        launch = ray_module.remote(num_cpus=cpus_per_run)(run_task)
        codes = ray_module.get([launch.remote(*task) for _, _, task in jobs])
        for index, code in enumerate(codes):
            finished(index, code)
    elif parallel > 1:
        codes = run_commands([(str(pathlib.Path(d).relative_to(runs_dir)),
                               cmd) for d, cmd, _ in jobs], parallel,
                             on_exit=finished)
    else:
        codes = []
        for index, (directory, cmd, _) in enumerate(jobs):
            print(f'run: {directory}', flush=True)
            codes.append(subprocess.run(cmd, check=False).returncode)
            finished(index, codes[-1])
    failed = [str(job[0]) for job, code in zip(jobs, codes) if code != 0]
    unfinished = [str(jobs[index][0]) for index in sorted(codes_not_done)]
    print(f'{len(jobs) - len(failed) - len(unfinished)} of {len(jobs)} runs '
          'finished' + (f'; {len(unfinished)} stopped before their last '
                        f'epoch (resume them): {", ".join(unfinished)}'
                        if unfinished else ''))
    return failed
