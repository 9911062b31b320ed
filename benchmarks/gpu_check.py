#!/usr/bin/env python3
"""The GPU check: one command on a CUDA machine, inside ten minutes.

1. installs the carried wheels (``make gpu-wheels`` puts them in ``.whl/``)
   into a target folder, for this process and its children;
2. checks that torch sees the GPU (exit 2, one line, if not);
3. runs the tests that need CUDA (``pytest -m cuda``; skipped elsewhere);
4. runs a short TCL-PEARL smoke run on the GPU (``--device cuda``) of each
   MuJoCo family, of ML1 (push-v3) and of ML10, side by side;
5. times seconds per gradient step, round-robin in one process, at the
   metaworld and cheetah-vel presets (the paper's sizes): stock garage
   PEARL, our eager TCL-PEARL, compiled TCL-PEARL (CUDA graphs) and
   TCL-PEARL with ``precision=bf16`` and ``precision=tf32``;
6. times one paper-size ML1 epoch (push-v3; ``benchmarks/epoch_profile.py``):
   the epoch's collection with the vectorised collector on
   ``--n-workers`` worker processes, its gradient steps (``--timed-steps``
   of the 4,000 timed, the rest extrapolated from their median), its
   meta-test evaluation, snapshot and logging; then projects the 50-epoch
   run (initial collection + 50 epochs) against the target of under one
   hour (the paper: 6.75 h on M40s).

Everything printed also goes to ``OUT/gpu_check.log``; ``OUT/summary.md``
(a few kB) and ``OUT/results.json`` hold the figures. A part that fails is
recorded and the next one runs.

    python benchmarks/gpu_check.py OUT                     # on the GPU
    python benchmarks/gpu_check.py OUT --device cpu --tiny  # CPU dry run
"""
import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The smoke runs: every MuJoCo family, one ML1 environment and ML10 (its
#: slots hold environments of different classes).
SMOKE_BENCHMARKS = ('cheetah-vel', 'cheetah-dir', 'ant-dir', 'ant-goal',
                    'humanoid-dir', 'walker-rand-params', 'ml1/push-v3',
                    'ml10')
#: The step-time variants: (name, build kind of step_time.py, precision).
STEP_VARIANTS = (('stock garage PEARL', 'stock', 'fp32'),
                 ('TCLPEARL eager', 'tcl', 'fp32'),
                 ('TCLPEARL compiled', 'compiled', 'fp32'),
                 ('TCLPEARL bf16', 'tcl', 'bf16'),
                 ('TCLPEARL tf32', 'tcl', 'tf32'))
#: The paper-scale ML1 run the projection is for.
PAPER_EPOCHS = 50
TARGET_SECONDS = 3600.0
#: Sizes of the CPU dry run's step timing (any preset).
TINY_PRESET = dict(obs_dim=6, act_dim=2, meta_batch_size=2, batch_size=8,
                   context=8, window_size=4, num_train_tasks=2, latent_dim=2,
                   net_sizes=(8, 8), encoder_hidden_sizes=(8, 8))


class Report:
    """Prints, and keeps every line for the log and the summary."""

    def __init__(self, out: pathlib.Path) -> None:
        self.out = out
        self.lines = []
        self.results = {}
        out.mkdir(parents=True, exist_ok=True)
        self._log = open(out / 'gpu_check.log', 'w', encoding='utf-8')

    def say(self, line: str = '') -> None:
        print(line, flush=True)
        self.lines.append(line)
        self._log.write(line + '\n')
        self._log.flush()

    def log(self, text: str) -> None:
        """Into the log only (long output of a child)."""
        self._log.write(text + '\n')
        self._log.flush()

    def close(self) -> None:
        (self.out / 'results.json').write_text(
            json.dumps(self.results, indent=1, default=str))
        (self.out / 'summary.md').write_text('\n'.join(self.lines) + '\n')
        self._log.close()


def install_wheels(wheels: pathlib.Path, target: pathlib.Path,
                   report: Report) -> None:
    """Install every wheel of ``wheels`` into ``target`` and put it first
    on this process's and its children's paths."""
    files = sorted(wheels.glob('*.whl'))
    paths = [str(ROOT)]  # the repository: tcl_garage need not be installed
    if files:
        subprocess.run([
            sys.executable, '-m', 'pip', 'install', '-q', '--no-index',
            '--no-deps', '--no-compile', '--no-cache-dir', '--upgrade',
            '--target', str(target), *map(str, files)
        ], check=True)
        paths.insert(0, str(target))
        report.say(f'wheels: {len(files)} installed into {target}')
    else:
        report.say(f'wheels: none in {wheels} (using what is installed)')
    sys.path[:0] = paths
    os.environ['PYTHONPATH'] = os.pathsep.join(
        paths +
        [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])


def check_device(device: str, report: Report) -> None:
    """Name the device; exit 2 if CUDA was asked for and is missing."""
    import torch
    report.results['torch'] = torch.__version__
    report.results['python'] = platform.python_version()
    if device.startswith('cuda'):
        if not torch.cuda.is_available():
            report.say('error: torch.cuda.is_available() is False: run on '
                       'a CUDA machine, or use --device cpu for the dry run')
            report.close()
            sys.exit(2)
        name = torch.cuda.get_device_name(device)
        report.results['device'] = name
        report.say(f'device: {name}, torch {torch.__version__} (CUDA '
                   f'{torch.version.cuda}), Python '
                   f'{platform.python_version()}, {os.cpu_count()} CPUs')
    else:
        report.results['device'] = 'cpu'
        report.say(f'device: CPU ({os.cpu_count()} CPUs), torch '
                   f'{torch.__version__}, Python {platform.python_version()}')


def cuda_tests(report: Report, timeout: float) -> None:
    """The tests marked ``cuda`` (skipped without a GPU)."""
    start = time.time()
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-m', 'cuda', '-rs',
         '-p', 'no:cacheprovider', 'tests'],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    report.log(result.stdout[-20000:] + result.stderr[-5000:])
    tail = (result.stdout.strip().splitlines() or ['(no output)'])[-1]
    report.results['cuda_tests'] = dict(returncode=result.returncode,
                                        summary=tail)
    report.say(f'cuda tests: {tail} (exit {result.returncode}, '
               f'{time.time() - start:.0f} s)')


def smoke_runs(benchmarks, device: str, report: Report,
               timeout: float) -> None:
    """TCL-PEARL smoke runs of each benchmark, side by side."""
    from tcl_garage.experiment.rundir import progress_rows
    runs_dir = pathlib.Path(tempfile.mkdtemp(prefix='gpu_check_runs_'))
    start = time.time()
    jobs = {}
    for benchmark in benchmarks:
        run_dir = runs_dir / benchmark.replace('/', '_')
        command = [sys.executable, '-m', 'tcl_garage.experiment', benchmark,
                   '--algo', 'tcl-pearl', '--smoke', '--device', device,
                   '--quiet', '--log-dir', str(run_dir)]
        jobs[benchmark] = (run_dir, subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    report.results['smoke'] = {}
    for benchmark, (run_dir, process) in jobs.items():
        try:
            output, _ = process.communicate(
                timeout=max(1.0, timeout - (time.time() - start)))
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        report.log(f'--- smoke {benchmark}\n{output[-4000:]}')
        rows = progress_rows(run_dir) if run_dir.exists() else []
        last = rows[-1] if rows else {}
        outcome = dict(
            returncode=process.returncode, epochs=len(rows),
            meta_test_return=last.get('MetaTest/Average/AverageReturn'))
        report.results['smoke'][benchmark] = outcome
        report.say(f'smoke {benchmark:20s} exit {process.returncode}, '
                   f'{len(rows)} epochs, meta-test return '
                   f'{outcome["meta_test_return"]}')
    report.say(f'smoke runs: {time.time() - start:.0f} s side by side')


def step_times(presets, device: str, steps: int, warmup: int, tiny: bool,
               report: Report) -> None:
    """Seconds per gradient step of each variant, round-robin."""
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    import step_time
    from tcl_garage.analysis.statistics import paired_ratio
    variants = [v for v in STEP_VARIANTS
                if device.startswith('cuda') or v[2] != 'tf32']
    if tiny:  # the dry run: no inductor compile on the CPU
        variants = [v for v in variants if v[1] != 'compiled']
    report.results['step_times'] = {}
    for preset_name in presets:
        sizes = (TINY_PRESET if tiny else step_time.preset_sizes(preset_name))
        algos = {name: step_time.build(kind, sizes, device,
                                       precision=precision)
                 for name, kind, precision in variants}
        # the compiled step compiles (and captures graphs) in its warm-up
        times = step_time.round_robin(algos, sizes, steps,
                                      max(warmup, 3), device)
        median = step_time.medians(times)
        report.results['step_times'][preset_name] = median
        report.say(f'step time, preset {preset_name} '
                   f'({"tiny sizes" if tiny else "paper sizes"}), median of '
                   f'{steps}; eager / this: median of the rounds\' ratios '
                   '[95 % interval over rounds]:')
        for name, seconds in median.items():
            speedup = paired_ratio(times['TCLPEARL eager'], times[name])
            report.say(f'  {name:22s} {seconds * 1e3:8.2f} ms/step  '
                       f'(eager / this: '
                       f'{speedup.text(unit="x")})')


def ml1_epoch(device: str, n_workers: int, timed_steps: int, tiny: bool,
              report: Report) -> None:
    """One paper-size push-v3 epoch, part by part
    (``benchmarks/epoch_profile.py``), and the projection."""
    sys.path.insert(0, str(ROOT / 'benchmarks'))
    import epoch_profile
    from tcl_garage.experiment import load_config
    config = load_config('ml1/push-v3', algo='tcl-pearl',
                         profile='smoke' if tiny else None,
                         overrides=dict(device=device, n_workers=n_workers,
                                        seed=0))
    profile = epoch_profile.profile_epoch(config, timed_steps)
    report.results['ml1_epoch'] = profile
    epoch_profile.print_profile(
        f'ML1 push-v3 epoch ({"smoke sizes" if tiny else "paper sizes"})',
        config, profile, say=report.say)
    total = (profile['parts']['initial collection'] +
             PAPER_EPOCHS * profile['epoch'])
    verdict = 'met' if total < TARGET_SECONDS else 'NOT met'
    report.say(f'projected {PAPER_EPOCHS}-epoch run: {total / 3600:.2f} h '
               f'(initial collection + {PAPER_EPOCHS} epochs, snapshots '
               f'included; target < 1 h: {verdict}; the paper: 6.75 h on '
               'M40s)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out', help='output folder (created)')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--wheels', default=str(ROOT / '.whl'),
                        help='folder of carried wheels (make gpu-wheels)')
    parser.add_argument('--target',
                        default=str(pathlib.Path(tempfile.gettempdir()) /
                                    'tcl_garage_site'),
                        help='folder the wheels are installed into')
    parser.add_argument('--tiny', action='store_true',
                        help='tiny sizes: the CPU dry run')
    parser.add_argument('--benchmarks', nargs='+',
                        default=list(SMOKE_BENCHMARKS))
    parser.add_argument('--presets', nargs='+',
                        default=['metaworld', 'cheetah-vel'])
    parser.add_argument('--steps', type=int, default=20,
                        help='timed steps of each variant')
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--timed-steps', type=int, default=200,
                        help='gradient steps of the ML1 epoch timed')
    parser.add_argument('--n-workers', type=int, default=os.cpu_count())
    parser.add_argument('--skip', nargs='*', default=[],
                        choices=('tests', 'smoke', 'steps', 'epoch'))
    args = parser.parse_args()
    report = Report(pathlib.Path(args.out))
    begin = time.time()
    install_wheels(pathlib.Path(args.wheels), pathlib.Path(args.target),
                   report)
    check_device(args.device, report)
    parts = [
        ('tests', lambda: cuda_tests(report, timeout=200)),
        ('smoke', lambda: smoke_runs(args.benchmarks, args.device, report,
                                     timeout=180)),
        ('steps', lambda: step_times(args.presets, args.device, args.steps,
                                     args.warmup, args.tiny, report)),
        ('epoch', lambda: ml1_epoch(args.device, args.n_workers,
                                    args.timed_steps, args.tiny, report)),
    ]
    failed = []
    for name, part in parts:
        if name in args.skip:
            continue
        try:
            part()
        except Exception:  # pylint: disable=broad-except
            failed.append(name)
            report.log(traceback.format_exc())
            report.say(f'{name}: FAILED: '
                       f'{traceback.format_exc().strip().splitlines()[-1]}')
    report.results['failed_parts'] = failed
    report.say(f'gpu check: {time.time() - begin:.0f} s in all; '
               f'{"failed: " + ", ".join(failed) if failed else "all parts ran"}')
    report.close()
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
