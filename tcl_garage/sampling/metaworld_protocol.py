"""Meta-World's meta-RL evaluation protocol, counted per (task, goal).

Meta-World 3.1's ``metaworld.evaluation.metalearning_evaluation`` runs, in
each of ``num_evals`` rounds, every test environment set to its next goal:
``adaptation_episodes`` episodes (``adaptation_steps`` times, the agent
adapting after each), then evaluation episodes that end at the first
success; an episode succeeds if any of its steps does. It counts, for each
task NAME (class), the first ``evaluation_episodes`` episodes that finish
among all of that class's environments, so when a class has several
environments (goals) the ones that succeed early, whose episodes end
first, fill its count: the success rate is biased up (metaworld-algorithms
issue #10; the fix is in draft as Metaworld PR #577).

:func:`metalearning_evaluation` here runs the same protocol on garage
environments and the same agent interface (``init``, ``adapt_action``,
``step``, ``adapt``, ``reset``, ``eval_action``: Meta-World's
``MetaLearningAgent``), but counts the first ``evaluation_episodes``
episodes of EVERY environment, i.e. of every (class, goal) task: a task's
success rate is the mean over its episodes, a class's the mean over its
tasks, the result the mean over classes, then over rounds. With one
environment per class the two count the same episodes and agree.

How it differs from PEARL's protocol (``evaluation: pearl``, the
project's default, :class:`~tcl_garage.sampling.collector.
BatchedMetaEvaluator`): PEARL explores ``num_exploration_episodes``
episodes with z from the prior (its posterior from them), then runs
one adapted episode whose success is any step's, and averages over
episodes; Meta-World adapts on ``adaptation_episodes`` episodes (the agent
decides how), evaluates 3 episodes that stop at the first success
(returns are those of the shortened episodes), and averages per class, then
over classes and rounds.
"""
import dataclasses
from typing import Any, Dict, List, Sequence, Tuple

from garage import StepType
from metaworld.evaluation import Timestep
import numpy as np


@dataclasses.dataclass(frozen=True)
class ProtocolResult:
    """What :func:`metalearning_evaluation` reports.

    Attributes:
        success_rate (float): Mean over rounds of the mean over classes.
        mean_return (float): Likewise, of the evaluation episodes' returns.
        success_rate_per_class (dict[str, float]): Mean over rounds.
        success_per_task (np.ndarray): ``(rounds, tasks)``: each task's
            success rate over its evaluation episodes.

    """

    success_rate: float
    mean_return: float
    success_rate_per_class: Dict[str, float]
    success_per_task: np.ndarray


def _reset_all(envs: Sequence) -> np.ndarray:
    """First observations of a new episode in every environment."""
    return np.stack([env.reset()[0] for env in envs])


def _step_all(envs: Sequence, actions: np.ndarray,
              terminate_on_success: bool) -> Tuple[np.ndarray, np.ndarray,
                                                   np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """Step every environment; one that ended is reset in the same step
    (gymnasium's same-step autoreset, as Meta-World's vector environments).

    Returns:
        tuple: Next observations (the reset's where an episode ended),
            rewards, terminations, truncations and successes, one row each.

    """
    rows = []
    for env, action in zip(envs, actions):
        step = env.step(action)
        success = float(step.env_info.get('success', 0.0)) == 1.0
        terminated = step.step_type == StepType.TERMINAL or (
            terminate_on_success and success)
        truncated = (not terminated and step.step_type == StepType.TIMEOUT)
        observation = step.observation
        if terminated or truncated:
            observation = env.reset()[0]
        rows.append((observation, step.reward, terminated, truncated,
                     success))
    observations, rewards, terminations, truncations, successes = zip(*rows)
    return (np.stack(observations), np.asarray(rewards),
            np.asarray(terminations), np.asarray(truncations),
            np.asarray(successes))


def _adapt(agent, envs: Sequence, adaptation_steps: int,
           adaptation_episodes: int) -> None:
    """Meta-World's adaptation: episodes (not stopping at success) until
    every environment has ``adaptation_episodes``, then ``agent.adapt()``;
    ``adaptation_steps`` times."""
    for _ in range(adaptation_steps):
        observations = _reset_all(envs)
        episodes = np.zeros(len(envs), dtype=np.int64)
        while not (episodes >= adaptation_episodes).all():
            actions, aux = agent.adapt_action(observations)
            (next_observations, rewards, terminations, truncations,
             _) = _step_all(envs, actions, terminate_on_success=False)
            agent.step(Timestep(observations, actions, rewards, terminations,
                                truncations, aux))
            episodes += np.logical_or(terminations, truncations)
            observations = next_observations
        agent.adapt()


def _evaluate(agent, envs: Sequence,
              evaluation_episodes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Episodes that end at the first success until every environment has
    ``evaluation_episodes``; the first ``evaluation_episodes`` of each are
    kept.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(tasks, evaluation_episodes)``
            successes and returns.

    """
    n = len(envs)
    successes = np.zeros((n, evaluation_episodes))
    returns = np.zeros((n, evaluation_episodes))
    done = np.zeros(n, dtype=np.int64)
    running = np.zeros(n)
    observations = _reset_all(envs)
    agent.reset(np.ones(n, dtype=np.bool_))
    while not (done >= evaluation_episodes).all():
        actions = agent.eval_action(observations)
        (observations, rewards, terminations, truncations,
         success) = _step_all(envs, actions, terminate_on_success=True)
        ended = np.logical_or(terminations, truncations)
        agent.reset(ended)
        running += rewards
        for row in np.flatnonzero(ended):
            if done[row] < evaluation_episodes:
                # (an episode that ends at a success succeeded; one that
                # runs out did not: its last step did not succeed)
                successes[row, done[row]] = float(success[row])
                returns[row, done[row]] = running[row]
            done[row] += 1
            running[row] = 0.0
    return successes, returns


def metalearning_evaluation(agent,
                            rounds: Sequence[Sequence[Tuple[str, Any]]],
                            adaptation_steps: int = 1,
                            adaptation_episodes: int = 10,
                            evaluation_episodes: int = 3) -> ProtocolResult:
    """Meta-World's meta-RL evaluation, every (class, goal) counted alike.

    Args:
        agent (object): Meta-World's ``MetaLearningAgent`` interface:
            ``init()``, ``adapt_action(obs) -> (actions, aux)``,
            ``step(Timestep)``, ``adapt()``, ``reset(mask)``,
            ``eval_action(obs) -> actions``; ``obs`` is
            ``(tasks, obs_dim)``.
        rounds (Sequence[Sequence[tuple[str, garage.Environment]]]): Each
            round's tasks: (class name, environment set to the task), in
            the agent's row order. Meta-World's rounds are ``num_evals``
            and each holds ``meta_batch_size`` tasks.
        adaptation_steps (int): Adaptation phases a round.
        adaptation_episodes (int): Episodes per task per phase.
        evaluation_episodes (int): Evaluation episodes per task (3).

    Returns:
        ProtocolResult: Success rate and return, per class and overall.

    Raises:
        ValueError: With no round or an empty one.

    """
    if not rounds or not all(rounds):
        raise ValueError('metalearning_evaluation needs rounds of at least '
                         'one task each')
    names = sorted({name for tasks in rounds for name, _ in tasks})
    per_class = np.zeros((len(rounds), len(names)))
    per_task: List[np.ndarray] = []
    total_success, total_return = 0.0, 0.0
    for index, tasks in enumerate(rounds):
        envs = [env for _, env in tasks]
        agent.init()
        _adapt(agent, envs, adaptation_steps, adaptation_episodes)
        successes, returns = _evaluate(agent, envs, evaluation_episodes)
        task_success = successes.mean(axis=1)
        task_return = returns.mean(axis=1)
        present = sorted({name for name, _ in tasks})
        class_success = {
            name: np.mean([s for (n, _), s in zip(tasks, task_success)
                           if n == name]) for name in present}
        class_return = {
            name: np.mean([r for (n, _), r in zip(tasks, task_return)
                           if n == name]) for name in present}
        total_success += float(np.mean(list(class_success.values())))
        total_return += float(np.mean(list(class_return.values())))
        per_class[index] = [class_success.get(name, np.nan)
                            for name in names]
        per_task.append(task_success)
    rates = np.nanmean(per_class, axis=0)
    return ProtocolResult(
        success_rate=total_success / len(rounds),
        mean_return=total_return / len(rounds),
        success_rate_per_class={name: float(rate)
                                for name, rate in zip(names, rates)},
        success_per_task=np.array(per_task))
