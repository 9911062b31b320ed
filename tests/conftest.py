"""Shared fixtures: tiny PEARL/TCL-PEARL runs on point-goal tasks, and
the experiment scripts run as users run them."""
import pathlib
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import tcl_garage  # noqa: F401  (applies garage_compat before garage loads)
from garage.experiment import SnapshotConfig
from garage.experiment.deterministic import set_seed
from garage.trainer import Trainer

from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import make_benchmark
from tcl_garage.experiment.rundir import progress_rows

#: The repository root.
ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Sizes that make a PEARL step take milliseconds.
TINY = dict(latent_dim=3,
            net_sizes=(16, 16),
            encoder_hidden_sizes=(16, 16),
            meta_batch_size=4,
            batch_size=16,
            num_steps_per_epoch=5,
            num_initial_steps=40,
            num_tasks_sample=2,
            num_steps_prior=40,
            num_steps_posterior=0,
            num_extra_rl_steps_posterior=20,
            num_exploration_episodes=1)


def pytest_addoption(parser):
    parser.addoption('--run-slow', action='store_true',
                     help='also run tests marked slow')


def pytest_collection_modifyitems(config, items):
    no_cuda = pytest.mark.skip(reason='needs CUDA')
    skip_slow = pytest.mark.skip(reason='slow: run with --run-slow')
    for item in items:
        if item.get_closest_marker('cuda') and not torch.cuda.is_available():
            item.add_marker(no_cuda)
        if 'slow' in item.keywords and not config.getoption('--run-slow'):
            item.add_marker(skip_slow)


def make_point_algo(algo='tcl-pearl', seed=0, **overrides):
    """A tiny algorithm on 4 point-goal training tasks, 2 test tasks.

    Returns:
        tuple: (algorithm, env).
    """
    set_seed(seed)
    benchmark = make_benchmark('point', seed=seed)
    train_envs = benchmark.train_envs()[:4]
    kwargs = dict(TINY)
    if algo == 'tcl-pearl':
        kwargs.update(window_size=8, windows_per_task=2)
    else:
        kwargs.update(embedding_batch_size=16, embedding_mini_batch_size=16)
    kwargs['seed'] = seed
    kwargs.update(overrides)
    if not isinstance(algo, str):  # garage's own PEARL lacks our settings
        kwargs.pop('num_exploration_episodes')
        kwargs['collector'] = 'sequential'
    return build_pearl(algo, train_envs, benchmark.test_sampler,
                       num_test_tasks=2, **kwargs)


def pearl_on_slots(benchmark_name, envs, seed, max_episode_length, n_train,
                   n_test, **sizes):
    """A tiny PEARL whose vectorised collector uses the given slots (the
    same algorithm in each case, its environments wherever they live)."""
    from tcl_garage.sampling import MultiTaskCollector
    set_seed(seed)
    benchmark = make_benchmark(benchmark_name, seed=seed,
                               max_episode_length=max_episode_length)
    kwargs = dict(TINY, num_tasks_sample=3, embedding_batch_size=8,
                  embedding_mini_batch_size=8)
    kwargs.update(sizes)
    algo, _ = build_pearl('pearl', benchmark.train_envs()[:n_train],
                          benchmark.test_sampler, num_test_tasks=n_test,
                          collector='sequential', **kwargs)
    algo._env_slots = envs
    algo._collector = MultiTaskCollector(algo, envs, width=3)
    return algo


def fill_buffers(algo, episodes_per_task=3, episode_length=20, seed=0):
    """Put synthetic episodes into every task's RL and context buffers.

    Step t of episode e of task i has reward 0.1*i + 0.01*e + 0.0001*t, so
    every transition tells where it came from (in small numbers, so that
    the contrastive task is not trivially easy).
    """
    rng = np.random.default_rng(seed)
    env = algo._single_env
    obs_dim = env.observation_space.flat_dim
    act_dim = env.action_space.flat_dim
    for task in range(algo._num_train_tasks):
        for e in range(episodes_per_task):
            t = np.arange(episode_length)
            path = {
                'observations': rng.normal(size=(episode_length, obs_dim)),
                'actions': rng.uniform(-1, 1, (episode_length, act_dim)),
                'rewards': (0.1 * task + 0.01 * e + 1e-4 * t)[:, None],
                'next_observations': rng.normal(size=(episode_length,
                                                      obs_dim)),
                'dones': np.zeros((episode_length, 1), bool),
            }
            algo._replay_buffers[task].add_path(path)
            algo._context_replay_buffers[task].add_path(path)


def networks_by_name(algo):
    """The networks of a PEARL, by name."""
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


def train(algo, env, log_dir, n_epochs=2):
    """Train with garage's Trainer, snapshots in log_dir."""
    trainer = Trainer(SnapshotConfig(snapshot_dir=str(log_dir),
                                     snapshot_mode='last',
                                     snapshot_gap=1))
    trainer.setup(algo=algo, env=env)
    trainer.train(n_epochs=n_epochs, batch_size=algo._batch_size)
    return trainer


#: Columns that hold wall-clock times (none is logged today: dowel's tabular
#: holds TotalEnvSteps and the algorithm's values only).
TIME_COLUMNS = ('Time', 'EpochTime', 'ItrTime')


def progress(run_dir):
    """A run's progress rows without their wall-clock columns."""
    return [{key: value for key, value in row.items()
             if key not in TIME_COLUMNS} for row in progress_rows(run_dir)]


def parameters(run_dir):
    """Every network parameter of a run directory's snapshot."""
    with open(pathlib.Path(run_dir) / 'params.pkl', 'rb') as f:
        algo = pickle.load(f)['algo']
    return [p.detach().clone() for net in algo.networks
            for p in net.parameters()]


def same_parameters(a, b):
    """Whether two parameter lists are bitwise equal."""
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def assert_killed_run_resumes_exactly(tmp_path, script, args, epochs):
    """Run ``experiments/<script>.py ARGS`` alone, and again SIGKILLed after
    its first epoch and resumed: the same progress and parameters.

    Returns:
        pathlib.Path: The killed and resumed run's directory.
    """
    alone = launch(script, *args, '--log-dir', str(tmp_path / 'alone'))
    assert alone.returncode == 0, alone.stderr[-2000:]
    killed_dir = tmp_path / 'killed'
    kill_after_first_epoch(script, *args, run_dir=killed_dir)
    assert len(progress(killed_dir)) < epochs
    resumed = launch(script, '--resume', str(killed_dir))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert progress(killed_dir) == progress(tmp_path / 'alone')
    assert same_parameters(parameters(killed_dir),
                           parameters(tmp_path / 'alone'))
    return killed_dir


def launch(script, *args, timeout=600):
    """Run ``experiments/<script>.py ARGS`` in a new process."""
    return subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / f'{script}.py'), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def kill_after_first_epoch(script, *args, run_dir):
    """Start ``experiments/<script>.py ARGS --log-dir RUN_DIR`` and SIGKILL
    it as soon as its first epoch is logged."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / 'experiments' / f'{script}.py'), *args,
         '--log-dir', str(run_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.time() + 300
    try:
        while not progress_rows(run_dir):
            assert process.poll() is None, 'the run ended before the kill'
            assert time.time() < deadline, 'no epoch logged in 300 s'
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.fixture(autouse=True)
def _cpu_and_threads():
    torch.set_num_threads(1)
    yield
