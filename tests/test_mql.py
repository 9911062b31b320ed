"""MQL and TCL-MQL: the recurrent context, the propensity weights, which
parameters each loss trains, the adaptation and its rollback, and runs of
the launchers (determinism, resume, every benchmark family)."""
import copy
import pickle

from garage.experiment.deterministic import set_seed
from garage.replay_buffer import PathBuffer
import numpy as np
import pytest
import torch

from tcl_garage.algos import MQL, TCLMQL
from tcl_garage.algos.path_buffers import stored_fields
from tcl_garage.algos.propensity import (effective_sample_size,
                                         fit_logistic_regression,
                                         propensity_weights)
from tcl_garage.algos.recurrent_context import (buffer_histories,
                                                HistoryTracker,
                                                RecurrentContext,
                                                transition_features)
from tcl_garage.experiment.config import load_config
from tcl_garage.experiment.launcher import build_run
from tcl_garage.tcl.loss import trajectory_contrastive_loss

from conftest import (assert_killed_run_resumes_exactly, launch, progress,
                      same_parameters, parameters)

OBS, ACT, H = 3, 2, 3


def hand_built_buffer():
    """Two episodes (5 and 4 steps); step t of episode e has observation
    (e, t, 1), action (-t, e) and reward 10 e + t: every feature says where
    it came from."""
    buffer = PathBuffer(100)
    for episode, length in enumerate((5, 4)):
        t = np.arange(length, dtype=np.float32)
        buffer.add_path(dict(
            observations=np.stack([np.full(length, episode), t,
                                   np.ones(length)], 1).astype(np.float32),
            actions=np.stack([-t, np.full(length, episode)], 1).astype(
                np.float32),
            rewards=(10 * episode + t)[:, None],
            next_observations=np.zeros((length, OBS), np.float32),
            dones=np.zeros((length, 1), bool),
            episode_steps=np.arange(length)[:, None]))
    return buffer


def features_of(episode, step):
    """The (a, r, o) features of one transition of the hand-built buffer."""
    return np.array([-step, episode, 10 * episode + step, episode, step, 1],
                    np.float32)


def test_a_history_is_the_previous_transitions_of_its_episode_zero_padded():
    buffer = hand_built_buffer()
    history, next_history = buffer_histories(*stored_fields(buffer),
                                             np.arange(9), H)
    assert history.shape == next_history.shape == (9, H, ACT + 1 + OBS)
    slot = 0
    for episode, length in enumerate((5, 4)):
        for step in range(length):
            expected = np.zeros((H + 1, 6), np.float32)
            for k in range(H + 1):  # offsets -H .. 0 from the transition
                if step - H + k >= 0:
                    expected[k] = features_of(episode, step - H + k)
            np.testing.assert_array_equal(history[slot], expected[:-1])
            np.testing.assert_array_equal(next_history[slot], expected[1:])
            slot += 1
    # Episode 1's first step reads zeros only, nothing of episode 0.
    assert not history[5].any()


def test_the_tracker_of_a_running_episode_gives_the_buffer_histories():
    buffer = hand_built_buffer()
    stored, _ = buffer_histories(*stored_fields(buffer), np.arange(5), H)
    tracker = HistoryTracker(rows=2, length=H, width=6)
    for step in range(5):
        np.testing.assert_array_equal(tracker.histories([1])[0],
                                      stored[step])
        fields = {key: buffer._buffer[key][step:step + 1]
                  for key in ('observations', 'actions', 'rewards')}
        tracker.push([1], fields['observations'], fields['actions'],
                      fields['rewards'][:, 0])
    assert not tracker.histories([0]).any()  # the other row never moved


def test_the_recurrent_context_equals_a_step_by_step_gru_cell():
    torch.manual_seed(0)
    context = RecurrentContext(6, 5)
    cell = torch.nn.GRUCell(6, 5)
    cell.weight_ih.data = context.gru.weight_ih_l0.data.clone()
    cell.weight_hh.data = context.gru.weight_hh_l0.data.clone()
    cell.bias_ih.data = context.gru.bias_ih_l0.data.clone()
    cell.bias_hh.data = context.gru.bias_hh_l0.data.clone()
    history, _ = buffer_histories(*stored_fields(hand_built_buffer()),
                                  np.arange(9), H)
    history = torch.as_tensor(history)
    state = torch.zeros(9, 5)
    for k in range(H):
        state = cell(history[:, k], state)
    torch.testing.assert_close(context(history), state, rtol=1e-5, atol=1e-6)


def test_windows_become_gru_input_in_the_history_order():
    buffer = hand_built_buffer()
    window = {key: buffer._buffer[key][None, 1:4]
              for key in ('observations', 'actions', 'rewards')}
    np.testing.assert_array_equal(
        transition_features(window)[0],
        np.stack([features_of(0, t) for t in (1, 2, 3)]))


def test_the_logistic_regression_is_at_its_optimum():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1, 1, (40, 3)), rng.normal(-1, 1, (60, 3))])
    y = np.concatenate([np.zeros(40), np.ones(60)])
    c = 0.1
    w, b = fit_logistic_regression(x, y, c)
    # The gradient of 0.5 |w|^2 + c sum log-loss vanishes at the answer.
    p = 1 / (1 + np.exp(-(x @ w + b)))
    np.testing.assert_allclose(w + c * x.T @ (p - y), 0, atol=1e-7)
    np.testing.assert_allclose(c * (p - y).sum(), 0, atol=1e-7)
    assert (w < 0).all()  # training data (label 1) lies at negative x


def test_propensities_are_large_near_the_test_task_and_small_far_from_it():
    rng = np.random.default_rng(1)
    test = rng.normal(3, 0.5, (50, 2))
    train = rng.normal(-3, 0.5, (250, 2))
    w, b = fit_logistic_regression(np.concatenate([test, train]),
                                   np.r_[np.zeros(50), np.ones(250)], 1.0)
    near = torch.tensor([[3.0, 3.0]], dtype=torch.float64)
    far = torch.tensor([[-3.0, -3.0]], dtype=torch.float64)
    beta_near = propensity_weights(near, w, b, beta_clip=1.1)
    beta_far = propensity_weights(far, w, b, beta_clip=1.1)
    # Near the test task the log-odds of "training" are very negative: the
    # clip decides, beta = e^1.1; far from it, beta = exp(-f) is tiny.
    torch.testing.assert_close(beta_near, torch.full((1, 1), np.exp(1.1),
                                                     dtype=torch.float64))
    f_far = float(far[0].numpy() @ w + b)
    torch.testing.assert_close(beta_far, torch.full((1, 1), np.exp(-f_far),
                                                    dtype=torch.float64))
    assert beta_far.item() < 1e-3


def test_the_effective_sample_size_is_one_for_equal_weights():
    assert effective_sample_size(torch.ones(10)).item() == pytest.approx(1)
    one_hot = torch.zeros(10)
    one_hot[3] = 2.0
    assert effective_sample_size(one_hot).item() == pytest.approx(0.1)


def test_point_masses_make_the_similarity_a_negative_squared_distance():
    q = torch.tensor([[0.0, 1.0], [2.0, 0.0]])
    k = torch.tensor([[0.0, 0.0], [2.0, 2.0]])
    logits_loss = trajectory_contrastive_loss(q, None, k, None)
    similarity = -torch.cdist(q, k).square()
    expected = torch.nn.functional.cross_entropy(similarity,
                                                 torch.arange(2))
    torch.testing.assert_close(logits_loss, expected)
    zero = torch.zeros_like(q)
    torch.testing.assert_close(
        trajectory_contrastive_loss(q, zero, k, zero), logits_loss)


def make_mql(algo='mql', seed=0, **overrides):
    """A smoke-sized MQL on the point robot, its buffers filled."""
    set_seed(seed)
    config = load_config('point', algo=algo, profile='smoke',
                         overrides=overrides)
    built, _ = build_run(config)
    mql = built.algo
    mql._collect_initial()
    mql._collect([0, 1])
    return mql


def batch_of(mql):
    return mql._sample_training_batch(16)


def named(module, prefix):
    return {f'{prefix}.{name}': p for name, p in module.named_parameters()}


def test_the_critic_step_leaves_the_actor_alone():
    mql = make_mql()
    actor_before = copy.deepcopy(mql.actor.state_dict())
    critic_before = [p.clone() for p in mql.critic.parameters()]
    mql._critic_step(batch_of(mql))
    for name, value in mql.actor.state_dict().items():
        assert torch.equal(value, actor_before[name]), name
    assert all(p.grad is None for p in mql.actor.parameters())
    # Every critic parameter, its GRU included, got a gradient and moved.
    for name, p in mql.critic.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert not any(torch.equal(a, b) for a, b in
                   zip(critic_before, mql.critic.parameters()))


def test_the_actor_loss_trains_the_actor_and_gives_the_critic_nothing():
    state = make_mql().network_state()
    gradients = {}
    for update_actor in (False, True):
        mql = make_mql()
        mql.load_network_state(state)
        batch = batch_of(mql)
        torch.manual_seed(5)  # the same target-policy noise
        mql._critic_step(batch)
        if update_actor:
            mql._actor_step(batch)
        gradients[update_actor] = [p.grad.clone()
                                   for p in mql.critic.parameters()]
        if update_actor:
            for name, p in mql.actor.named_parameters():
                assert p.grad is not None and p.grad.abs().sum() > 0, name
    # The critic's gradients are those of the critic loss alone.
    assert all(torch.equal(a, b)
               for a, b in zip(gradients[False], gradients[True]))


def test_the_tcl_loss_reaches_the_critics_context_encoder_only():
    mql = make_mql('tcl-mql')
    assert isinstance(mql, TCLMQL)
    loss, statistics = mql._tcl_loss()
    # TCL-MQL's columns: a shortened history shows as its window size.
    assert set(statistics) == {'TCLLoss', 'TCLAccuracy', 'TCLWindowSize'}
    loss.backward()
    for name, p in named(mql.critic.context, 'context').items():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for head in (mql.critic.q1, mql.critic.q2):
        assert all(p.grad is None for p in head.parameters())
    assert all(p.grad is None for p in mql.actor.parameters())
    assert all(not p.requires_grad and p.grad is None
               for p in mql.key_encoder.parameters())


def test_the_momentum_encoder_follows_the_critics_encoder_after_each_step():
    mql = make_mql('tcl-mql')
    keys = [p.clone() for p in mql.key_encoder.parameters()]
    mql._train_step(batch_of(mql))
    tau = mql.key_encoder.tau
    for before, key, live in zip(keys, mql.key_encoder.parameters(),
                                 mql.critic.context.parameters()):
        torch.testing.assert_close(key, torch.lerp(before, live, tau))


def test_a_tcl_mql_snapshot_from_before_the_tcl_component_loads_into_one():
    mql = make_mql('tcl-mql')
    settings = mql.tcl_settings
    state = pickle.loads(pickle.dumps(mql)).__getstate__()
    tcl = state.pop('_tcl')  # the layout before the component:
    state['_key_encoder'] = tcl.key_encoder
    for name in ('windows_per_task', 'contrastive_loss_scale',
                 'temperature', 'positive', 'negatives'):
        state['_' + name] = getattr(tcl, name)
    clone = TCLMQL.__new__(TCLMQL)
    clone.__setstate__(state)
    assert clone.tcl_settings == settings
    assert clone.tcl.window_size == clone.history_length
    keys = [p.clone() for p in clone.key_encoder.parameters()]
    clone._train_step(batch_of(clone))
    for before, key, live in zip(keys, clone.key_encoder.parameters(),
                                 clone.critic.context.parameters()):
        torch.testing.assert_close(key, torch.lerp(before, live,
                                                   clone.key_encoder.tau))


def test_mql_is_a_table_row_with_its_own_block():
    config = load_config('cheetah-vel', algo='tcl-mql')
    assert config['mql']['history_length'] == 20
    ml1 = load_config('ml1/reach-v3', algo='mql')['mql']
    assert (ml1['beta_clip'], ml1['policy_update_every'],
            ml1['weighted_adaptation_steps'], ml1['history_length'],
            ml1['context_size']) == (1.1, 3, 400, 10, 30)
    assert load_config('cheetah-vel', algo='mql', profile='cpu-hour')[
        'mql']['updates_per_episode'] is None


def test_adaptation_changes_the_actor_and_the_rollback_restores_everything():
    mql = make_mql()
    before = mql.network_state()
    slot = mql._num_train_tasks  # the first test slot
    mql._envs.set_tasks({slot: mql._test_task_sampler.sample(1)[0]})
    explored = mql.run_episodes([slot], [mql.actor], noise=False)
    adapted, statistics = mql.adapt(explored)
    assert set(statistics) == {'ClassifierAccuracy', 'PropensityMean',
                               'PropensityESS'}
    assert 0 < statistics['PropensityESS'] <= 1
    assert not all(torch.equal(a, b) for a, b in
                   zip(adapted.parameters(), mql.actor.parameters()))
    after = mql.network_state()
    for name in ('actor', 'critic', 'target_actor', 'target_critic'):
        for key, value in before[name].items():
            assert torch.equal(value, after[name][key]), (name, key)
    for name in ('actor_optimizer', 'critic_optimizer'):
        for index, slot in before[name]['state'].items():
            for key, value in slot.items():
                assert torch.equal(value, after[name]['state'][index][key])


def test_td3_context_evaluates_without_adapting(monkeypatch):
    mql = make_mql()
    mql._adapt = False
    monkeypatch.setattr(MQL, 'adapt', lambda *a: pytest.fail('adapted'))
    from dowel import tabular
    tabular.clear()
    mql.meta_test()
    logged = tabular.as_primitive_dict
    assert np.isfinite(logged['MetaTest/Average/AverageReturn'])
    assert logged['MetaTest/Average/NumEpisodes'] == 2  # one a test task
    assert not any('Propensity' in key for key in logged)
    tabular.clear()


# (MQL alone behind --run-slow: TCL-MQL's resume restores MQL's whole state
# and TCL's.)
@pytest.mark.parametrize('algo', [pytest.param('mql', marks=pytest.mark.slow),
                                  'tcl-mql'])
def test_a_killed_mql_run_resumes_to_the_run_left_alone(tmp_path, algo):
    killed = assert_killed_run_resumes_exactly(
        tmp_path, 'cheetah_vel', ['--algo', algo, '--smoke', '--epochs', '3',
                                  '--quiet'], epochs=3)
    assert 'MetaTest/Average/AverageReturn' in progress(killed)[0]


def test_the_same_seed_gives_the_same_mql_run_with_or_without_workers(
        tmp_path):
    """Runs a and b: seed 0 in this process and in 2 worker processes;
    c: seed 1 (one epoch is enough to differ)."""
    runs = [launch('cheetah_vel', '--algo', 'tcl-mql', '--smoke', '--quiet',
                   '--seed', str(seed), '--n-workers', workers, '--epochs',
                   epochs, '--log-dir', str(tmp_path / name))
            for name, seed, workers, epochs in (('a', 0, '0', '2'),
                                                ('b', 0, '2', '2'),
                                                ('c', 1, '0', '1'))]
    assert all(run.returncode == 0 for run in runs), [
        run.stderr[-2000:] for run in runs]
    assert progress(tmp_path / 'a') == progress(tmp_path / 'b')
    assert progress(tmp_path / 'a')[:1] != progress(tmp_path / 'c')
    assert same_parameters(parameters(tmp_path / 'a'),
                           parameters(tmp_path / 'b'))


@pytest.mark.parametrize('script, extra, algo', [
    ('walker_rand_params', [], 'mql'),
    ('metaworld_ml1', ['--env', 'reach-v3'], 'mql'),
    # Every other family with TCL-MQL (MQL's whole step and TCL's);
    # Walker and Humanoid end episodes early: shortened windows.
    ('walker_rand_params', [], 'tcl-mql'),
    ('metaworld_ml1', ['--env', 'reach-v3'], 'tcl-mql'),
    ('cheetah_dir', [], 'tcl-mql'),
    ('ant_dir', [], 'tcl-mql'),
    ('ant_goal', [], 'tcl-mql'),
    ('humanoid_dir', [], 'tcl-mql'),
])
def test_mql_and_tcl_mql_run_on_every_benchmark_family(tmp_path, script,
                                                       extra, algo):
    run = launch(script, *extra, '--algo', algo, '--smoke', '--quiet',
                 '--log-dir', str(tmp_path / 'run'))
    assert run.returncode == 0, run.stderr[-2000:]
    rows = progress(tmp_path / 'run')
    assert len(rows) == 2
    assert np.isfinite(float(rows[-1]['MetaTest/Average/AverageReturn']))
    if script == 'metaworld_ml1':
        assert 'MetaTest/Average/SuccessRate' in rows[-1]
    if algo == 'tcl-mql':
        assert np.isfinite(float(rows[-1]['Train/TCLLoss']))


@pytest.mark.parametrize('setting, message', [
    (dict(temperature=0.0), 'TCLMQL: temperature must be > 0'),
    (dict(windows_per_task=0), 'TCLMQL: window_size and windows_per_task'),
    (dict(negatives='some'), "TCLMQL: positive='trajectory', negatives="),
    (dict(tcl_tasks=0), 'TCLMQL: tcl_tasks must be >= 1'),
])
def test_tcl_mql_rejects_bad_settings_through_the_cores_check(setting,
                                                              message):
    from tcl_garage.envs import make_benchmark
    from tcl_garage.experiment.build_baselines import build_mql
    benchmark = make_benchmark('point', seed=0, max_episode_length=20)
    with pytest.raises(ValueError, match=message):
        build_mql('tcl-mql', benchmark.train_envs()[:2],
                  benchmark.test_sampler, num_test_tasks=1, net_sizes=(8, ),
                  history_length=4, context_size=4, seed=0,
                  env_steps_per_task=20, num_steps_per_epoch=1,
                  num_tasks_sample=1, **setting)

