"""Our PEARL update does less work than garage's, with the same mathematics.

The speed-ups (benchmarks/step_time.py) must not change what is learned:
starting from the same networks and buffers, with the same random draws, our
PEARL reaches the same losses and parameters as garage's own PEARL; and the
work garage throws away (Q-function gradients of the policy loss, a second
backward pass through the encoder) is no longer done.
"""
import copy

import numpy as np
import pytest
import torch
from garage.torch.algos import PEARL as GaragePEARL

from conftest import fill_buffers, make_point_algo

from tcl_garage.algos.pearl import _BackwardRouter
from tcl_garage.loss import trajectory_contrastive_loss


class _LossesOf(_BackwardRouter):
    """Runs garage's backward calls unchanged, keeping each loss."""

    def __init__(self):
        self.losses = []

        def backward(loss, retain_graph):
            self.losses.append(loss.item())
            torch.autograd.backward(loss, retain_graph=retain_graph)

        super().__init__(backward)


def stock_and_ours():
    algos = []
    for algo_class in (GaragePEARL, 'pearl'):
        algo, _ = make_point_algo(algo_class, seed=5)
        fill_buffers(algo)
        algos.append(algo)
    return algos


def all_params(algo):
    return [p.detach().clone() for net in algo.networks
            for p in net.parameters()]


def test_same_losses_and_parameters_as_garage_pearl():
    # With the information bottleneck: garage's networks are the wrong size
    # without it (a fixed defect), so there is nothing to compare there.
    stock, ours = stock_and_ours()
    for a, b in zip(all_params(stock), all_params(ours)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    stock_losses, our_losses = [], []
    for step in range(3):
        for algo in (stock, ours):
            np.random.seed(step)
            torch.manual_seed(step)
            indices = np.random.choice(4, 4)
            if algo is stock:
                with _LossesOf() as recorder:
                    algo._optimize_policy(indices)
                stock_losses.append(recorder.losses)
            else:
                algo._optimize_policy(indices)
                our_losses.append(list(algo._step_losses.values()))
    np.testing.assert_allclose(np.array(our_losses, dtype=float),
                               np.array(stock_losses), rtol=1e-5, atol=1e-6)
    for a, b in zip(all_params(stock), all_params(ours)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def networks_by_name(algo):
    return dict(encoder=algo._policy.networks[0],
                policy=algo._policy.networks[1],
                qf1=algo._qf1,
                qf2=algo._qf2,
                vf=algo._vf,
                target_vf=algo.target_vf)


def gradients_per_step(algo):
    """How many times, at most, a parameter of each network gets a gradient
    in one training step."""
    counts, handles = {}, []
    for name, net in networks_by_name(algo).items():
        for index, param in enumerate(net.parameters()):
            counts[name, index] = 0

            def hook(_, key=(name, index)):
                counts[key] += 1

            handles.append(param.register_post_accumulate_grad_hook(hook))
    np.random.seed(0)
    algo._optimize_policy(np.arange(4))
    for handle in handles:
        handle.remove()
    return {
        name: max(count for (net, _), count in counts.items() if net == name)
        for name in networks_by_name(algo)
    }


def test_each_network_is_back_propagated_once_per_step():
    stock, ours = stock_and_ours()
    # garage: the encoder twice (KL, then Q loss); each Q-function twice (Q
    # loss, then the policy loss, whose Q gradients it zeroes unused).
    assert gradients_per_step(stock) == dict(encoder=2, policy=1, qf1=2,
                                             qf2=2, vf=1, target_vf=0)
    assert gradients_per_step(ours) == dict(encoder=1, policy=1, qf1=1, qf2=1,
                                            vf=1, target_vf=0)


def test_tcl_pearl_reuses_the_context_encoding_for_its_queries():
    algo, _ = make_point_algo(seed=2)
    fill_buffers(algo)
    before = copy.deepcopy(algo)
    windows = []
    sample = algo._sample_windows

    def keep(*args, **kwargs):
        windows.append(sample(*args, **kwargs))
        return windows[-1]

    algo._sample_windows = keep
    calls = []
    encoder_class = type(algo.context_encoder)
    forward = encoder_class.forward

    def counted(self, *args, **kwargs):
        if self is algo.context_encoder:  # not the key encoder (a copy)
            calls.append(1)
        return forward(self, *args, **kwargs)

    encoder_class.forward = counted
    try:
        np.random.seed(1)
        algo._optimize_policy(np.arange(4))
    finally:
        encoder_class.forward = forward
    assert len(calls) == 1  # PEARL's posterior inference only
    # The TCL loss is the one computed from scratch on the same windows.
    q_mean, q_std = before.window_posteriors(windows[0].query)
    k_mean, k_std = before.window_posteriors(windows[0].key,
                                             before.key_encoder)
    expected = trajectory_contrastive_loss(
        q_mean, q_std, k_mean, k_std, 1.0,
        torch.as_tensor(windows[0].trajectory_ids))
    assert algo.train_statistics['TCLLoss'] == pytest.approx(expected.item(),
                                                              rel=1e-5)
