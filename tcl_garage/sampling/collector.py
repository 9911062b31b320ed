"""PEARL's data collection and meta-test evaluation, every task at once.

garage's PEARL collects one task at a time, and each step runs the policy on
one observation. Here one environment per task (a slot of
:mod:`tcl_garage.sampling.env_slots`) steps in lockstep with the others, and
the policy runs once per step on the batch of their observations, each row
conditioned on its own task's z.

:class:`MultiTaskCollector` follows PEARL's protocol (garage's
``PEARL._obtain_samples``) for each task: the task's context buffer is
cleared; episodes with z from the prior (``num_steps_prior`` steps, into
both buffers), then with z from the posterior inferred from the task's
context buffer after every ``update_post_train`` episodes
(``num_steps_posterior``, both buffers; then ``num_extra_rl_steps_posterior``,
the RL buffer only, starting again from the prior); a fresh z is drawn from
the task's belief at the start of every episode. Whole episodes go into the
buffers, so their boundaries are kept (TCL's windows need them).

garage draws an epoch's tasks with replacement. A task drawn k times is
collected in k rounds, in the order of the draw: round r holds the r-th
draw of every task drawn at least r times. Each task's buffers so receive
what the sequential protocol gives them, in the same order (its context
buffer ends with the data of its last draw); only the random numbers
differ.

:class:`BatchedMetaEvaluator` evaluates every test task at once the same
way: exploration episodes with z drawn from the prior (acting with the
policy's mean), each task's posterior inferred from its own exploration
episodes, then the adapted episodes; it logs the same ``MetaTest/...`` keys
as garage's ``MetaEvaluator``.
"""
import collections
import contextlib
from typing import Any, Callable, Dict, List, Sequence

from dowel import logger, tabular
from garage import EpisodeBatch, log_multitask_performance, StepType
from garage.torch import global_device
from garage.torch.distributions import TanhNormal
from garage.torch.modules import GaussianMLPTwoHeadedModule
import numpy as np
import torch

#: Policy for a batch of rows: (observations, rows) -> actions.
ActFunction = Callable[[np.ndarray, Sequence[int]], np.ndarray]


def run_episodes(envs, slots: Sequence[int], act: ActFunction,
                 max_episode_length: int) -> List[Dict[str, Any]]:
    """One episode in each slot, all stepped together.

    Args:
        envs (InProcessEnvs or ProcessEnvs or RayEnvs): The slots' home.
        slots (Sequence[int]): The slots; row ``i`` of ``act``'s batch is
            slot ``slots[i]``.
        act (callable): Actions of a batch of rows.
        max_episode_length (int): Longest episode.

    Returns:
        list[dict]: Per slot, garage's path format: ``observations``,
            ``next_observations``, ``actions``, ``rewards``, ``step_types``,
            ``env_infos``, ``agent_infos``, ``episode_infos``.

    """
    observations = envs.reset(slots)
    steps = [collections.defaultdict(list) for _ in slots]
    active = list(range(len(slots)))
    for _ in range(max_episode_length):
        batch = np.stack([observations[row] for row in active])
        actions = act(batch, active)
        results = envs.step([slots[row] for row in active], actions)
        still = []
        for row, action, (obs, reward, step_type, info) in zip(
                active, actions, results):
            record = steps[row]
            record['observations'].append(observations[row])
            record['actions'].append(action)
            record['rewards'].append(reward)
            record['next_observations'].append(obs)
            record['step_types'].append(step_type)
            record['env_infos'].append(info)
            observations[row] = obs
            if step_type not in (StepType.TERMINAL, StepType.TIMEOUT):
                still.append(row)
        active = still
        if not active:
            break
    return [_path(record) for record in steps]


def _path(record) -> Dict[str, Any]:
    infos = record['env_infos']
    return {
        'observations': np.asarray(record['observations']),
        'next_observations': np.asarray(record['next_observations']),
        'actions': np.asarray(record['actions']),
        'rewards': np.asarray(record['rewards'], dtype=np.float64),
        'step_types': np.asarray(record['step_types'], dtype=StepType),
        'env_infos': {key: np.asarray([info[key] for info in infos])
                      for key in infos[0]},
        'agent_infos': {},
        'episode_infos': {},
    }


def policy_actions(policy, deterministic: bool = False) -> ActFunction:
    """Actions of garage's ``ContextConditionedPolicy`` for rows of tasks.

    Row ``i`` of a batch is conditioned on ``policy.z[rows[i]]``: task
    ``rows[i]``'s current z. The actions equal, for the same torch random
    state, those of the policy's distribution (``.sample()``, or ``.mean``
    when deterministic); for garage's ``TanhGaussianMLPPolicy`` they are
    computed without building the distribution objects and without the
    ``.item()`` garage's module calls on its std bounds at every step (a
    host-device sync on a GPU): the per-step cost is most of sampling's.

    Args:
        policy (garage.torch.policies.ContextConditionedPolicy): The policy.
        deterministic (bool): Act with the mean (else sample).

    Returns:
        callable: ``act(observations, rows) -> actions``.

    """
    module = policy.networks[1]._module  # pylint: disable=protected-access
    if isinstance(module, GaussianMLPTwoHeadedModule) and (
            module._norm_dist_class is TanhNormal
            and module._std_parameterization == 'exp'):
        head = _tanh_gaussian_head(module, deterministic)
    else:  # any other policy: through its distribution
        def head(inputs):
            dist = module(inputs)
            return dist.mean if deterministic else dist.sample()

    def act(observations: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        with torch.inference_mode():
            obs = torch.as_tensor(observations, dtype=torch.float32,
                                  device=global_device())
            z = policy.z[torch.as_tensor(rows, device=policy.z.device)]
            return head(torch.cat([obs, z], dim=1)).cpu().numpy()

    return act


def _tanh_gaussian_head(module, deterministic: bool):
    """``tanh(mean)``, or ``tanh(mean + std * eps)`` as ``TanhNormal``
    samples (its ``Normal`` draws ``eps`` with ``normal_()``); log std
    clamped to the module's bounds, read once here."""
    # pylint: disable=protected-access
    low = None if module._min_std_param is None else float(
        module._min_std_param)
    high = None if module._max_std_param is None else float(
        module._max_std_param)

    def head(inputs: torch.Tensor) -> torch.Tensor:
        mean, log_std = module._get_mean_and_log_std(inputs)
        if deterministic:
            return torch.tanh(mean)
        std = log_std.clamp(min=low, max=high).exp()
        return torch.tanh(mean + torch.empty_like(mean).normal_() * std)

    return head


@contextlib.contextmanager
def one_torch_thread():
    """torch on one thread while sampling, as before afterwards.

    A policy call on a few rows gains nothing from more threads, and the
    idle threads of torch's pool spin on the cores that the environments
    (in worker processes, or in the other runs of a sweep) need.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def rounds_of(tasks: Sequence[int]) -> List[List[int]]:
    """Split a draw with repeats into rounds of distinct tasks.

    Args:
        tasks (Sequence[int]): Task indices, in the order drawn.

    Returns:
        list[list[int]]: Round ``r`` holds, in order of first appearance,
            each task drawn more than ``r`` times.

    """
    counts: Dict[int, int] = collections.Counter()
    rounds: List[List[int]] = []
    for task in tasks:
        if counts[task] == len(rounds):
            rounds.append([])
        rounds[counts[task]].append(task)
        counts[task] += 1
    return rounds


def to_buffer_path(path: Dict[str, Any]) -> Dict[str, np.ndarray]:
    """An episode in the format of PEARL's replay buffers."""
    return {
        'observations': path['observations'],
        'actions': path['actions'],
        'rewards': path['rewards'].reshape(-1, 1),
        'next_observations': path['next_observations'],
        'dones': np.array([t == StepType.TERMINAL
                           for t in path['step_types']]).reshape(-1, 1),
    }


class MultiTaskCollector:
    """PEARL's collection protocol, every task of a round in lockstep.

    Args:
        algo (tcl_garage.algos.PEARL): The algorithm: its policy, task
            environments, buffers and settings.
        envs (InProcessEnvs or ProcessEnvs or RayEnvs): Slots ``0`` to
            ``width - 1`` are used.
        width (int): Most tasks collected at once (the initial collection
            over all training tasks goes in groups of this many).

    """

    def __init__(self, algo, envs, width: int) -> None:
        self._algo = algo
        self._envs = envs
        self.width = width

    @one_torch_thread()
    def collect_initial(self) -> int:
        """``num_initial_steps`` with z from the prior in every training
        task (PEARL's first epoch).

        Returns:
            int: Environment steps taken.

        """
        algo = self._algo
        tasks = list(range(algo._num_train_tasks))
        steps = 0
        for start in range(0, len(tasks), self.width):
            group = tasks[start:start + self.width]
            steps += self._phase(group, algo._num_initial_steps, np.inf,
                                 add_to_encoder=True)
        return steps

    @one_torch_thread()
    def collect_epoch(self, tasks: Sequence[int]) -> int:
        """An epoch's collection for the tasks drawn (with repeats).

        Args:
            tasks (Sequence[int]): Task indices, in the order drawn.

        Returns:
            int: Environment steps taken.

        """
        algo = self._algo
        steps = 0
        for round_tasks in rounds_of(tasks):
            for start in range(0, len(round_tasks), self.width):
                group = round_tasks[start:start + self.width]
                for task in group:
                    algo._context_replay_buffers[task].clear()
                if algo._num_steps_prior > 0:
                    steps += self._phase(group, algo._num_steps_prior,
                                         np.inf, add_to_encoder=True)
                if algo._num_steps_posterior > 0:
                    steps += self._phase(group, algo._num_steps_posterior,
                                         algo._update_post_train,
                                         add_to_encoder=True)
                if algo._num_extra_rl_steps_posterior > 0:
                    steps += self._phase(group,
                                         algo._num_extra_rl_steps_posterior,
                                         algo._update_post_train,
                                         add_to_encoder=False)
        return steps

    def _phase(self, tasks: List[int], num_steps: int, posterior_every,
               add_to_encoder: bool) -> int:
        """At least ``num_steps`` steps of whole episodes in each task.

        Args:
            tasks (list[int]): Distinct tasks; task ``tasks[i]`` runs in slot
                ``i``.
            num_steps (int): Steps per task.
            posterior_every (int or float): Infer each task's posterior
                from its context buffer after this many episodes (inf:
                never, z stays from the prior).
            add_to_encoder (bool): Also add the episodes to the context
                buffers.

        Returns:
            int: Steps taken.

        """
        algo, policy = self._algo, self._algo._policy
        self._envs.set_tasks({slot: algo._env[task]
                              for slot, task in enumerate(tasks)})
        policy.reset_belief(num_tasks=len(tasks))
        act = policy_actions(policy)
        episodes = 0

        def store(rows, paths):
            nonlocal episodes
            for row, path in zip(rows, paths):
                buffer_path = to_buffer_path(path)
                algo._replay_buffers[tasks[row]].add_path(buffer_path)
                if add_to_encoder:
                    algo._context_replay_buffers[tasks[row]].add_path(
                        buffer_path)
            episodes += 1
            if posterior_every != np.inf and episodes % posterior_every == 0:
                with torch.no_grad():
                    policy.infer_posterior(algo._sample_context(tasks))

        return episodes_until(self._envs, list(range(len(tasks))), policy,
                              act, algo.max_episode_length, num_steps, store)


def episodes_until(envs, slots: Sequence[int], policy, act: ActFunction,
                   max_episode_length: int, num_steps: int,
                   after_each: Callable[[List[int], List[dict]], None]) -> int:
    """Whole episodes in lockstep until every slot has at least
    ``num_steps`` steps, a fresh z from each task's belief per episode.

    Args:
        envs (InProcessEnvs or ProcessEnvs or RayEnvs): The slots' home.
        slots (Sequence[int]): The slots; slot ``slots[i]`` is policy row
            ``i``.
        policy (garage.torch.policies.ContextConditionedPolicy): Draws z.
        act (callable): Actions of a batch of policy rows.
        max_episode_length (int): Longest episode.
        num_steps (int): Steps per slot.
        after_each (callable): Called with (rows, paths) after each lockstep
            episode of the slots still short of ``num_steps``.

    Returns:
        int: Steps taken.

    """
    totals = [0] * len(slots)
    while min(totals) < num_steps:
        rows = [row for row, total in enumerate(totals) if total < num_steps]
        policy.sample_from_belief()  # a fresh z for every episode
        paths = run_episodes(envs, [slots[row] for row in rows],
                             _rows_as(act, rows), max_episode_length)
        for row, path in zip(rows, paths):
            totals[row] += len(path['rewards'])
        after_each(rows, paths)
    return sum(totals)


def _rows_as(act: ActFunction, rows: Sequence[int]) -> ActFunction:
    """``act`` for a batch whose row ``i`` is task row ``rows[i]``."""
    return lambda observations, active: act(observations,
                                            [rows[i] for i in active])


class BatchedMetaEvaluator:
    """Meta-test evaluation of every test task at once; logs what garage's
    ``MetaEvaluator`` logs.

    Args:
        test_task_sampler (garage.experiment.TaskSampler): Test tasks.
        n_test_tasks (int): Test tasks per evaluation.
        n_exploration_eps (int): Exploration episodes per task.
        envs (InProcessEnvs or ProcessEnvs or RayEnvs): The slots' home.
        first_slot (int): Slots ``first_slot`` to ``first_slot +
            n_test_tasks - 1`` are the test tasks'.
        n_test_episodes (int): Adapted episodes per task (whole episodes of
            at least this many times the episode length, as garage).
        prefix (str): Tabular prefix.

    """

    def __init__(self,
                 test_task_sampler,
                 n_test_tasks: int,
                 n_exploration_eps: int,
                 envs,
                 first_slot: int,
                 n_test_episodes: int = 1,
                 prefix: str = 'MetaTest') -> None:
        self._test_task_sampler = test_task_sampler
        self._n_test_tasks = n_test_tasks
        self._n_exploration_eps = n_exploration_eps
        self._envs = envs
        self._first_slot = first_slot
        self._n_test_episodes = n_test_episodes
        self._prefix = prefix
        self._eval_itr = 0

    @one_torch_thread()
    def evaluate(self, algo) -> None:
        """Explore, adapt and evaluate every test task; log the results.

        Args:
            algo (tcl_garage.algos.PEARL): The algorithm.

        """
        updates = self._test_task_sampler.sample(self._n_test_tasks)
        slots = [self._first_slot + i for i in range(len(updates))]
        self._envs.set_tasks(dict(zip(slots, updates)))
        length = algo.max_episode_length
        policy = algo.get_exploration_policy()
        policy.reset_belief(num_tasks=len(slots))
        act = policy_actions(policy, deterministic=True)
        explored: List[List[dict]] = [[] for _ in slots]
        for _ in range(self._n_exploration_eps):
            policy.sample_from_belief()
            for row, path in enumerate(run_episodes(self._envs, slots, act,
                                                    length)):
                explored[row].append(path)
        spec = algo._single_env.spec  # pylint: disable=protected-access
        self._adapt(algo, policy, spec, explored)
        adapted: List[List[dict]] = [[] for _ in slots]

        def keep(rows, paths):
            for row, path in zip(rows, paths):
                adapted[row].append(path)

        episodes_until(self._envs, slots, policy, act, length,
                       self._n_test_episodes * length, keep)
        logger.log('Finished meta-testing...')
        batch = EpisodeBatch.concatenate(*[
            EpisodeBatch.from_list(spec, paths) for paths in adapted])
        with tabular.prefix(self._prefix + '/' if self._prefix else ''):
            log_multitask_performance(self._eval_itr, batch,
                                      getattr(algo, 'discount', 1.0))
        self._eval_itr += 1

    @staticmethod
    def _adapt(algo, policy, spec, explored: List[List[dict]]) -> None:
        """Each task's posterior from its own exploration episodes
        (``algo.adapt_policy``, one task at a time), then set together."""
        means, variances = [], []
        for paths in explored:
            with torch.no_grad():
                algo.adapt_policy(policy, EpisodeBatch.from_list(spec, paths))
            means.append(policy.z_means)
            variances.append(policy.z_vars)
        policy.z_means = torch.cat(means)
        if policy._use_information_bottleneck:  # else z_vars is unused
            policy.z_vars = torch.cat(variances)
        policy.sample_from_belief()
