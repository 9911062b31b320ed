"""The momentum (EMA) key encoder."""
import pickle

import pytest
import torch
from torch import nn

from tcl_garage import MomentumEncoder


def test_update_moves_each_parameter_tau_of_the_way():
    torch.manual_seed(0)
    online = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    momentum = MomentumEncoder(online, tau=0.25)
    with torch.no_grad():
        for p in online.parameters():
            p.add_(torch.randn_like(p))
    before = [p.clone() for p in momentum.encoder.parameters()]
    momentum.update(online)
    for old, new, target in zip(before, momentum.encoder.parameters(),
                                online.parameters()):
        torch.testing.assert_close(new, old + 0.25 * (target - old))


def test_key_parameters_never_receive_gradients():
    online = nn.Linear(3, 2)
    momentum = MomentumEncoder(online, tau=0.5)
    x = torch.randn(5, 3, requires_grad=True)
    (online(x).sum() + momentum(x).sum()).backward()
    assert all(not p.requires_grad for p in momentum.encoder.parameters())
    assert all(p.grad is None for p in momentum.encoder.parameters())
    assert online.weight.grad is not None
    assert not momentum(x).requires_grad


def test_copy_is_independent_and_tau_one_copies():
    online = nn.Linear(3, 2)
    momentum = MomentumEncoder(online, tau=1.0)
    with torch.no_grad():
        online.weight.fill_(3.0)
    assert not torch.equal(momentum.encoder.weight, online.weight)
    momentum.update(online)
    assert torch.equal(momentum.encoder.weight, online.weight)


@pytest.mark.parametrize('tau', [0.0, -0.1, 1.5])
def test_tau_out_of_range_is_rejected(tau):
    with pytest.raises(ValueError, match='tau'):
        MomentumEncoder(nn.Linear(2, 2), tau=tau)


def test_update_with_another_module_is_rejected():
    momentum = MomentumEncoder(nn.Linear(2, 2))
    with pytest.raises(ValueError, match='copied from'):
        momentum.update(nn.Linear(3, 2))


def test_pickles_and_moves_with_to():
    momentum = MomentumEncoder(nn.Linear(2, 2), tau=0.1)
    clone = pickle.loads(pickle.dumps(momentum))
    assert clone.tau == 0.1
    torch.testing.assert_close(clone.encoder.weight, momentum.encoder.weight)
    moved = momentum.to(torch.float64)
    assert moved.encoder.weight.dtype == torch.float64
