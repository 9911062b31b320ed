"""PEARL's data collection and meta-test evaluation, every task at once.

garage's PEARL collects one task at a time, and each step runs the policy on
one observation. Here one environment per task (a slot of
:mod:`tcl_garage.sampling.env_slots`) steps in lockstep with the others, and
the policy runs once per step on the batch of their observations, each row
conditioned on its own task's z. The episodes run where the environments
live, with a copy of the policy (:class:`~tcl_garage.sampling.episodes.
SamplingPolicy`, handed over before each collection and evaluation); this
module draws each episode's z and keeps PEARL's buffers and beliefs. It
reads the algorithm through its public faces only: its
:class:`~tcl_garage.algos.collection_plan.CollectionPlan`
(``collection_plan``), ``policy``, ``infer_posteriors``, ``adapt_policy``,
``set_posteriors`` and ``get_exploration_policy``.

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

Where the environments report ``success`` (Meta-World), the collector keeps
whether each episode of an epoch succeeded (:attr:`MultiTaskCollector.
epoch_success`), and :func:`log_success_per_class` logs the fractions per
task class (``MetaTrain/<class>/SuccessRate``): no extra step or draw.
"""
import collections
import contextlib
from typing import (Any, Callable, Dict, List, Mapping, Optional,
                    Sequence)

from dowel import logger, tabular
from garage import EpisodeBatch, log_multitask_performance, StepType
import numpy as np
import torch

from tcl_garage.sampling.episodes import SamplingPolicy


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


def empty(buffer) -> None:
    """Empty a garage ``PathBuffer`` as its ``clear()`` does, but keep its
    arrays: ``clear()`` drops them, and the next episode allocates the
    whole capacity again (PEARL: 1e6 rows per field, about 1 ms a field,
    a tenth of a Cheetah-Vel epoch's collection). The old rows stay
    unreachable: sampling and episode windows read only the stored ones."""
    # pylint: disable=protected-access
    buffer._transitions_stored = 0
    buffer._first_idx_of_next_path = 0
    buffer._path_segments.clear()


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

    Raises:
        ValueError: If the algorithm's policy is not one
            :class:`~tcl_garage.sampling.episodes.SamplingPolicy` copies.

    """

    def __init__(self, algo, envs, width: int) -> None:
        # refuse other policies up front
        SamplingPolicy.check(SamplingPolicy.module_of(algo.policy))
        self._algo = algo
        self._envs = envs
        self.width = width
        self._epoch_success: Dict[int, List[bool]] = {}

    @property
    def epoch_success(self) -> Dict[int, List[bool]]:
        """dict[int, list[bool]]: For each task collected by the last
        :meth:`collect_epoch`, whether each of its episodes succeeded (any
        step's ``success``), in the order collected; empty when the
        environments report no ``success``."""
        return self._epoch_success

    @one_torch_thread()
    def collect_initial(self, tasks: Optional[Sequence[int]] = None) -> int:
        """``num_initial_steps`` with z from the prior in every training
        task (PEARL's first epoch).

        Args:
            tasks (Sequence[int] or None): Only these training tasks
                (benchmarks time a part of the initial collection); None:
                all of them.

        Returns:
            int: Environment steps taken.

        """
        plan = self._algo.collection_plan
        self._envs.set_policy(SamplingPolicy.of(self._algo.policy))
        tasks = list(range(plan.num_train_tasks) if tasks is None else tasks)
        steps = 0
        for start in range(0, len(tasks), self.width):
            group = tasks[start:start + self.width]
            steps += self._phase(group, plan.num_initial_steps, np.inf,
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
        plan = self._algo.collection_plan
        self._envs.set_policy(SamplingPolicy.of(self._algo.policy))
        self._epoch_success = {}
        steps = 0
        for round_tasks in rounds_of(tasks):
            for start in range(0, len(round_tasks), self.width):
                group = round_tasks[start:start + self.width]
                for task in group:
                    empty(plan.context_replay_buffers[task])
                if plan.num_steps_prior > 0:
                    steps += self._phase(group, plan.num_steps_prior,
                                         np.inf, add_to_encoder=True,
                                         success=self._epoch_success)
                if plan.num_steps_posterior > 0:
                    steps += self._phase(group, plan.num_steps_posterior,
                                         plan.update_post_train,
                                         add_to_encoder=True,
                                         success=self._epoch_success)
                if plan.num_extra_rl_steps_posterior > 0:
                    steps += self._phase(group,
                                         plan.num_extra_rl_steps_posterior,
                                         plan.update_post_train,
                                         add_to_encoder=False,
                                         success=self._epoch_success)
        return steps

    def _phase(self, tasks: List[int], num_steps: int, posterior_every,
               add_to_encoder: bool,
               success: Optional[Dict[int, List[bool]]] = None) -> int:
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
            success (dict[int, list[bool]] or None): Where to append, per
                task, whether each episode succeeded (any step's
                ``success``; nothing when the environments report none).

        Returns:
            int: Steps taken.

        """
        algo, policy = self._algo, self._algo.policy
        plan = algo.collection_plan
        self._envs.set_tasks({slot: plan.task_envs[task]
                              for slot, task in enumerate(tasks)})
        policy.reset_belief(num_tasks=len(tasks))
        episodes = 0

        def store(rows, paths):
            nonlocal episodes
            for row, path in zip(rows, paths):
                buffer_path = to_buffer_path(path)
                plan.replay_buffers[tasks[row]].add_path(buffer_path)
                if add_to_encoder:
                    plan.context_replay_buffers[tasks[row]].add_path(
                        buffer_path)
                if success is not None and 'success' in path['env_infos']:
                    success.setdefault(tasks[row], []).append(
                        bool(np.any(path['env_infos']['success'])))
            episodes += 1
            if posterior_every != np.inf and episodes % posterior_every == 0:
                with torch.no_grad():
                    algo.infer_posteriors(tasks)

        return episodes_until(self._envs, list(range(len(tasks))), policy,
                              False, plan.max_episode_length, num_steps,
                              store)


def episodes_until(envs, slots: Sequence[int], policy, deterministic: bool,
                   max_episode_length: int, num_steps: int,
                   after_each: Callable[[List[int], List[dict]], None]) -> int:
    """Whole episodes in lockstep until every slot has at least
    ``num_steps`` steps, a fresh z from each task's belief per episode.

    Args:
        envs (InProcessEnvs or ProcessEnvs or RayEnvs): The slots' home.
        slots (Sequence[int]): The slots; slot ``slots[i]`` is policy row
            ``i``.
        policy (garage.torch.policies.ContextConditionedPolicy): Draws z
            (row ``i`` of its z is slot ``slots[i]``'s).
        deterministic (bool): Act with the policy's mean.
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
        paths = envs.run_episodes([slots[row] for row in rows],
                                  z_rows(policy, rows), deterministic,
                                  max_episode_length)
        for row, path in zip(rows, paths):
            totals[row] += len(path['rewards'])
        after_each(rows, paths)
    return sum(totals)


def log_success_per_class(success: Mapping[int, Sequence[bool]],
                          task_classes: Sequence[str],
                          prefix: str = 'MetaTrain') -> None:
    """Log the success rate of episodes per task class, as garage's
    ``log_multitask_performance`` logs meta-test episodes:
    ``<prefix>/<class>/SuccessRate`` the mean over that class's episodes,
    ``<prefix>/Average/SuccessRate`` the mean over all of them. A class
    none of whose tasks has an episode is not recorded (its cell in
    ``progress.csv`` stays empty), nor the average when no task has one.

    Args:
        success (Mapping[int, Sequence[bool]]): Per task index, whether
            each of its episodes succeeded
            (:attr:`MultiTaskCollector.epoch_success`).
        task_classes (Sequence[str]): The class of each task, by index.
        prefix (str): Tabular prefix.

    """
    by_class: Dict[str, List[bool]] = {}
    for task, outcomes in success.items():
        by_class.setdefault(task_classes[task], []).extend(outcomes)
    every = [outcome for outcomes in by_class.values() for outcome in outcomes]
    if not every:
        return
    with tabular.prefix(prefix + '/'):
        for name in sorted(by_class):
            tabular.record(f'{name}/SuccessRate',
                           float(np.mean(by_class[name])))
        tabular.record('Average/SuccessRate', float(np.mean(every)))


def z_rows(policy, rows: Sequence[int]) -> np.ndarray:
    """Rows of the policy's current z, on the host (once an episode)."""
    return policy.z.detach()[list(rows)].to('cpu', torch.float32).numpy()


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
        plan = algo.collection_plan
        length = plan.max_episode_length
        policy = algo.get_exploration_policy()
        policy.reset_belief(num_tasks=len(slots))
        self._envs.set_policy(SamplingPolicy.of(policy))
        rows = list(range(len(slots)))
        explored: List[List[dict]] = [[] for _ in slots]
        for _ in range(self._n_exploration_eps):
            policy.sample_from_belief()
            for row, path in enumerate(self._envs.run_episodes(
                    slots, z_rows(policy, rows), True, length)):
                explored[row].append(path)
        spec = plan.env_spec
        self._adapt(algo, policy, spec, explored)
        adapted: List[List[dict]] = [[] for _ in slots]

        def keep(rows, paths):
            for row, path in zip(rows, paths):
                adapted[row].append(path)

        episodes_until(self._envs, slots, policy, True, length,
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
        algo.set_posteriors(torch.cat(means), torch.cat(variances))
