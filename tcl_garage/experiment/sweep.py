"""Run an (environment x algorithm x seed) grid, skipping finished runs.

Each run goes to ``<runs_dir>/<benchmark>/<algo>/seed<seed>``. A run whose
progress file already has all its epochs is skipped; one that stopped
part-way is resumed from its last snapshot; others start fresh. Runs go one
after another, each in its own process (``python -m tcl_garage.experiment``),
or as Ray tasks on a cluster.
"""
import pathlib
import subprocess
import sys
from typing import List, Optional, Sequence

from tcl_garage.experiment import rundir


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


def sweep(benchmarks: Sequence[str],
          algos: Sequence[str],
          seeds: Sequence[int],
          runs_dir: str = rundir.DEFAULT_RUNS_DIR,
          launcher_args: Sequence[str] = (),
          ray: bool = False,
          ray_address: Optional[str] = None,
          cpus_per_run: float = 1.0) -> List[str]:
    """Run the grid; print a line per run and a summary.

    Args:
        benchmarks (Sequence[str]): Benchmarks.
        algos (Sequence[str]): Algorithms (any of the table's).
        seeds (Sequence[int]): Seeds.
        runs_dir (str): Folder of the run directories.
        launcher_args (Sequence[str]): Options for every new run (e.g.
            ``--profile cpu-hour``, ``--device cuda``).
        ray (bool): Run the grid as Ray tasks.
        ray_address (str or None): Join this Ray cluster (implies ray).
        cpus_per_run (float): CPUs Ray reserves per run.

    Returns:
        list[str]: The run directories that failed (empty when all ran).

    """
    jobs = []
    for benchmark in benchmarks:
        for algo in algos:
            for seed in seeds:
                directory = rundir.default_run_dir(benchmark, algo, seed,
                                                   runs_dir)
                if rundir.status(directory) == 'done':
                    print(f'skip (done): {directory}')
                    continue
                jobs.append((directory,
                             command(benchmark, algo, seed, directory,
                                     launcher_args)))
    if not jobs:
        print('nothing to run')
        return []
    if ray or ray_address:
        import ray as ray_module

        from tcl_garage import garage_compat
        garage_compat.ray_init(address=ray_address)

        @ray_module.remote(num_cpus=cpus_per_run)
        def launch(cmd):
            return subprocess.run(cmd, check=False).returncode

        codes = ray_module.get([launch.remote(cmd) for _, cmd in jobs])
    else:
        codes = []
        for directory, cmd in jobs:
            print(f'run: {directory}', flush=True)
            codes.append(subprocess.run(cmd, check=False).returncode)
    failed = [str(d) for (d, _), code in zip(jobs, codes) if code != 0]
    print(f'{len(jobs) - len(failed)} of {len(jobs)} runs finished')
    return failed
