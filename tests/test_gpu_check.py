"""The GPU check (``benchmarks/gpu_check.py``) and its wheels
(``benchmarks/gpu_wheels.py``, ``make gpu-wheels``): the CPU dry run writes
every part's figures; asking for CUDA without one is a one-line error; the
wheels fit the device tool's 64 MiB, install into a clean Python 3.12
target, and with only the GPU image's packages beside them the dry run
runs (torch from this machine)."""
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from tcl_garage import garage_compat

sys.path.insert(0, str(ROOT / 'benchmarks'))
import gpu_wheels  # noqa: E402  (a script of benchmarks/)


def python_312() -> pathlib.Path:
    """pyenv's Python 3.12 (may not exist)."""
    prefix = subprocess.run(['pyenv', 'prefix', '3.12.1'],
                            capture_output=True, text=True,
                            check=False).stdout.strip()
    return pathlib.Path(prefix or '/nonexistent') / 'bin' / 'python3.12'


DRY_RUN = ['--device', 'cpu', '--tiny', '--benchmarks', 'cheetah-vel',
           '--presets', 'metaworld', '--steps', '1', '--warmup', '1',
           '--timed-steps', '2', '--n-workers', '1']


def gpu_check(python, out, *args, cwd=ROOT, env=None):
    return subprocess.run([str(python), 'benchmarks/gpu_check.py', str(out),
                           *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def test_the_cpu_dry_run_runs_every_part_and_writes_a_short_summary(
        tmp_path):
    no_wheels = tmp_path / 'no_wheels'
    no_wheels.mkdir()
    result = gpu_check(sys.executable, tmp_path / 'out', *DRY_RUN,
                       '--wheels', str(no_wheels))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = tmp_path / 'out'
    summary = (out / 'summary.md').read_text()
    assert len(summary) < 4096
    assert sorted(p.name for p in out.iterdir()) == [
        'gpu_check.log', 'results.json', 'summary.md']
    results = json.loads((out / 'results.json').read_text())
    assert results['failed_parts'] == []
    assert results['cuda_tests']['returncode'] == 0
    assert 'skipped' in results['cuda_tests']['summary']
    assert results['smoke']['cheetah-vel']['returncode'] == 0
    assert results['smoke']['cheetah-vel']['epochs'] == 2
    times = results['step_times']['metaworld']
    assert set(times) == {'stock garage PEARL', 'TCLPEARL eager',
                          'TCLPEARL bf16'}  # no tf32 off CUDA
    assert all(seconds > 0 for seconds in times.values())
    epoch = results['ml1_epoch']
    assert epoch['timed_steps'] == 2 and epoch['projected_run'] > 0
    assert re.search(r'projected 50-epoch run: [0-9.]+ h', summary)
    assert 'meta-test evaluation' in summary


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is here')
def test_asking_for_cuda_without_it_is_one_line_and_status_2(tmp_path):
    result = gpu_check(sys.executable, tmp_path / 'out', '--wheels',
                       str(tmp_path))
    assert result.returncode == 2
    errors = [line for line in result.stdout.splitlines()
              if line.startswith('error: ')]
    assert errors == ['error: torch.cuda.is_available() is False: run on a '
                      'CUDA machine, or use --device cpu for the dry run']


def carried_wheels():
    """``name==version`` of every wheel ``make gpu-wheels`` carries: the
    listed ones and garage's, as tcl_garage.install_garage builds it."""
    return gpu_wheels.requirements() + [
        f'garage=={garage_compat.GARAGE_WHEEL_VERSION}']


@pytest.fixture(scope='module', name='wheels_312')
def _wheels_312(tmp_path_factory):
    return gpu_wheels.fetch(tmp_path_factory.mktemp('whl312'), '3.12')


@pytest.mark.slow  # downloads about 47 MiB
def test_the_wheels_fit_64_mib_and_install_into_a_clean_python_312_target(
        tmp_path, wheels_312):
    python = python_312()
    if not python.exists():
        pytest.skip('no Python 3.12 (pyenv 3.12.1)')
    carried = carried_wheels()
    names = [gpu_wheels.normalise(r.split('==')[0]) for r in carried]
    assert sorted(gpu_wheels.normalise(w.name.split('-')[0])
                  for w in wheels_312) == sorted(names)  # one each
    assert all(gpu_wheels.compatible(w, '3.12') for w in wheels_312)
    total = sum(w.stat().st_size for w in wheels_312)
    assert total + gpu_wheels.tree_bytes() < gpu_wheels.LIMIT_BYTES
    target = tmp_path / 'site'
    subprocess.run([str(python), '-m', 'pip', 'install', '-q',
                    '--no-index', '--no-deps', '--target', str(target),
                    *map(str, wheels_312)], check=True)
    versions = subprocess.run(
        [str(python), '-S', '-c',
         'import sys, importlib.metadata as m; sys.path.insert(0, sys.argv[1]);'
         ' print(" ".join(f"{d.metadata[\'Name\']}=={d.version}" for d in '
         'm.distributions(path=[sys.argv[1]])))', str(target)],
        capture_output=True, text=True, check=True).stdout.split()
    assert sorted(gpu_wheels.normalise(v.split('==')[0]) + '==' +
                  v.split('==')[1] for v in versions) == sorted(
                      gpu_wheels.normalise(r.split('==')[0]) + '==' +
                      r.split('==')[1] for r in carried)


def image_stand_in(folder: pathlib.Path) -> pathlib.Path:
    """Links to this environment's copies of the GPU image's packages
    (benchmarks/gpu_image.txt), and nothing else."""
    image = {gpu_wheels.normalise(line) for line in
             (ROOT / 'benchmarks' / 'gpu_image.txt').read_text().splitlines()
             if line and not line.startswith('#')}
    folder.mkdir()
    for dist in importlib.metadata.distributions():
        if gpu_wheels.normalise(dist.metadata['Name']) not in image:
            continue
        site = pathlib.Path(dist.locate_file(''))
        tops = {pathlib.Path(f).parts[0] for f in dist.files or []
                if not str(f).startswith('..')}
        for top in tops:
            if (site / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(site / top)
    return folder


@pytest.mark.slow  # downloads the wheels for this Python, builds a venv
def test_with_the_images_packages_and_the_wheels_alone_the_dry_run_runs(
        tmp_path, wheels_312):
    wheels = tmp_path / 'whl'
    wheels.mkdir()
    for wheel in wheels_312:  # the pure-Python ones serve both Pythons
        if '-none-any' in wheel.name:
            shutil.copy(wheel, wheels)
    version = f'{sys.version_info.major}.{sys.version_info.minor}'
    gpu_wheels.fetch(wheels, version)
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    python = venv / 'bin' / 'python'
    site = next((venv / 'lib').glob('python*/site-packages'))
    (site / 'gpu_image.pth').write_text(
        str(image_stand_in(tmp_path / 'image')) + '\n')
    missing = subprocess.run([str(python), '-c', 'import garage'],
                             capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode != 0  # garage comes only from the wheels
    env = {key: value for key, value in os.environ.items()
           if key != 'PYTHONPATH'}
    result = gpu_check(python, tmp_path / 'out', *DRY_RUN, '--wheels',
                       str(wheels), '--target', str(tmp_path / 'site'),
                       env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = (tmp_path / 'out' / 'summary.md').read_text()
    assert f'wheels: {len(carried_wheels())} installed' in summary
