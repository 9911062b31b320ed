"""``compile_step=True`` (``--set compile=true``): a compiled training step
gives the eager step's parameters, to float tolerance."""
import numpy as np
import pytest
import torch
import torch._inductor.config as inductor_config
from garage.torch import set_gpu_mode

from conftest import fill_buffers, make_point_algo


def parameters_after_steps(compile_step, steps=3, device='cpu'):
    algo, _ = make_point_algo('tcl-pearl', seed=3, compile_step=compile_step)
    if device != 'cpu':
        set_gpu_mode(True)
        algo.to()
    fill_buffers(algo)
    for step in range(steps):
        np.random.seed(step)
        torch.manual_seed(step)
        algo._optimize_policy(np.array([0, 1, 2, 1]))
    stats = algo.train_statistics
    params = [p.detach().cpu().clone() for net in algo.networks
              for p in net.parameters()]
    set_gpu_mode(False)
    return params, stats, algo


def assert_same(eager, compiled):
    for a, b in zip(eager[0], compiled[0]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    for name in ('QLoss', 'VLoss', 'PolicyLoss', 'KLLoss', 'TCLLoss'):
        assert compiled[1][name] == pytest.approx(eager[1][name], rel=1e-4)


@pytest.fixture
def eager_random_numbers(monkeypatch):
    """Inductor draws random numbers its own way; compare with eager's."""
    monkeypatch.setattr(inductor_config, 'fallback_random', True)


# The suite's longest test (the inductor's C++ compile on a 2-core CPU) for
# an opt-in setting: `make test-all` runs it.
@pytest.mark.slow
def test_compiled_step_equals_eager_on_cpu(eager_random_numbers):
    eager = parameters_after_steps(False)
    compiled = parameters_after_steps(True)
    assert compiled[2]._compiled_step is not None
    assert eager[2]._compiled_step is None
    assert_same(eager, compiled)


@pytest.mark.cuda
def test_compiled_step_with_cuda_graphs_equals_eager(eager_random_numbers):
    eager = parameters_after_steps(False, steps=5, device='cuda')
    compiled = parameters_after_steps(True, steps=5, device='cuda')
    assert_same(eager, compiled)


def test_compile_is_a_setting():
    from tcl_garage.experiment import load_config
    assert load_config('cheetah-vel')['compile'] is False
    assert load_config('cheetah-vel', overrides={'compile': True})['compile']
