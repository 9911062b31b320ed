"""What collection stores (issue 23): the next observation of every step,
when the posterior is re-inferred on early-terminating tasks, TCL's
per-task windows while collecting, the same data for any number of worker
processes, and the sequential path against garage's own collection."""
from garage.experiment.deterministic import set_seed
import numpy as np
import pytest
import torch

from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import make_benchmark
from tcl_garage.envs.point import POINT_STEP_SIZE
from tcl_garage.sampling import InProcessEnvs, MultiTaskCollector, ProcessEnvs
from tcl_garage.algos.path_buffers import episode_spans

from conftest import fill_buffers, make_point_algo, pearl_on_slots, TINY

FIELDS = ('observations', 'actions', 'rewards', 'next_observations', 'dones')


class SamplerTrainer:
    """What garage's ``PEARL._obtain_samples`` asks of its trainer: whole
    episodes of at least a number of steps, from the algorithm's sampler."""

    def __init__(self, sampler):
        self._sampler = sampler

    def obtain_samples(self, itr, batch_size, agent_update, env_update):
        return self._sampler.obtain_samples(
            itr, batch_size, agent_update=agent_update,
            env_update=env_update).to_list()


def episodes_of(buffer):
    """The stored episodes of a PathBuffer, field by field."""
    firsts, lengths = episode_spans(buffer)
    # pylint: disable=protected-access
    return [{key: buffer._buffer[key][(first + np.arange(length)) %
                                      buffer._capacity]
             for key in FIELDS}
            for first, length in zip(firsts, lengths)]


def walker_algo(collector, algo='pearl', seed=0, envs=None, **overrides):
    """A tiny algorithm on 3 Walker-Rand-Params tasks (episodes of at most
    60 steps; a fresh policy falls within about 10 to 30)."""
    set_seed(seed)
    benchmark = make_benchmark('walker-rand-params', seed=seed,
                               max_episode_length=60)
    kwargs = dict(TINY, num_initial_steps=60, num_steps_prior=60,
                  num_extra_rl_steps_posterior=60, num_tasks_sample=3,
                  seed=seed)
    if algo == 'pearl':
        kwargs.update(embedding_batch_size=16, embedding_mini_batch_size=16)
    else:
        kwargs.update(window_size=8, windows_per_task=2)
    kwargs.update(overrides)
    built, _ = build_pearl(algo, benchmark.train_envs()[:3],
                           benchmark.test_sampler, num_test_tasks=2,
                           collector=collector, **kwargs)
    if envs is not None:
        built._env_slots = envs
        built._collector = MultiTaskCollector(built, envs, width=3)
    return built


def collect_sequentially(algo, tasks, posterior=True):
    """garage's collection protocol through the algorithm's own sampler."""
    trainer = SamplerTrainer(algo._sampler)
    for task in tasks:
        algo._task_idx = task
        algo._obtain_samples(trainer, 0, algo._num_initial_steps, np.inf)
        if posterior:
            algo._obtain_samples(trainer, 0,
                                 algo._num_extra_rl_steps_posterior,
                                 algo._update_post_train,
                                 add_to_enc_buffer=False)


def collect_any(algo, collector):
    if collector == 'vectorised':
        algo._collector.collect_initial()
        algo._collector.collect_epoch([0, 1])
    else:
        collect_sequentially(algo, range(algo._num_train_tasks))


@pytest.mark.parametrize('collector', ['vectorised', 'sequential'])
def test_point_robot_stores_the_observation_after_every_action(collector):
    algo, _ = make_point_algo('pearl', collector=collector)
    collect_any(algo, collector)
    checked = 0
    for buffer in algo._replay_buffers.values():
        for ep in episodes_of(buffer):
            np.testing.assert_array_equal(ep['next_observations'][:-1],
                                          ep['observations'][1:])
            # The last step's next position is where its action led
            # (the observation is the position, then the goal distance).
            moved = ep['observations'][-1, :2] + POINT_STEP_SIZE * np.clip(
                ep['actions'][-1], -1, 1)
            np.testing.assert_allclose(ep['next_observations'][-1, :2],
                                       moved, rtol=1e-5, atol=1e-6)
            assert not ep['dones'].any()  # time limit: not terminal
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize('collector', ['vectorised', 'sequential'])
def test_early_terminations_store_the_true_last_observation(collector):
    algo = walker_algo(collector)
    collect_any(algo, collector)
    terminal = 0
    for buffer in algo._replay_buffers.values():
        for ep in episodes_of(buffer):
            np.testing.assert_array_equal(ep['next_observations'][:-1],
                                          ep['observations'][1:])
            # The final action moved the walker: not the observation before.
            assert not np.array_equal(ep['next_observations'][-1],
                                      ep['observations'][-1])
            assert not ep['dones'][:-1].any()
            terminal += bool(ep['dones'][-1, 0])
    assert terminal >= 5  # episodes that ended early, flagged done


def test_collector_reinfers_the_posterior_after_every_update_post_train_episodes(
        monkeypatch):
    """The documented rule (PEARL's reference code): each posterior phase
    starts from the prior, and the posterior is inferred from the task's
    context buffer after every update_post_train episodes, whatever their
    length."""
    algo = walker_algo('vectorised', update_post_train=2)
    algo._collector.collect_initial()
    inferences, prior_episodes, episodes = [], [], []
    policy = algo._policy
    infer = algo.infer_posteriors
    run = algo._env_slots.run_episodes

    def counting_infer(tasks):
        inferences.append(len(episodes))
        return infer(tasks)

    def recording_run(slots, z, *args):
        episodes.append(len(slots))
        prior_episodes.append(bool((policy.z_means == 0).all()))
        return run(slots, z, *args)

    monkeypatch.setattr(algo, 'infer_posteriors', counting_infer)
    monkeypatch.setattr(algo._env_slots, 'run_episodes', recording_run)
    algo._collector.collect_epoch([0])
    # Prior phase (60 steps) on the prior z, never inferred; the extra-RL
    # phase starts from the prior too and infers after episodes 2, 4, ...
    lengths = [ep['rewards'].shape[0]
               for ep in episodes_of(algo._replay_buffers[0])]
    phase = np.cumsum(lengths[-len(episodes):])
    prior_count = int(np.searchsorted(phase, 60, side='left')) + 1
    rl_count = len(episodes) - prior_count
    assert rl_count >= 3  # early terminations: several short episodes
    assert inferences == [prior_count + k for k in range(2, rl_count + 1, 2)]
    assert prior_episodes == [True] * prior_count + [True, True] + [
        False] * (rl_count - 2)


def test_garages_sequential_rule_reinfers_after_batches_of_steps(
        monkeypatch):
    """The sequential path is garage's: it infers after batches of at least
    update_post_train * max_episode_length steps (docs/sampling.md), so on
    early-terminating tasks it infers less often than the collector."""
    algo = walker_algo('sequential')
    inferred = []
    infer = algo._policy.infer_posterior
    monkeypatch.setattr(algo._policy, 'infer_posterior',
                        lambda context: inferred.append(1) or infer(context))
    trainer = SamplerTrainer(algo._sampler)
    algo._task_idx = 0
    algo._obtain_samples(trainer, 0, 60, np.inf)
    algo._obtain_samples(trainer, 0, 180, 1, add_to_enc_buffer=False)
    episodes = episodes_of(algo._replay_buffers[0])
    assert len(episodes) >= 8
    assert len(inferred) == 3  # 180 steps in batches of >= 60


def test_tcl_windows_while_collecting_are_cut_task_by_task():
    """A task holding only 3-step episodes, grouped with a task of 20-step
    episodes, leaves the long task's context as it is alone."""
    algo, _ = make_point_algo('tcl-pearl', window_size=8)
    fill_buffers(algo, episodes_per_task=3, episode_length=20)
    short = algo._context_replay_buffers[1]
    short.clear()
    for _ in range(3):
        short.add_path({key: algo._context_replay_buffers[2]._buffer[key][:3]
                        for key in FIELDS})
    seen = []
    encoder = algo.context_encoder
    width = algo.context_encoder_input_dim
    forward = type(encoder).forward

    def counted(self, context):
        seen.append(tuple(context.shape))
        return forward(self, context)

    type(encoder).forward = counted
    try:
        np.random.seed(0)
        torch.manual_seed(0)
        with torch.no_grad():
            algo.infer_posteriors([0, 1])
        grouped = algo._policy.z_means.clone()
        np.random.seed(0)
        torch.manual_seed(0)
        with torch.no_grad():
            algo.infer_posteriors([0])
        alone = algo._policy.z_means.clone()
    finally:
        type(encoder).forward = forward
    # Task 0: 2 windows of 8; task 1: 2 windows of 3 (its longest episode).
    assert seen[:2] == [(1, 16, width), (1, 6, width)]
    torch.testing.assert_close(grouped[0], alone[0], rtol=0, atol=0)
    # Tasks whose windows share a length are encoded in one call.
    seen.clear()
    type(encoder).forward = counted
    try:
        with torch.no_grad():
            algo.infer_posteriors([0, 2])
    finally:
        type(encoder).forward = forward
    assert seen == [(2, 16, width)]


def buffers_of(algo):
    return {task: {key: buffer._buffer[key][
        :buffer.n_transitions_stored].copy() for key in FIELDS}
            for task, buffer in algo._replay_buffers.items()}


def collected(make_algo, envs):
    algo = make_algo(envs)
    try:
        algo._collector.collect_initial()
        algo._collector.collect_epoch([2, 0, 2])
        return buffers_of(algo)
    finally:
        envs.close()


def reach_algo(envs, seed=4):
    return pearl_on_slots('ml1/reach-v3', envs, seed, 15, n_train=3,
                          n_test=2, num_initial_steps=15, num_steps_prior=15,
                          num_extra_rl_steps_posterior=15)


def ml10_algo(envs, seed=4):
    """Training tasks of 3 classes (reach, push, pick-place): the epoch's
    rounds put other classes in the slots than the initial collection."""
    return pearl_on_slots('ml10', envs, seed, 15, n_train=3, n_test=2,
                          num_initial_steps=15, num_steps_prior=15,
                          num_extra_rl_steps_posterior=15)


@pytest.mark.parametrize('family',
                         ['walker-rand-params', 'ml1/reach-v3', 'ml10'])
def test_identical_data_for_any_number_of_workers(family):
    """Every field, dones and next observations included, bit for bit, in
    this process and in 1 and 4 worker processes (ML1: 2, the slots'
    split tested on Walker; ML10: 2, slots of different classes side by
    side in one worker, rebuilt when their class changes)."""
    if family == 'ml1/reach-v3':
        make_algo = reach_algo
    elif family == 'ml10':
        make_algo = ml10_algo
    else:
        def make_algo(envs):
            return walker_algo('sequential', seed=4, envs=envs)
    reference = collected(make_algo, InProcessEnvs(seed=4))
    assert any(data['dones'].any() for data in reference.values()) == (
        family == 'walker-rand-params')
    # (ML10: 2 workers share the 3 slots; a spawn costs)
    for n_workers in {'ml10': (2, ), 'ml1/reach-v3': (2, )}.get(
            family, (1, 4)):
        data = collected(make_algo, ProcessEnvs(seed=4, n_workers=n_workers))
        for task, fields in reference.items():
            for key in FIELDS:
                np.testing.assert_array_equal(data[task][key], fields[key],
                                              err_msg=f'{key}, {n_workers}')


def test_worker_processes_seed_their_global_streams():
    """A worker's global numpy and torch streams come from the run's seed
    and the worker, not from OS entropy."""
    from tcl_garage.sampling.env_slots import seed_worker_streams
    draws = []
    for _ in range(2):
        seed_worker_streams(7, 1)
        draws.append((np.random.random_sample(3), torch.rand(3)))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    torch.testing.assert_close(draws[0][1], draws[1][1], rtol=0, atol=0)
    seed_worker_streams(7, 2)
    assert not np.array_equal(np.random.random_sample(3), draws[0][0])


def test_sequential_path_collects_what_garages_own_collection_does():
    """Same seed, same networks, same worker: our PEARL's sequential path and
    garage's own PEARL._obtain_samples store the same episodes (counts per
    phase, lengths, dones, every field, the z each episode starts with).
    (garage's own worker draws two actions per step, so its random streams
    part from ours after the first step; its stored last next observation
    is tested above.)"""
    from garage.torch.algos import PEARL as GaragePEARL
    results = []
    for algo_class in ('pearl', GaragePEARL):
        algo, _ = make_point_algo(algo_class, seed=3)
        if algo_class == 'pearl':
            reference = algo
        else:
            for name in ('_policy', '_qf1', '_qf2', '_vf'):
                getattr(algo, name).load_state_dict(
                    getattr(reference, name).state_dict())
        zs = []  # the z each episode starts with
        for worker in algo._sampler._workers:
            def recording(worker=worker, start=worker.start_episode, zs=zs):
                start()
                zs.append(worker.agent.z.detach().clone())

            worker.start_episode = recording
        set_seed(11)
        collect_sequentially(algo, range(2))
        results.append((algo, torch.stack(zs)))
    (ours, our_z), (garage, garage_z) = results
    assert len(our_z) == 2 * (2 + 1)  # per task: 2 prior, 1 posterior
    torch.testing.assert_close(our_z, garage_z, rtol=0, atol=0)
    for task in range(2):
        for name in ('_replay_buffers', '_context_replay_buffers'):
            mine = episodes_of(getattr(ours, name)[task])
            theirs = episodes_of(getattr(garage, name)[task])
            assert [len(e['rewards']) for e in mine] == [
                len(e['rewards']) for e in theirs] == [20] * (
                    3 if name == '_replay_buffers' else 2)
            for a, b in zip(mine, theirs):
                for key in FIELDS:
                    np.testing.assert_array_equal(a[key], b[key])
