"""The fixes of garage's PEARL defects in our PEARL."""
import numpy as np
import pytest
import torch

from conftest import fill_buffers, make_point_algo

from tcl_garage.algos import PEARLWorker


def rollout(algo, env, deterministic, seed, certain_belief=False):
    worker = PEARLWorker(seed=seed, max_episode_length=10, worker_number=0,
                         deterministic=deterministic)
    policy = algo.get_exploration_policy()
    if certain_belief:  # z ~ N(0, 1e-12): the same z in every rollout.
        policy.z_vars = torch.full_like(policy.z_vars, 1e-12)
    worker.update_agent(policy)
    worker.update_env(env)
    torch.manual_seed(seed)
    return worker.rollout()


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_deterministic_evaluation_acts_with_the_mean(algo_name):
    algo, env = make_point_algo(algo_name)
    a = rollout(algo, env, deterministic=True, seed=1, certain_belief=True)
    b = rollout(algo, env, deterministic=True, seed=2, certain_belief=True)
    np.testing.assert_allclose(a.actions, b.actions, rtol=0, atol=1e-5)
    np.testing.assert_allclose(a.actions, a.agent_infos['mean'])
    c = rollout(algo, env, deterministic=False, seed=3, certain_belief=True)
    assert not np.allclose(c.actions, c.agent_infos['mean'])


def test_evaluator_explores_the_configured_number_of_episodes():
    """garage's evaluator (the sequential path; the batched one is tested
    in test_sampling.py)."""
    algo, _ = make_point_algo('pearl', num_exploration_episodes=3,
                              collector='sequential')
    counts = []
    real_adapt = algo.adapt_policy

    def adapt(policy, episodes):
        counts.append(len(episodes.lengths))
        # Each test task's exploration starts from the prior.
        return real_adapt(policy, episodes)

    algo.adapt_policy = adapt
    algo._evaluator.evaluate(algo)
    assert counts == [3, 3]
    with pytest.raises(ValueError, match='num_exploration_episodes'):
        make_point_algo('pearl', num_exploration_episodes=0)


def test_exploration_policy_starts_from_the_prior():
    algo, _ = make_point_algo('pearl')
    fill_buffers(algo)
    algo._policy.infer_posterior(algo._sample_context([1]))
    assert not torch.allclose(algo._policy.z_vars, torch.ones(1, 3))
    policy = algo.get_exploration_policy()
    torch.testing.assert_close(policy.z_means, torch.zeros(1, 3))
    torch.testing.assert_close(policy.z_vars, torch.ones(1, 3))


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_next_observations_in_context(algo_name):
    algo, env = make_point_algo(algo_name, use_next_obs_in_context=True)
    obs_dim = env.observation_space.flat_dim
    act_dim = env.action_space.flat_dim
    assert algo.context_encoder_input_dim == 2 * obs_dim + act_dim + 1
    fill_buffers(algo)
    np.random.seed(0)
    algo._optimize_policy(np.array([0, 1, 2, 3]))
    assert np.isfinite(algo.train_statistics['QLoss'])
    episodes = rollout(algo, env, deterministic=True, seed=0)
    policy = algo.adapt_policy(algo.get_exploration_policy(), episodes)
    assert torch.isfinite(policy.z_means).all()
    assert not torch.allclose(policy.z_vars, torch.ones_like(policy.z_vars))


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_deterministic_latent_without_information_bottleneck(algo_name):
    algo, _ = make_point_algo(algo_name, use_information_bottleneck=False)
    fill_buffers(algo)
    np.random.seed(0)
    algo._optimize_policy(np.array([0, 1, 2, 3]))
    stats = algo.train_statistics
    assert 'KLLoss' not in stats and np.isfinite(stats['QLoss'])
    assert algo._policy.z.shape == (4, 3)
    torch.testing.assert_close(algo._policy.z, algo._policy.z_means)


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_meta_test_before_training_adapts_to_its_exploration(algo_name):
    """garage #1365: evaluation must infer each test task's posterior from
    that task's own exploration episodes. Before any training, the
    posterior after exploration differs from the prior and between tasks
    (their goals, hence rewards, differ). garage's evaluator here; the
    batched one: test_sampling.py."""
    algo, _ = make_point_algo(algo_name, num_exploration_episodes=2,
                              collector='sequential')
    posteriors = []
    real_adapt = algo.adapt_policy

    def adapt(policy, episodes):
        torch.testing.assert_close(policy.z_means, torch.zeros(1, 3))
        adapted = real_adapt(policy, episodes)
        posteriors.append((adapted.z_means.clone(), adapted.z_vars.clone()))
        return adapted

    algo.adapt_policy = adapt
    algo._evaluator.evaluate(algo)
    assert len(posteriors) == 2  # one per test task
    for means, variances in posteriors:
        assert not torch.allclose(means, torch.zeros_like(means))
        assert (variances < 1).all()  # more certain than the prior
    assert not torch.allclose(posteriors[0][0], posteriors[1][0])
