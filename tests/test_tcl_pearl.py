"""TCLPEARL: one joint encoder step, EMA keys, logging, pickling, seeds."""
import csv
import pickle

import numpy as np
import pytest
import torch
from dowel import CsvOutput, logger

from conftest import fill_buffers, make_point_algo, train

from tcl_garage.algos import PEARL, TCLPEARL


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def one_step(algo, seed=0):
    np.random.seed(seed)
    torch.manual_seed(seed)
    algo._optimize_policy(np.array([0, 1, 2, 1]))


def capture_encoder_grads(algo):
    """Record the encoder gradients seen by its optimizer's real step."""
    seen = []
    optimizer = algo.context_optimizer
    real_step = optimizer.step

    def step(closure=None):
        seen.append([p.grad.clone() for p in algo.context_encoder.parameters()])
        return real_step(closure)

    optimizer.step = step
    return seen


def test_step_moves_encoder_and_key_encoder_follows_by_ema():
    algo, _ = make_point_algo(key_encoder_tau=0.1)
    fill_buffers(algo)
    enc0, key0 = params(algo.context_encoder), params(algo.key_encoder)
    for a, b in zip(enc0, key0):
        torch.testing.assert_close(a, b)  # the copy starts equal
    one_step(algo)
    enc1, key1 = params(algo.context_encoder), params(algo.key_encoder)
    assert any(not torch.equal(a, b) for a, b in zip(enc0, enc1))
    for k0, k1, e1 in zip(key0, key1, enc1):
        torch.testing.assert_close(k1, k0 + 0.1 * (e1 - k0))
    assert all(p.grad is None for p in algo.key_encoder.parameters())


def test_encoder_gradient_includes_scaled_tcl_term():
    grads = []
    for scale in (1.0, 2.0, 3.0):
        algo, _ = make_point_algo(seed=3, contrastive_loss_scale=scale)
        fill_buffers(algo)
        seen = capture_encoder_grads(algo)
        one_step(algo, seed=4)
        grads.append(seen[0])
    # PEARL's part is the same in all three; the TCL part grows linearly.
    tcl_part = [g2 - g1 for g1, g2 in zip(grads[0], grads[1])]
    assert sum(t.abs().sum() for t in tcl_part) > 1e-6
    for g1, g2, g3 in zip(*grads):
        torch.testing.assert_close(g3 - g2, g2 - g1, atol=1e-5, rtol=1e-4)


def test_scale_zero_and_one_differ_and_zero_leaves_keys_alone():
    results = {}
    for scale in (0.0, 1.0):
        algo, _ = make_point_algo(seed=3, contrastive_loss_scale=scale)
        fill_buffers(algo)
        key0 = params(algo.key_encoder)
        one_step(algo, seed=4)
        results[scale] = params(algo.context_encoder)
        if scale == 0.0:
            assert all(torch.equal(a, b)
                       for a, b in zip(key0, params(algo.key_encoder)))
            assert 'TCLLoss' not in algo.train_statistics
    assert any(not torch.equal(a, b)
               for a, b in zip(results[0.0], results[1.0]))


def test_losses_are_finite_and_recorded():
    algo, _ = make_point_algo()
    fill_buffers(algo)
    for seed in range(3):
        one_step(algo, seed)
    stats = algo.train_statistics
    for name in ('TCLLoss', 'TCLAccuracy', 'TCLWindowPosteriorStd', 'KLLoss',
                 'QLoss', 'VLoss', 'PolicyLoss', 'PosteriorStd'):
        assert np.isfinite(stats[name]), name
    assert 0.0 <= stats['TCLAccuracy'] <= 1.0
    # 8 windows (4 tasks x 2): chance loss is near log(8); the recorded KL is
    # PEARL's kl_lambda * KL(q(z|c) || p(z)), which is > 0.
    assert 0 < stats['TCLLoss'] < 10
    assert stats['KLLoss'] > 0


def test_recorded_kl_loss_is_pearls():
    algo, _ = make_point_algo('pearl')
    fill_buffers(algo)
    one_step(algo)
    expected = algo._kl_lambda * algo._policy.compute_kl_div().item()
    assert algo.train_statistics['KLLoss'] == pytest.approx(expected,
                                                             rel=1e-5)


def test_context_is_the_query_windows():
    algo, _ = make_point_algo(window_size=5, windows_per_task=3)
    fill_buffers(algo)
    env = algo._single_env
    width = (env.observation_space.flat_dim + env.action_space.flat_dim + 1)
    context = algo._sample_context([0, 3])
    assert context.shape == (2, 15, width)
    # Rewards (last feature) = 0.1*task + 0.01*episode + 1e-4*step: each
    # run of 5 steps is contiguous and from one task's episode.
    rewards = context[..., -1].numpy().reshape(2, 3, 5).astype(np.float64)
    np.testing.assert_allclose(np.diff(rewards, axis=-1), 1e-4, atol=1e-6)
    np.testing.assert_array_equal(np.floor(rewards[0] * 10 + 1e-3), 0)
    np.testing.assert_array_equal(np.floor(rewards[1] * 10 + 1e-3), 3)
    single = algo._sample_context(2)
    assert single.shape == (1, 15, width)


def test_context_batch_sizes_are_rejected():
    with pytest.raises(ValueError, match='window_size'):
        make_point_algo(embedding_batch_size=32)


def test_pickle_round_trip_keeps_key_encoder_and_settings():
    algo, _ = make_point_algo(window_size=6, contrastive_loss_scale=2.5,
                              temperature=0.5, key_encoder_tau=0.02,
                              positive='task', negatives='other-tasks')
    fill_buffers(algo)
    one_step(algo)
    clone = pickle.loads(pickle.dumps(algo))
    assert isinstance(clone, TCLPEARL)
    assert clone.tcl_settings == algo.tcl_settings == dict(
        window_size=6, windows_per_task=2, contrastive_loss_scale=2.5,
        temperature=0.5, key_encoder_tau=0.02, positive='task',
        negatives='other-tasks')
    for a, b in zip(params(clone.key_encoder), params(algo.key_encoder)):
        torch.testing.assert_close(a, b)
    # The clone trains, with TCL, and its encoder has no leftover patch.
    assert 'forward' not in vars(clone.context_encoder)
    fill_buffers(clone)
    key0 = params(clone.key_encoder)
    one_step(clone)
    assert any(not torch.equal(a, b)
               for a, b in zip(key0, params(clone.key_encoder)))
    assert np.isfinite(clone.train_statistics['TCLLoss'])


def old_layout(state):
    """A state as pickled before TCL's component: its settings and key
    encoder held by the algorithm itself."""
    tcl = state.pop('_tcl')
    state['_key_encoder'] = tcl.key_encoder
    for name, value in tcl.settings.items():
        if name != 'key_encoder_tau':
            state['_' + name] = value
    state['_warned_short_episodes'] = False
    return state


def test_a_snapshot_from_before_the_tcl_component_loads_into_one():
    algo, _ = make_point_algo(window_size=6, temperature=0.5,
                              key_encoder_tau=0.02, negatives='other-tasks')
    settings = algo.tcl_settings
    state = old_layout(pickle.loads(pickle.dumps(algo)).__getstate__())
    del state['_positive']  # older still: before the design choices
    clone = TCLPEARL.__new__(TCLPEARL)
    clone.__setstate__(state)
    assert clone.tcl_settings == dict(settings, positive='trajectory')
    assert clone.key_encoder is state['_tcl'].key_encoder
    for a, b in zip(params(clone.key_encoder), params(algo.key_encoder)):
        torch.testing.assert_close(a, b)
    fill_buffers(clone)
    key0 = params(clone.key_encoder)
    one_step(clone)
    assert any(not torch.equal(a, b)
               for a, b in zip(key0, params(clone.key_encoder)))


def test_to_moves_every_tcl_network():
    algo, _ = make_point_algo()
    assert algo.key_encoder in algo.networks
    algo.to(torch.device('meta'))
    assert all(p.device.type == 'meta'
               for p in algo.key_encoder.parameters())
    assert all(p.device.type == 'meta'
               for p in algo.context_encoder.parameters())


def read_progress(log_dir):
    with open(log_dir / 'progress.csv', newline='') as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize('algo_name', ['tcl-pearl', 'pearl'])
def test_two_epochs_train_and_log(tmp_path, algo_name):
    algo, env = make_point_algo(algo_name)
    csv_out = CsvOutput(str(tmp_path / 'progress.csv'))
    logger.add_output(csv_out)
    try:
        train(algo, env, tmp_path, n_epochs=2)
    finally:
        logger.remove_output_type(CsvOutput)
    rows = read_progress(tmp_path)
    assert len(rows) == 2
    keys = ['Train/QLoss', 'Train/VLoss', 'Train/PolicyLoss', 'Train/KLLoss',
            'MetaTest/Average/AverageReturn']
    if algo_name == 'tcl-pearl':
        keys += ['Train/TCLLoss', 'Train/TCLAccuracy']
    for key in keys:
        assert all(np.isfinite(float(row[key])) for row in rows), key
    assert (tmp_path / 'params.pkl').exists()


def test_same_seed_same_parameters(tmp_path):
    results = []
    for run in range(2):
        algo, env = make_point_algo(seed=7)
        train(algo, env, tmp_path / str(run), n_epochs=1)
        results.append(params(algo._policy) + params(algo.key_encoder) +
                       params(algo._qf1))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_other_seed_other_parameters(tmp_path):
    results = []
    for seed in (7, 8):
        algo, env = make_point_algo(seed=seed)
        train(algo, env, tmp_path / str(seed), n_epochs=1)
        results.append(params(algo.context_encoder))
    assert any(not torch.equal(a, b) for a, b in zip(*results))


def test_is_pearl_plus_tcl():
    import garage.torch.algos
    assert issubclass(TCLPEARL, PEARL)
    assert issubclass(TCLPEARL, garage.torch.algos.PEARL)


def test_short_episodes_shorten_the_windows_with_a_warning():
    algo, _ = make_point_algo(window_size=8, windows_per_task=1)
    fill_buffers(algo, episode_length=20)
    for task in (1, 2):  # these tasks only hold 5-step episodes
        algo._context_replay_buffers[task].clear()
    fill_short = {'observations': np.zeros((5, 3)), 'actions': np.zeros(
        (5, 2)), 'rewards': np.zeros((5, 1)), 'next_observations':
                  np.zeros((5, 3)), 'dones': np.zeros((5, 1), bool)}
    for task in (1, 2):
        algo._context_replay_buffers[task].add_path(fill_short)
    with pytest.warns(UserWarning, match='longest: 5'):
        one_step(algo)
    # One step shorter than the episodes: a key starts elsewhere than its
    # query.
    assert algo.train_statistics['TCLWindowSize'] == 4.0
    assert algo.train_statistics['TCLShortWindowFraction'] == 1.0
    assert np.isfinite(algo.train_statistics['TCLLoss'])
    algo._train_stats.clear()
    np.random.seed(0)
    algo._optimize_policy(np.array([0, 3, 0, 3]))
    assert algo.train_statistics['TCLWindowSize'] == 8.0
    assert algo.train_statistics['TCLShortWindowFraction'] == 0.0


@pytest.mark.parametrize('episode_length', [9, 10, 30])
def test_no_positive_pair_is_a_copy_of_its_query(episode_length):
    """Even when episodes are exactly one window long (W = 9 here, in
    episodes of 9 steps), the key is another window of the trajectory."""
    algo, _ = make_point_algo(window_size=9, windows_per_task=2)
    fill_buffers(algo, episode_length=episode_length)
    for seed in range(5):
        np.random.seed(seed)
        windows = algo._sample_windows([0, 1, 2, 3, 0], with_keys=True)
        assert windows.query['rewards'].shape[1] <= episode_length - 1
        assert (windows.key_starts != windows.query_starts).all()
        # Rewards encode the step: the key's first step is another one.
        assert not np.isclose(windows.query['rewards'][:, 0],
                              windows.key['rewards'][:, 0]).any()


def test_a_one_step_episode_is_a_clear_error():
    algo, _ = make_point_algo(window_size=4, windows_per_task=1)
    fill_buffers(algo, episode_length=1)
    with pytest.raises(ValueError, match='no episode longer than 1'):
        algo._sample_windows([0], with_keys=True)


@pytest.mark.parametrize('temperature', [1.0, 0.3])
def test_tcl_loss_from_one_similarity_equals_the_separate_functions(
        temperature):
    # TCL.loss computes the masked similarities once for its loss and its
    # accuracy: bit for bit the two public functions, gradients included.
    from tcl_garage.tcl import TCL, contrastive_accuracy
    from tcl_garage.tcl.loss import trajectory_contrastive_loss
    g = torch.Generator().manual_seed(4)
    query_mean, query_std = (torch.randn(8, 5, generator=g),
                             torch.rand(8, 5, generator=g))
    key_mean, key_std = (query_mean + 0.3 * torch.randn(8, 5, generator=g),
                         torch.rand(8, 5, generator=g))
    ids = dict(trajectory_ids=torch.tensor([0, 0, 1, 2, 3, 3, 4, 5]),
               key_trajectory_ids=torch.tensor([0, 0, 1, 2, 3, 3, 4, 5]),
               task_ids=torch.tensor([0, 0, 0, 1, 1, 1, 2, 2]))
    tcl = TCL(torch.nn.Linear(2, 10), temperature=temperature,
              contrastive_loss_scale=2.0)
    results = []
    for fused in (True, False):
        mean = query_mean.clone().requires_grad_()
        std = query_std.clone().requires_grad_()
        if fused:
            loss, statistics = tcl.loss(mean, std, key_mean, key_std, ids)
            accuracy = statistics['TCLAccuracy']
        else:
            loss = 2.0 * trajectory_contrastive_loss(
                mean, std, key_mean, key_std, temperature, **ids)
            accuracy = contrastive_accuracy(mean, std, key_mean, key_std,
                                            **ids)
        loss.backward()
        results.append((loss.detach(), accuracy, mean.grad, std.grad))
    assert all(torch.equal(a, b) for a, b in zip(*results))
