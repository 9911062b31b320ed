"""The vectorised collector and evaluator (tcl_garage.sampling)."""
import os
import signal
import subprocess
import sys

from dowel import tabular
import numpy as np
import pytest
import torch

from tcl_garage.envs import make_benchmark
from tcl_garage.sampling import (EnvWorkerError, InProcessEnvs,
                                 make_env_slots, ProcessEnvs, rounds_of,
                                 SamplingPolicy)

from conftest import make_point_algo, pearl_on_slots


def test_rounds_keep_the_order_of_the_draw():
    assert rounds_of([3, 5, 3, 7, 3]) == [[3, 5, 7], [3], [3]]
    assert rounds_of([1, 2]) == [[1, 2]]
    assert rounds_of([]) == []


@pytest.mark.parametrize('deterministic', [False, True])
def test_sampling_policy_acts_as_the_policys_distribution(deterministic):
    # The sampling copy (no distribution objects) gives, for the same
    # noise, what the policy's own TanhNormal gives, row by row on each
    # row's z; a std far beyond garage's bounds is clamped alike.
    algo, _ = make_point_algo('pearl')
    policy = algo._policy
    module = policy.networks[1]._module
    log_std_head = module._shared_mean_log_std_network._output_layers[1]
    with torch.no_grad():
        log_std_head.linear.bias += 30
    obs_dim = algo._single_env.spec.observation_space.flat_dim
    observations = np.random.RandomState(0).randn(4, obs_dim).astype(
        np.float32)
    z = torch.randn(4, policy.z_means.shape[1])
    torch.manual_seed(7)
    eps = None if deterministic else torch.empty(4, 2).normal_().numpy()
    actions = SamplingPolicy.of(policy).actions(observations, z.numpy(), eps)
    torch.manual_seed(7)  # TanhNormal.sample draws the same eps
    with torch.no_grad():
        dist = module(torch.cat([torch.as_tensor(observations), z], 1))
        expected = (dist.mean if deterministic else dist.sample()).numpy()
    assert actions.shape == (4, 2) and actions.dtype == np.float32
    np.testing.assert_array_equal(actions, expected)
    assert not np.array_equal(actions[0], actions[1])


def test_a_rows_action_depends_only_on_its_own_row_and_position():
    """The batch invariance that makes data identical for any number of
    workers: in batches of one width, a row's action has the same bits
    whatever the other rows hold; in batches of other widths it may not
    (torch's CPU matrix product), which is why every worker pads."""
    algo, _ = make_point_algo('pearl')
    policy = SamplingPolicy.of(algo._policy)
    rng = np.random.RandomState(1)
    width, obs_dim = 5, algo._single_env.spec.observation_space.flat_dim
    observations = rng.randn(width, obs_dim).astype(np.float32)
    z = rng.randn(width, 3).astype(np.float32)
    full = policy.actions(observations, z)
    for position in range(width):
        alone = np.zeros_like(observations)
        alone[position] = observations[position]
        alone_z = rng.randn(width, 3).astype(np.float32)
        alone_z[position] = z[position]
        np.testing.assert_array_equal(
            policy.actions(alone, alone_z)[position], full[position])
    # the act function of a worker holding rows 1 and 3 of the 5
    act = policy.act_function([1, 3], width, z[[1, 3]], noise=None)
    np.testing.assert_array_equal(act(observations[[1, 3]], [0, 1]),
                                  full[[1, 3]])
    np.testing.assert_array_equal(act(observations[[3]], [1]), full[[3]])


def test_a_policy_sent_to_a_worker_is_pickled_by_value(tmp_path):
    """multiprocessing's pickler (a worker's pipe) gives the policy's
    tensors as bytes, not as memory shared through file descriptors: an
    unrelated process loads it and acts as this one does."""
    from multiprocessing.reduction import ForkingPickler
    algo, _ = make_point_algo('pearl')
    policy = SamplingPolicy.of(algo._policy)
    (tmp_path / 'policy.pkl').write_bytes(bytes(ForkingPickler.dumps(policy)))
    obs_dim = algo._single_env.spec.observation_space.flat_dim
    rows = np.random.RandomState(2).randn(3, obs_dim + 3).astype(np.float32)
    np.save(tmp_path / 'rows.npy', rows)
    script = ('import pickle, sys, numpy as np, tcl_garage.sampling\n'
              'd, n = sys.argv[1], int(sys.argv[2])\n'
              "policy = pickle.load(open(d + '/policy.pkl', 'rb'))\n"
              "rows = np.load(d + '/rows.npy')\n"
              "np.save(d + '/actions.npy', policy.actions(rows[:, :n], "
              "rows[:, n:]))\n")
    result = subprocess.run(
        [sys.executable, '-c', script, str(tmp_path), str(obs_dim)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(
        np.load(tmp_path / 'actions.npy'),
        policy.actions(rows[:, :obs_dim], rows[:, obs_dim:]))


def test_vectorised_sampling_refuses_a_policy_it_cannot_copy():
    from garage.torch.modules import GaussianMLPModule
    other = GaussianMLPModule(input_dim=3, output_dim=2)
    with pytest.raises(ValueError, match='collector: sequential'):
        SamplingPolicy(other)
    with pytest.raises(ValueError, match='collector: sequential'):
        SamplingPolicy.check(other)
    algo, _ = make_point_algo('pearl')
    SamplingPolicy.check(SamplingPolicy.module_of(algo._policy))  # accepted


def test_sampling_runs_torch_on_one_thread_then_restores_it(monkeypatch):
    import tcl_garage.sampling.env_slots as env_slots
    algo, _ = make_point_algo('pearl')
    seen = []
    run = env_slots.run_episodes

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return run(*args, **kwargs)

    monkeypatch.setattr(env_slots, 'run_episodes', recording)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        algo._collector.collect_initial()
        algo._collector.collect_epoch([0, 1])
        algo._evaluator.evaluate(algo)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
        tabular.clear()
    assert len(seen) > 3 and set(seen) == {1}


def spy_on_beliefs(monkeypatch, policy):
    """Record the belief (means, variances) each lockstep episode drew its
    z from (a test-only wrapper of the in-process slots' run_episodes)."""
    import tcl_garage.sampling.env_slots as env_slots
    seen = []
    run = env_slots.run_episodes

    def recording(*args, **kwargs):
        seen.append((policy.z_means.clone(), policy.z_vars.clone()))
        return run(*args, **kwargs)

    monkeypatch.setattr(env_slots, 'run_episodes', recording)
    return seen


def test_collection_follows_pearls_protocol(monkeypatch):
    algo, _ = make_point_algo('tcl-pearl', num_initial_steps=40,
                              num_steps_prior=40, num_steps_posterior=40,
                              num_extra_rl_steps_posterior=40)
    collector = algo._collector
    assert collector is not None and collector.width == 2
    assert collector.collect_initial() == 4 * 40
    for task in range(4):
        assert algo._replay_buffers[task].n_transitions_stored == 40
        assert algo._context_replay_buffers[task].n_transitions_stored == 40
    seen = spy_on_beliefs(monkeypatch, algo._policy)
    steps = collector.collect_epoch([2, 2])  # a repeat: two rounds
    assert steps == 2 * (40 + 40 + 40)
    replay, context = algo._replay_buffers, algo._context_replay_buffers
    assert replay[2].n_transitions_stored == 40 + 2 * 120
    # cleared at each draw: the last draw's prior and posterior episodes
    assert context[2].n_transitions_stored == 40 + 40
    assert replay[0].n_transitions_stored == 40  # not drawn: untouched
    assert context[0].n_transitions_stored == 40
    segments = replay[2]._path_segments
    assert [len(a) + len(b) for a, b in segments] == [20] * 14  # episodes
    # Per round, one z per episode: the prior phase's 2 from the prior;
    # each posterior phase starts from the prior (as garage's) and infers
    # the posterior from the context buffer after each episode.
    assert len(seen) == 2 * 6
    prior = [bool((m == 0).all() and (v == 1).all()) for m, v in seen]
    assert prior == [True, True, True, False, True, False] * 2


def cheetah_algo(envs, seed=4):
    return pearl_on_slots('cheetah-vel', envs, seed, 12, n_train=5,
                          n_test=3, num_initial_steps=12, num_steps_prior=24,
                          num_extra_rl_steps_posterior=12)


def collect(envs):
    algo = cheetah_algo(envs)
    try:
        algo._collector.collect_initial()
        algo._collector.collect_epoch([4, 1, 4])
        return {task: buffer._buffer['observations'][
            :buffer.n_transitions_stored].copy()
                for task, buffer in algo._replay_buffers.items()}
    finally:
        envs.close()


def test_identical_data_for_any_number_of_workers():
    """Each slot's environment (reset noise included) is seeded from the
    run's seed and its slot, never from its worker (1 and 4 workers, and
    every field: test_collection)."""
    reference = collect(InProcessEnvs(seed=4))
    assert reference[4].shape == (12 + 2 * 36, 17)  # HalfCheetah
    for n_workers in (2, ):
        data = collect(ProcessEnvs(seed=4, n_workers=n_workers))
        for task, observations in reference.items():
            np.testing.assert_array_equal(data[task], observations)
    other_seed = collect(InProcessEnvs(seed=5))
    assert not np.array_equal(other_seed[4], reference[4])


@pytest.mark.slow
def test_ray_actors_collect_the_same_data():
    ray = pytest.importorskip('ray')  # the optional extra (make install-ray)

    from tcl_garage import garage_compat
    from tcl_garage.sampling import RayEnvs
    reference = collect(InProcessEnvs(seed=4))
    garage_compat.ray_init(num_cpus=2, include_dashboard=False)
    try:
        data = collect(RayEnvs(seed=4, n_workers=2))
    finally:
        ray.shutdown()
    for task, observations in reference.items():
        np.testing.assert_array_equal(data[task], observations)


def test_a_killed_worker_is_a_clear_error_not_a_hang():
    envs = ProcessEnvs(seed=0, n_workers=2)
    updates = make_benchmark('point', seed=0).train_envs()[:2]
    envs.set_tasks({0: updates[0], 1: updates[1]})
    assert len(envs.reset([0, 1])) == 2
    os.kill(envs._processes[1].pid, signal.SIGKILL)
    with pytest.raises(EnvWorkerError, match=r'environment worker 1 \(pid '
                       r'\d+\) died .*resume it from its last snapshot'):
        envs.step([0, 1], [np.zeros(2), np.zeros(2)])
    envs.close()


@pytest.mark.parametrize('algo_name', ['pearl', 'tcl-pearl'])
def test_batched_evaluator_explores_from_the_prior_then_adapts(
        monkeypatch, algo_name):
    """garage #1365, for the batched evaluator: before any training, each
    test task explores from the prior and adapts to its own episodes."""
    algo, _ = make_point_algo(algo_name, num_exploration_episodes=3)
    algo._policy.reset_belief(num_tasks=4)  # left over from training
    algo._policy.z_means += 1
    seen = spy_on_beliefs(monkeypatch, algo._policy)
    algo._evaluator.evaluate(algo)
    tabular.clear()
    assert len(seen) == 3 + 1  # lockstep episodes: 3 explore, 1 adapted
    for means, variances in seen[:3]:  # every test task from the prior
        assert means.shape == (2, 3)
        assert (means == 0).all() and (variances == 1).all()
    means, variances = seen[3]
    assert not torch.allclose(means[0], means[1])  # one posterior per task
    assert (means != 0).any(dim=1).all()
    assert (variances < 1).all()  # more certain than the prior


def meta_test(algo, evaluator):
    tabular.clear()
    evaluator.evaluate(algo)
    values = {key: value for key, value in tabular.as_dict.items()
              if key.startswith('MetaTest/')}
    tabular.clear()
    return values


def test_batched_evaluation_logs_what_the_sequential_evaluator_logs():
    """Without the information bottleneck z is the posterior mean and the
    evaluation acts with the policy's mean: both evaluators then make the
    same episodes, so every logged value agrees."""
    from garage.experiment import MetaEvaluator

    from tcl_garage.algos import PEARLWorker
    algo, _ = make_point_algo('pearl', use_information_bottleneck=False,
                              num_exploration_episodes=2)
    for parameter in algo.networks[0].parameters():  # an encoder that
        parameter.data.normal_(0, 0.5)  # tells tasks apart
    benchmark = make_benchmark('point', seed=0)
    sequential = MetaEvaluator(test_task_sampler=benchmark.test_sampler,
                               n_test_tasks=3, n_exploration_eps=2,
                               worker_class=PEARLWorker,
                               worker_args=dict(deterministic=True,
                                                accum_context=True))
    batched = type(algo._evaluator)(benchmark.test_sampler, 3, 2,
                                    algo._env_slots, first_slot=2)
    expected = meta_test(algo, sequential)
    got = meta_test(algo, batched)
    assert set(got) == set(expected)
    assert expected['MetaTest/Average/NumEpisodes'] == 3
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_default_is_vectorised_and_sequential_stays_available():
    algo, _ = make_point_algo('tcl-pearl')
    assert isinstance(algo._env_slots, InProcessEnvs)
    assert type(algo._evaluator).__name__ == 'BatchedMetaEvaluator'
    algo, _ = make_point_algo('tcl-pearl', collector='sequential')
    assert algo._collector is None
    assert type(algo._evaluator).__name__ == 'MetaEvaluator'
    assert isinstance(make_env_slots('local', 0, 2), ProcessEnvs)
    with pytest.raises(ValueError, match='unknown sampler'):
        make_env_slots('mpi', 0, 1)


def cheetah_sampling_policy():
    """A small tanh-Gaussian policy on HalfCheetah's observation and a 2-d
    z."""
    from akro import Box
    from garage import EnvSpec
    from garage.torch.policies import TanhGaussianMLPPolicy
    torch.manual_seed(0)
    spec = EnvSpec(Box(-np.inf, np.inf, (17 + 2, )), Box(-1, 1, (6, )))
    policy = TanhGaussianMLPPolicy(env_spec=spec, hidden_sizes=[8])
    return SamplingPolicy(policy._module)


@pytest.mark.parametrize('kind', ['in-process', 'processes'])
def test_pickled_slots_continue_their_environments_and_noise_streams(kind):
    import pickle
    envs = (InProcessEnvs(seed=2) if kind == 'in-process' else
            ProcessEnvs(seed=2, n_workers=2))
    updates = make_benchmark('cheetah-vel', seed=0,
                             max_episode_length=5).train_envs()[:3]
    envs.set_tasks(dict(enumerate(updates)))
    envs.reset([0, 1, 2])
    copy = pickle.loads(pickle.dumps(envs))  # a snapshot, then a resume
    policy = cheetah_sampling_policy()
    z = np.ones((3, 2), dtype=np.float32)
    try:
        for _ in range(2):  # reset noise comes from each slot's stream
            first, second = envs.reset([0, 1, 2]), copy.reset([0, 1, 2])
            np.testing.assert_array_equal(np.stack(first), np.stack(second))
        assert not np.array_equal(first[0], first[1])  # slots differ
        for slots in (envs, copy):  # and so does the action noise
            slots.set_policy(policy)
        for _ in range(2):
            first = envs.run_episodes([0, 1, 2], z, False, 5)
            second = copy.run_episodes([0, 1, 2], z, False, 5)
            for ours, theirs in zip(first, second):
                np.testing.assert_array_equal(ours['actions'],
                                              theirs['actions'])
        assert not np.array_equal(first[0]['actions'], first[1]['actions'])
    finally:
        envs.close()
        copy.close()


def test_emptying_a_buffer_keeps_its_arrays_and_acts_as_clear():
    from garage.replay_buffer import PathBuffer

    from tcl_garage.sampling.collector import empty

    def path(start, length):
        return {'observations': np.arange(start, start + length,
                                          dtype=np.float32).reshape(-1, 1)}

    kept, cleared = PathBuffer(100), PathBuffer(100)
    for buffer in (kept, cleared):
        buffer.add_path(path(0, 30))
    arrays = dict(kept._buffer)
    empty(kept)
    cleared.clear()
    for buffer in (kept, cleared):
        assert buffer.n_transitions_stored == 0
        buffer.add_path(path(100, 10))
        buffer.add_path(path(200, 5))
    assert kept._buffer['observations'] is arrays['observations']
    assert list(kept._path_segments) == list(cleared._path_segments)
    assert kept.n_transitions_stored == cleared.n_transitions_stored == 15
    np.testing.assert_array_equal(kept._buffer['observations'][:15],
                                  cleared._buffer['observations'][:15])
    np.random.seed(3)
    first = kept.sample_path()['observations']
    np.random.seed(3)
    np.testing.assert_array_equal(first, cleared.sample_path()['observations'])
