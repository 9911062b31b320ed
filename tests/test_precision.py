"""``precision`` (``--set precision=bf16``): a bf16 training step stays
close to the fp32 step, keeps float32 weights, gradients and optimizer
states, back-propagates each network as often as fp32 does, and resumes
exactly (with the fused Adam of ``--set adam=fused`` too); TF32 is CUDA's
only."""
import copy
import math
import pickle

import numpy as np
import pytest
import torch
import torch._inductor.config as inductor_config

from conftest import (assert_killed_run_resumes_exactly, fill_buffers,
                      gradients_per_step, make_point_algo, networks_by_name)

from tcl_garage.algos import precision

#: Measured on the point robot (64-unit networks, one step from the same
#: state and draws): the losses of a bf16 step differ from fp32's by at most
#: 0.26 % (relative), each network's gradient by at most 2.1 % (relative
#: norm of the difference). The bounds leave a factor of about 3.
LOSS_RTOL = 1e-2
GRADIENT_RTOL = 0.06


def one_step(algo, seed=0):
    torch.manual_seed(seed)
    np.random.seed(seed)
    algo._optimize_policy(np.array([0, 1, 2, 1]))
    return algo.train_statistics


def gradients(algo):
    return {name: torch.cat([p.grad.flatten() for p in net.parameters()
                             if p.grad is not None])
            for name, net in networks_by_name(algo).items()
            if name != 'target_vf'}


def fp32_and_bf16(algo_name, **overrides):
    algo, _ = make_point_algo(algo_name, seed=1, net_sizes=(64, 64),
                              encoder_hidden_sizes=(64, 64), **overrides)
    fill_buffers(algo)
    bf16 = copy.deepcopy(algo)
    bf16._precision = 'bf16'
    return algo, bf16


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_a_bf16_step_stays_close_to_the_fp32_step_from_the_same_state(
        algo_name):
    fp32, bf16 = fp32_and_bf16(algo_name)
    stats32, stats16 = one_step(fp32), one_step(bf16)
    assert stats32.keys() == stats16.keys()
    for name, value in stats32.items():
        assert stats16[name] == pytest.approx(value, rel=LOSS_RTOL), name
    grads32, grads16 = gradients(fp32), gradients(bf16)
    for name, grad in grads32.items():
        error = (grads16[name] - grad).norm() / grad.norm()
        assert 0 < error < GRADIENT_RTOL, (name, error)  # 0: not bf16 at all


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_bf16_runs_the_networks_in_bfloat16_and_fp32_does_not(algo_name):
    fp32, bf16 = fp32_and_bf16(algo_name)
    for algo, expected in ((fp32, torch.float32), (bf16, torch.bfloat16)):
        seen = set()
        handles = [
            net.register_forward_hook(
                lambda module, inputs, output, name=name, seen=seen: seen.add(
                    (name, output.dtype)))
            for name, net in (('encoder', algo.context_encoder),
                              ('qf1', algo._qf1), ('vf', algo._vf))
        ]
        one_step(algo)
        for handle in handles:
            handle.remove()
        assert seen == {(name, expected) for name in ('encoder', 'qf1', 'vf')}


def test_bf16_keeps_float32_weights_gradients_and_optimizer_states():
    _, bf16 = fp32_and_bf16('tcl-pearl')
    for _ in range(2):
        one_step(bf16)
    for net in bf16.networks:
        for param in net.parameters():
            assert param.dtype == torch.float32
            assert param.grad is None or param.grad.dtype == torch.float32
    optimizers = (bf16.qf1_optimizer, bf16.qf2_optimizer, bf16.vf_optimizer,
                  bf16.context_optimizer, bf16._policy_optimizer)
    states = [value for optimizer in optimizers
              for state in optimizer.state.values()
              for value in state.values() if value.is_floating_point()]
    assert states and all(value.dtype == torch.float32 for value in states)
    assert bf16._policy.z_means.dtype == torch.float32  # the posterior


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_bf16_back_propagates_each_network_as_often_as_fp32(algo_name):
    fp32, bf16 = fp32_and_bf16(algo_name)
    counts = gradients_per_step(bf16)
    assert counts == gradients_per_step(fp32)
    assert counts == dict(encoder=1, policy=1, qf1=1, qf2=1, vf=1,
                          target_vf=0)


def test_bf16_statistics_stay_finite_over_steps():
    _, bf16 = fp32_and_bf16('tcl-pearl')
    for seed in range(5):
        one_step(bf16, seed)
    assert all(math.isfinite(value)
               for value in bf16.train_statistics.values())


@pytest.mark.slow  # inductor compiles the step: about a minute
def test_a_compiled_bf16_step_matches_the_eager_bf16_step(monkeypatch):
    monkeypatch.setattr(inductor_config, 'fallback_random', True)
    _, eager = fp32_and_bf16('tcl-pearl')
    compiled = copy.deepcopy(eager)
    compiled._compile_step = True
    for algo in (eager, compiled):
        for seed in range(2):
            one_step(algo, seed)
    assert compiled._compiled_step is not None
    for name, value in eager.train_statistics.items():
        assert compiled.train_statistics[name] == pytest.approx(
            value, rel=LOSS_RTOL), name


def test_a_sigkilled_bf16_run_with_fused_adam_resumes_to_the_run_left_alone(
        tmp_path):
    # Both opt-in step settings in one run: each one's state (autocast;
    # the fused optimizers' moments and step counts) must come back whole.
    killed = assert_killed_run_resumes_exactly(
        tmp_path, 'cheetah_dir',
        ['--smoke', '--seed', '4', '--epochs', '3', '--set', 'precision=bf16',
         '--set', 'adam=fused'],
        epochs=3)
    with open(killed / 'params.pkl', 'rb') as f:
        algo = pickle.load(f)['algo']
    assert algo._precision == 'bf16'  # they reached the run
    assert algo.qf1_optimizer.defaults['fused'] is True


def test_tf32_turns_on_tf32_products_for_the_block_only():
    before = torch.backends.cuda.matmul.allow_tf32
    with precision.matmul_precision('tf32'):
        assert torch.backends.cuda.matmul.allow_tf32
        assert torch.backends.cudnn.allow_tf32
    assert torch.backends.cuda.matmul.allow_tf32 == before
    with precision.matmul_precision('bf16'):
        assert torch.backends.cuda.matmul.allow_tf32 == before


def test_precision_is_checked_by_name_and_device():
    for name in precision.PRECISIONS:
        precision.check_precision(name, 'cuda')
    precision.check_precision('tf32', None)  # device not known yet
    with pytest.raises(ValueError, match="precision='fp16': not one of"):
        precision.check_precision('fp16')
    with pytest.raises(ValueError, match='use --device cuda'):
        precision.check_precision('tf32', 'cpu')
    with pytest.raises(ValueError, match='not one of'):
        make_point_algo('pearl', precision='half')


def test_bf16_warns_where_the_cpu_lacks_bfloat16_products(monkeypatch):
    monkeypatch.setattr(precision, 'native_bf16', lambda device_type: False)
    warning = precision.slow_bf16_warning('bf16', 'cpu')
    assert warning.startswith('precision=bf16: ') and '\n' not in warning
    assert precision.slow_bf16_warning('fp32', 'cpu') is None
    monkeypatch.setattr(precision, 'native_bf16', lambda device_type: True)
    assert precision.slow_bf16_warning('bf16', 'cpu') is None
