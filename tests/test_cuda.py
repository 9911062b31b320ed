"""On a CUDA GPU (marked ``cuda``: skipped without one;
``benchmarks/gpu_check.py`` runs them): the networks compute on the GPU
what they compute on the CPU, a step keeps everything on the GPU with
finite losses, bf16 and tf32 steps stay close to the fp32 step, and a
launcher run on ``--device cuda`` finishes with finite losses."""
import copy
import math

import numpy as np
import pytest
import torch
from garage.torch import set_gpu_mode

from tcl_garage.experiment.rundir import read_machines

from conftest import fill_buffers, launch, make_point_algo, progress
from test_precision import LOSS_RTOL

pytestmark = pytest.mark.cuda


def statistics_after_a_step(algo, device, precision='fp32'):
    algo = copy.deepcopy(algo)
    algo._precision = precision
    set_gpu_mode(device == 'cuda')
    try:
        algo.to()
        torch.manual_seed(0)
        np.random.seed(0)
        algo._optimize_policy(np.array([0, 1, 2, 1]))
        params = [p.detach().cpu() for net in algo.networks
                  for p in net.parameters()]
        devices = {p.device.type for net in algo.networks
                   for p in net.parameters()}
        return algo.train_statistics, params, devices
    finally:
        set_gpu_mode(False)


@pytest.fixture(name='algo', params=['pearl', 'tcl-pearl'])
def _algo(request):
    algo, _ = make_point_algo(request.param, seed=1, net_sizes=(64, 64),
                              encoder_hidden_sizes=(64, 64))
    fill_buffers(algo)
    return algo


def test_the_networks_compute_the_same_on_cuda_as_on_the_cpu(algo):
    context = torch.randn(4, 16, algo.context_encoder_input_dim)
    cpu_mean, cpu_var = algo._posterior(algo.context_encoder(context))
    gpu = copy.deepcopy(algo)
    gpu.to(torch.device('cuda'))
    gpu_mean, gpu_var = gpu._posterior(gpu.context_encoder(context.cuda()))
    torch.testing.assert_close(gpu_mean.cpu(), cpu_mean, rtol=1e-4,
                               atol=1e-5)
    torch.testing.assert_close(gpu_var.cpu(), cpu_var, rtol=1e-4, atol=1e-5)


def test_a_cuda_step_is_finite_and_stays_on_the_gpu(algo):
    stats, _, devices = statistics_after_a_step(algo, 'cuda')
    assert devices == {'cuda'}
    assert stats and all(math.isfinite(value) for value in stats.values())


@pytest.mark.parametrize('precision', ['bf16', 'tf32'])
def test_bf16_and_tf32_steps_on_cuda_stay_close_to_fp32(algo, precision):
    fp32, _, _ = statistics_after_a_step(algo, 'cuda')
    other, _, devices = statistics_after_a_step(algo, 'cuda', precision)
    assert devices == {'cuda'}
    for name, value in fp32.items():
        assert other[name] == pytest.approx(value, rel=LOSS_RTOL,
                                            abs=1e-4), name


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_a_launcher_run_on_cuda_finishes_with_finite_losses(tmp_path,
                                                             precision):
    result = launch('cheetah_vel', '--smoke', '--device', 'cuda', '--set',
                    f'precision={precision}', '--log-dir', str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = progress(tmp_path)
    assert len(rows) == 2
    for key in ('Train/QLoss', 'Train/TCLLoss',
                'MetaTest/Average/AverageReturn'):
        assert math.isfinite(float(rows[-1][key])), key
    start, = read_machines(tmp_path)  # the run says which GPU it ran on
    assert start['device'].startswith('cuda')
    assert start['gpu'] == torch.cuda.get_device_name()


def test_tcl_mql_runs_on_cuda_with_finite_losses(tmp_path):
    result = launch('cheetah_vel', '--smoke', '--algo', 'tcl-mql',
                    '--device', 'cuda', '--log-dir', str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = progress(tmp_path)
    for key in ('Train/QLoss', 'Train/TCLLoss', 'MetaTest/PropensityESS',
                'MetaTest/Average/AverageReturn'):
        assert math.isfinite(float(rows[-1][key])), key
