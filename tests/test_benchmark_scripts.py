"""The benchmark scripts run and print their figures (tiny settings)."""
import argparse
import importlib.util
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tcl_garage.analysis.statistics import Estimate
from tcl_garage.experiment import load_config

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_script(name, *args):
    result = subprocess.run(
        [sys.executable, str(ROOT / 'benchmarks' / f'{name}.py'), *args],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def number_after(label, text):
    match = re.search(re.escape(label) + r'\s+([0-9.,]+)', text)
    assert match, (label, text)
    return float(match.group(1).replace(',', ''))


def ratio_after(label, text):
    """The ratio after ``label`` and its interval: ``1.23x [1.20, 1.25]``
    (the x optional)."""
    match = re.search(re.escape(label) +
                      r'\s+([0-9.]+)x? \[([0-9.]+), ([0-9.]+)\]', text)
    assert match, (label, text)
    value, low, high = (float(group) for group in match.groups())
    assert 0 < low <= value <= high, (label, value, low, high)
    return value, low, high


def test_step_time_prints_both_ratios_against_their_targets():
    out = run_script('step_time', '--preset', 'cheetah-vel', '--steps', '1',
                     '--warmup', '0', '--adam-loop', '--profile', 'cpu-hour',
                     '--op-steps', '1')
    for label in ('TCLPEARL / TCLPEARL scale 0', 'stock PEARL / TCLPEARL',
                  'Adam loop / foreach'):
        ratio_after(label, out)
    assert 'compiled' not in out
    # One round: the interval is the point, so the verdict is never split.
    assert re.search(r'\(target <= 1\.05: (met|NOT met)\)', out), out
    # Beside each median: its operator calls and the matrix products' share.
    calls = re.findall(r's/step\s+(\d+) operator calls/step, matrix '
                       r'products (\d+)% of them', out)
    assert len(calls) == 4, out
    assert all(1000 < int(n) < 10000 and 0 < int(share) < 100
               for n, share in calls), calls


def test_step_time_times_another_checkout_beside_this_one():
    out = run_script('step_time', '--preset', 'cheetah-vel', '--profile',
                     'cpu-hour', '--steps', '2', '--warmup', '0',
                     '--op-steps', '1', '--against', str(ROOT))
    for label in ('TCLPEARL other / this', 'TCLPEARL, scale 0 other / this',
                  'PEARL other / this', 'TCL / scale 0, this',
                  'TCL / scale 0, other'):
        ratio_after(label, out)
    assert '(target >= 1.5: ' in out
    # The same code on both sides: the same operator calls.
    row = re.search(r'TCLPEARL\s+[0-9.]+\s+[0-9.]+\s+(\d+)\s+(\d+)', out)
    assert row and row.group(1) == row.group(2), out


def test_step_time_refuses_a_path_without_tcl_garage(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / 'benchmarks' / 'step_time.py'),
         '--against', str(tmp_path)], capture_output=True, text=True,
        timeout=600, cwd=ROOT)
    assert result.returncode == 2
    # Its one line (after any warning that importing gym prints).
    assert result.stderr.strip().splitlines()[-1] == (
        f'step_time.py: --against {tmp_path} holds no tcl_garage/: give the '
        'root of a checkout')
    assert result.stdout == ''  # nothing timed


def test_step_time_compares_fp32_with_bf16_and_ends_with_the_ratio():
    out = run_script('step_time', '--precision', 'bf16', '--presets',
                     'cheetah-vel', '--steps', '1', '--warmup', '0')
    for label in ('TCLPEARL fp32', 'TCLPEARL bf16', 'PEARL path bf16'):
        assert number_after(label, out) > 0
    ratio_after('PEARL path fp32 / bf16:', out)
    assert 'sampling policy, 5 rows: fp32' in out
    last = out.strip().splitlines()[-1]
    ratio_after('cheetah-vel: fp32 / bf16:', last)
    assert last.startswith('cheetah-vel: fp32 / bf16: ') and last.endswith(
        '] (target >= 2.0 at metaworld)'), last


def benchmark_module(name):
    """benchmarks/<name>.py, imported (not run)."""
    spec = importlib.util.spec_from_file_location(
        name, ROOT / 'benchmarks' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def step_time_module():
    """benchmarks/step_time.py, imported (not run)."""
    return benchmark_module('step_time')


def test_the_floor_step_trains_every_network_as_its_seed_says():
    step_floor = benchmark_module('step_floor')
    sizes = step_floor.step_time.preset_sizes('cheetah-vel', 'cpu-hour')
    config = load_config('cheetah-vel', algo='pearl', profile='cpu-hour')
    stepper = step_floor.FloorPEARLStep(sizes, config)
    networks = ('encoder', 'critics', 'vf', 'target_vf', 'policy')
    before = {name: [p.detach().clone() for p in getattr(stepper, name)]
              for name in networks}
    stepper._optimize_policy(np.arange(8))
    for name in networks:  # every tensor of every network moved
        for old, new in zip(before[name], getattr(stepper, name)):
            assert not torch.equal(old, new), name
    again = step_floor.FloorPEARLStep(sizes, config)  # the seed decides
    again._optimize_policy(np.arange(8))
    for name in networks:
        assert all(torch.equal(a, b) for a, b in
                   zip(getattr(stepper, name), getattr(again, name)))


def test_stacked_seeds_in_the_floor_step_each_learn_from_their_own_data():
    step_floor = benchmark_module('step_floor')
    sizes = step_floor.step_time.preset_sizes('cheetah-vel', 'cpu-hour')
    config = load_config('cheetah-vel', algo='pearl', profile='cpu-hour')
    networks = ('encoder', 'critics', 'vf', 'target_vf', 'policy')
    left, right = (step_floor.FloorPEARLStep(sizes, config, seeds=3)
                   for _ in range(2))
    assert left.encoder[0].shape[0] == 3
    assert left.critics[0].shape[0] == 6  # Q1 and Q2 of each seed
    with torch.no_grad():  # seed 1 of one of them elsewhere
        for name in ('encoder', 'vf', 'policy'):
            for parameter in getattr(right, name):
                parameter[1] += 0.1
        for parameter in right.critics:
            parameter[[1, 4]] += 0.1  # seed 1's Q1 and Q2
    before = {name: [p.detach().clone() for p in getattr(left, name)]
              for name in networks}
    for _ in range(2):
        left._optimize_policy(np.arange(8))
        right._optimize_policy(np.arange(8))
    for name in networks:
        seeds = [0, 2] + ([3, 5] if name == 'critics' else [])
        for old, a, b in zip(before[name], getattr(left, name),
                             getattr(right, name)):
            # Seeds 0 and 2 stepped as they would beside any seed 1 ...
            assert torch.equal(a[seeds], b[seeds]), name
            # ... and every seed stepped.
            assert bool(((a - old).abs().flatten(1).sum(1) > 0).all()), name
    with pytest.raises(ValueError, match='seeds must be >= 1, got 0'):
        step_floor.FloorPEARLStep(sizes, config, seeds=0)


@pytest.mark.slow
def test_step_floor_times_pearl_beside_the_floor(capsys):
    # Slow: it starts a worker process for each of this checkout's PEARLs.
    step_floor = benchmark_module('step_floor')
    step_floor.main(['--profile', 'cpu-hour', '--steps', '1', '--warmup',
                     '0', '--op-steps', '1', '--adam', 'foreach', 'fused'])
    out = capsys.readouterr().out
    assert re.search(r'\n  floor\s+[0-9.]+ s/step\s+\d+ operator '
                     r'calls/step\n', out), out
    for adam in ('foreach', 'fused'):
        assert f'PEARL, this checkout (adam={adam})' in out, out
        ratio_after(f'this, {adam} / floor', out)
    step_floor.main(['--profile', 'cpu-hour', '--steps', '1', '--warmup',
                     '0', '--op-steps', '1', '--seeds', '2'])
    out = capsys.readouterr().out
    assert 'floor, 2 seeds stacked' in out, out
    ratio_after('this, foreach / floor per seed', out)
    ratio_after('floor, 1 seed / floor per seed', out)


def test_the_step_scripts_refuse_a_profile_or_modes_that_do_not_go_together(
        monkeypatch, capsys):
    step_time, step_floor = (benchmark_module(name)
                             for name in ('step_time', 'step_floor'))
    for main, argv, message in (
            (step_time.main, ['--profile', 'bogus'],
             "--profile bogus: unknown profile 'bogus'"),
            (step_time.main, ['--rows-scaling', '--compile', '--adam-loop'],
             '--rows-scaling times TCLPEARL, its scale-0 path and PEARL at '
             'four sizes: drop --compile, --adam-loop'),
            (step_time.main, ['--against', '.', '--compile'],
             '--against times TCLPEARL, its scale-0 path and PEARL in two '
             'checkouts: drop --precision, --compile and --adam-loop'),
            (step_floor.main, ['--profile', 'bogus'],
             "--profile bogus: unknown profile 'bogus'")):
        monkeypatch.setattr(sys, 'argv', ['script.py', *argv])
        with pytest.raises(SystemExit) as stopped:
            main(argv) if main is step_floor.main else main()
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_speed_target_is_met_only_when_its_whole_interval_clears_it():
    verdict = step_time_module().verdict
    assert verdict(Estimate(2.10, 2.05, 2.20), 2.0) == 'met'
    assert verdict(Estimate(1.90, 1.80, 1.95), 2.0) == 'NOT met'
    assert verdict(Estimate(2.02, 1.97, 2.06), 2.0) == (
        'met by the median; the interval straddles it')
    assert verdict(Estimate(1.98, 1.95, 2.01), 2.0) == (
        'NOT met by the median; the interval straddles it')
    # A cost target is met from below.
    assert verdict(Estimate(1.03, 1.01, 1.04), 1.05, at_least=False) == 'met'
    assert verdict(Estimate(1.06, 1.04, 1.08), 1.05, at_least=False) == (
        'NOT met by the median; the interval straddles it')


def test_step_time_splits_a_step_into_a_fixed_and_a_per_row_cost(
        monkeypatch, capsys):
    step_time = step_time_module()
    preset = step_time.preset_sizes('cheetah-vel', 'cpu-hour')
    eighth = step_time.scaled_rows(preset, 0.125)
    assert (eighth['batch_size'], eighth['context'],
            eighth['window_size']) == (8, 8, 4)
    assert eighth['net_sizes'] == preset['net_sizes']  # same networks
    tiny = step_time.scaled_rows(preset, 0.001)
    assert (tiny['batch_size'], tiny['context'], tiny['window_size']) == (
        1, 1, 1)
    fixed, per_row = step_time.fixed_and_per_row(
        [64, 32, 16, 8], [0.005 + 1e-4 * rows for rows in (64, 32, 16, 8)])
    assert fixed == pytest.approx(0.005) and per_row == pytest.approx(1e-4)
    # The whole mode, at two sizes and one round (in this process: quick).
    monkeypatch.setattr(step_time, 'ROW_FRACTIONS', (1.0, 0.5))
    step_time.rows_scaling(argparse.Namespace(
        preset='cheetah-vel', profile='cpu-hour', device='cpu',
        adam='foreach', steps=1, warmup=0, clock='cpu'))
    out = capsys.readouterr().out
    assert re.search(r'\n\s+64\s+32\s+fixed s\s+per row s\s+fixed share\n',
                     out), out
    for label in ('TCLPEARL', 'TCLPEARL, scale 0', 'PEARL'):
        assert re.search(re.escape(label) + r'\s+[0-9.]+\s+[0-9.]+\s+'
                         r'-?[0-9.]+\s+-?[0-9.e+-]+\s+-?\d+%\n', out), out
        ratio_after(f'{label} at 32 / 64 rows', out)
    for rows in (64, 32):
        ratio_after(f'TCL / scale 0 at {rows} rows', out)


@pytest.mark.slow
@pytest.mark.parametrize('backward', [False, True])
def test_step_time_times_the_compiled_step(backward):
    out = run_script('step_time', '--preset', 'cheetah-vel', '--steps', '1',
                     '--warmup', '1', '--compile',
                     *(['--compile-backward'] if backward else []))
    ratio_after('TCLPEARL compiled + backward / eager' if backward else
                'TCLPEARL compiled / eager', out)
    assert out.count('(target ') == 2


def test_step_time_refuses_compile_backward_without_compile(
        monkeypatch, capsys):
    step_time = step_time_module()
    monkeypatch.setattr(sys, 'argv', ['step_time.py', '--compile-backward'])
    with pytest.raises(SystemExit) as stopped:
        step_time.main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        'error: --compile-backward compiles the backward passes of the '
        'compiled step: add --compile')


@pytest.mark.slow
def test_sampling_compares_vectorised_with_sequential():
    out = run_script('sampling', '--env', 'point', '--rounds', '1')
    lines = out.strip().splitlines()
    for part in ('collect', 'evaluate'):
        for name in ('sequential', 'vectorised, this process',
                     'vectorised, 2 processes'):
            assert number_after(f'{part:8} {name:26}', out) > 0
    this_process = number_after('collect  vectorised, this process', out)
    sequential = number_after('collect  sequential', out)
    assert lines[-1].startswith('vectorised / sequential: ')
    assert abs(float(lines[-1].split()[-1][:-1]) -
               this_process / sequential) < 0.01


def test_sampling_prints_steps_per_second_and_the_ratio():
    out = run_script('sampling', '--versus-raw', '--env', 'cheetah-vel',
                     '--steps', '200', '--rounds', '1')
    raw = number_after('raw gymnasium, same actions', out)
    path = number_after('PEARL sampling path', out)
    assert abs(number_after('PEARL path / raw', out) - raw / path) < 0.02


def test_sampling_rejects_an_env_without_a_raw_gymnasium_env():
    result = subprocess.run(
        [sys.executable, str(ROOT / 'benchmarks' / 'sampling.py'),
         '--versus-raw', '--env', 'point'], capture_output=True, text=True,
        timeout=600, cwd=ROOT)
    assert result.returncode == 2
    assert 'MuJoCo family' in result.stderr.strip().splitlines()[-1]


def test_memory_reports_the_peak_of_a_small_run(tmp_path):
    out = run_script('memory', '--env', 'reach-v3', '--env-steps', '250000',
                     '--steps', '1', '--snapshot-dir', str(tmp_path))
    # 4000 initial steps per task (200k), then 50k steps: 2.08 epochs of 15
    # tasks x (800 prior + 800 extra RL), 0.625 visits per task; the
    # encoder buffer, emptied at each visit, holds at most the 4000 initial.
    assert 'transitions per task: RL buffer 5000, encoder buffer 4000' in out
    assert 0 < number_after('peak resident', out) < 24
    # 50 tasks x (5000 + 4000) transitions of 39 + 4 + 1 + 39 float64 and a
    # bool: about 0.31 GiB of buffers, far below their reserved capacity.
    size = number_after('snapshot size on disk', out)
    assert 0.25 < size < 0.5
    assert (tmp_path / 'params.pkl').stat().st_size / 2**30 == \
        pytest.approx(size, abs=0.01)


def test_epoch_profile_splits_an_epoch_and_projects_the_run():
    out = run_script('epoch_profile', '--env', 'cheetah-dir', '--profile',
                     'smoke', '--timed-steps', '3', '--initial-tasks', '2')
    assert '(3 timed' in out
    shares = []
    for part in ('epoch collection', 'gradient steps', 'meta-test evaluation',
                 'snapshot', 'logging'):
        match = re.search(re.escape(part) + r'\s+([0-9.]+) s\s+([0-9.]+) %',
                          out)
        assert match, (part, out)
        shares.append(float(match.group(2)))
    assert sum(shares) == pytest.approx(100, abs=0.5)
    assert number_after('initial collection', out) > 0
    assert float(re.search(r'projected run .* h \(([0-9.]+) s: initial '
                           r'collection \+ 2 epochs\)', out).group(1)) > 0


def test_epoch_profile_times_some_test_tasks_on_the_cpu_clock():
    # the smoke profile meta-tests 2 tasks; 1 is timed and doubled
    out = run_script('epoch_profile', '--env', 'point', '--profile',
                     'smoke', '--timed-steps', '2', '--eval-tasks', '1',
                     '--clock', 'process', '--n-workers', '0')
    assert out.startswith('point (smoke, CPU time), tcl-pearl')
    assert '(meta-test evaluation: 1 of 2 test tasks timed, scaled to all)' \
        in out
    assert number_after('meta-test evaluation', out) > 0
    refused = subprocess.run(
        [sys.executable, str(ROOT / 'benchmarks' / 'epoch_profile.py'),
         '--env', 'point', '--profile', 'smoke', '--clock', 'process',
         '--n-workers', '1'], capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2
    assert 'add --n-workers 0' in refused.stderr


def test_epoch_profile_splits_an_mql_epoch_too():
    out = run_script('epoch_profile', '--env', 'cheetah-vel', '--profile',
                     'smoke', '--algo', 'tcl-mql', '--timed-steps', '3')
    assert 'tcl-mql: 2 epochs of 5 gradient steps (3 timed' in out
    for part in ('epoch collection', 'gradient steps',
                 'meta-test evaluation', 'snapshot'):
        assert number_after(part, out) > 0, (part, out)
