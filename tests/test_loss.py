"""The TCL loss against a loop-by-loop reading of paper eqs. 7 and 8."""
import math

import pytest
import torch

from tcl_garage import (contrastive_accuracy, trajectory_contrastive_loss,
                        wasserstein_similarity)


def loop_loss(qm, qs, km, ks, temperature=1.0):
    """InfoNCE of eq. 8 with eq. 7, one scalar at a time (float64)."""
    n = qm.shape[0]
    total = 0.0
    for i in range(n):
        sims = []
        for j in range(n):
            d = sum((float(qm[i, c]) - float(km[j, c]))**2 +
                    (float(qs[i, c]) - float(ks[j, c]))**2
                    for c in range(qm.shape[1]))
            sims.append(-d / temperature)
        top = max(sims)
        log_denominator = top + math.log(sum(math.exp(s - top)
                                             for s in sims))
        total -= sims[i] - log_denominator
    return total / n


def random_posteriors(n, latent, scale, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, latent, generator=g, dtype=torch.float64) * scale,
            torch.rand(n, latent, generator=g, dtype=torch.float64) * scale,
            torch.randn(n, latent, generator=g, dtype=torch.float64) * scale,
            torch.rand(n, latent, generator=g, dtype=torch.float64) * scale)


@pytest.mark.parametrize('scale', [0.1, 1.0, 30.0, 1000.0])
@pytest.mark.parametrize('temperature', [1.0, 0.5, 4.0])
def test_loss_equals_loop_implementation(scale, temperature):
    qm, qs, km, ks = random_posteriors(7, 5, scale, seed=int(scale * 10))
    loss = trajectory_contrastive_loss(qm, qs, km, ks, temperature)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(
        loop_loss(qm, qs, km, ks, temperature), rel=1e-9, abs=1e-9)


def test_large_distances_give_finite_loss_and_gradients_in_float32():
    qm, qs, km, ks = (t.float() for t in random_posteriors(8, 7, 1e3, 3))
    qm.requires_grad_(True)
    loss = trajectory_contrastive_loss(qm, qs, km, ks)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(qm.grad).all()


def test_similarity_is_negative_squared_w2():
    qm = torch.tensor([[0., 0.]])
    qs = torch.tensor([[1., 1.]])
    km = torch.tensor([[3., 4.], [0., 0.]])
    ks = torch.tensor([[1., 3.], [1., 1.]])
    sim = wasserstein_similarity(qm, qs, km, ks)
    assert sim.tolist() == [[-(25. + 4.), 0.]]


def test_identical_pairs_far_from_others_give_zero_loss_and_full_accuracy():
    means = torch.arange(6.).reshape(6, 1).repeat(1, 3) * 100
    std = torch.ones(6, 3)
    assert trajectory_contrastive_loss(means, std, means, std).item() < 1e-6
    assert contrastive_accuracy(means, std, means, std).item() == 1.0


def test_shuffled_keys_lower_accuracy_and_raise_loss():
    qm, qs, km, ks = random_posteriors(32, 4, 1.0, 5)
    km, ks = qm + 0.01 * km, qs  # keys near their queries
    aligned_acc = contrastive_accuracy(qm, qs, km, ks)
    aligned_loss = trajectory_contrastive_loss(qm, qs, km, ks)
    perm = torch.roll(torch.arange(32), 1)
    shuffled_acc = contrastive_accuracy(qm, qs, km[perm], ks[perm])
    shuffled_loss = trajectory_contrastive_loss(qm, qs, km[perm], ks[perm])
    assert aligned_acc.item() == 1.0
    assert shuffled_acc.item() < 0.2
    assert shuffled_loss > aligned_loss


def test_same_trajectory_keys_are_not_negatives():
    qm, qs, km, ks = random_posteriors(4, 3, 1.0, 7)
    ids = torch.tensor([0, 0, 1, 2])
    masked = trajectory_contrastive_loss(qm, qs, km, ks, trajectory_ids=ids)
    # Row 0 and row 1 each lose one negative: compute by hand.
    sim = wasserstein_similarity(qm, qs, km, ks)
    expected = 0.0
    for i, allowed in enumerate([[0, 2, 3], [1, 2, 3], [0, 1, 2, 3],
                                 [0, 1, 2, 3]]):
        expected -= (sim[i, i] - torch.logsumexp(sim[i, allowed], 0)).item()
    assert masked.item() == pytest.approx(expected / 4, rel=1e-9)
    unmasked = trajectory_contrastive_loss(qm, qs, km, ks)
    assert masked.item() != pytest.approx(unmasked.item())


def test_gradients_reach_queries_not_keys():
    qm, qs, km, ks = (t.float() for t in random_posteriors(5, 3, 1.0, 9))
    for t in (qm, qs, km, ks):
        t.requires_grad_(True)
    trajectory_contrastive_loss(qm, qs, km.detach(), ks.detach()).backward()
    assert qm.grad.abs().sum() > 0 and qs.grad.abs().sum() > 0
    assert km.grad is None and ks.grad is None


@pytest.mark.parametrize('bad', [
    dict(temperature=0.0),
    dict(key_mean=torch.zeros(3, 2), key_std=torch.zeros(3, 2)),
    dict(trajectory_ids=torch.zeros(5, dtype=torch.long)),
])
def test_bad_inputs_raise_value_error(bad):
    args = dict(query_mean=torch.zeros(4, 2), query_std=torch.ones(4, 2),
                key_mean=torch.zeros(4, 2), key_std=torch.ones(4, 2))
    args.update(bad)
    with pytest.raises(ValueError):
        trajectory_contrastive_loss(**args)
