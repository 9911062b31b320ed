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
import types
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from dowel import logger, tabular
from garage import StepType
import numpy as np
import torch

from tcl_garage.sampling.episodes import SamplingPolicy


#: Meta-test protocols of PEARL and TCL-PEARL (the ``evaluation`` setting).
EVALUATIONS = ('pearl', 'metaworld')


class Transition(NamedTuple):
    """Meta-World's ``Timestep`` (the same first six fields, so its agents
    read it unchanged), plus each row's true next observation (the last one
    of an episode, not the reset's).

    Shapes: ``(tasks, ...)`` per field.
    """

    observation: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    aux_policy_outputs: Dict[str, np.ndarray]
    next_observation: np.ndarray


@dataclasses.dataclass(frozen=True)
class ProtocolResult:
    """What :func:`metalearning_evaluation` reports.

    Attributes:
        success_rate (float): Mean over rounds of the mean over classes.
        mean_return (float): Likewise, of the evaluation episodes' returns.
        success_rate_per_class (dict[str, float]): Mean over rounds.
        return_per_class (dict[str, float]): Mean over rounds.
        success_per_task (np.ndarray): ``(rounds, tasks)``: each task's
            success rate over its evaluation episodes.

    """

    success_rate: float
    mean_return: float
    success_rate_per_class: Dict[str, float]
    return_per_class: Dict[str, float]
    success_per_task: np.ndarray


def _reset_all(envs: Sequence) -> np.ndarray:
    """First observations of a new episode in every environment."""
    return np.stack([env.reset()[0] for env in envs])


def _step_all(envs: Sequence, actions: np.ndarray,
              terminate_on_success: bool) -> Tuple[np.ndarray, ...]:
    """Step every environment; one that ended is reset in the same step
    (gymnasium's same-step autoreset, as Meta-World's vector environments).

    Returns:
        tuple: Next observations (the reset's where an episode ended),
            rewards, terminations, truncations, successes and the true next
            observations, one row each.

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
                     success, step.observation))
    (observations, rewards, terminations, truncations, successes,
     next_observations) = zip(*rows)
    return (np.stack(observations), np.asarray(rewards),
            np.asarray(terminations), np.asarray(truncations),
            np.asarray(successes), np.stack(next_observations))


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
            (next_observations, rewards, terminations, truncations, _,
             true_next) = _step_all(envs, actions,
                                    terminate_on_success=False)
            agent.step(Transition(observations, actions, rewards,
                                  terminations, truncations, aux, true_next))
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
        (observations, rewards, terminations, truncations, success,
         _) = _step_all(envs, actions, terminate_on_success=True)
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
    per_class_return = np.zeros((len(rounds), len(names)))
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
        per_class_return[index] = [class_return.get(name, np.nan)
                                   for name in names]
        per_task.append(task_success)
    rates = np.nanmean(per_class, axis=0)
    class_returns = np.nanmean(per_class_return, axis=0)
    return ProtocolResult(
        success_rate=total_success / len(rounds),
        mean_return=total_return / len(rounds),
        success_rate_per_class={name: float(rate)
                                for name, rate in zip(names, rates)},
        return_per_class={name: float(value)
                          for name, value in zip(names, class_returns)},
        success_per_task=np.array(per_task))


class PEARLAgent:
    """PEARL (or TCL-PEARL) as Meta-World's ``MetaLearningAgent``.

    Adaptation episodes act with the policy's mean and z drawn from the
    prior (a fresh z when episodes end), as PEARL explores at meta-test;
    ``adapt`` infers each task's posterior from its own adaptation
    transitions (``algo.adapt_policy``) and draws one z per task, which the
    evaluation episodes keep (acting with the mean).

    Args:
        algo (tcl_garage.algos.PEARL): The algorithm.

    """

    def __init__(self, algo) -> None:
        self._algo = algo
        self._policy = None
        self._acting: Optional[SamplingPolicy] = None
        self._context: List[Dict[str, list]] = []
        self._z: Optional[np.ndarray] = None

    def init(self) -> None:
        """A new round: the belief is the prior (rows set at the first
        observation)."""
        self._policy = self._algo.get_exploration_policy()
        self._acting = SamplingPolicy.of(self._policy)
        self._context = []
        self._z = None

    def _draw_z(self) -> None:
        self._policy.sample_from_belief()
        self._z = self._policy.z.detach().to('cpu', torch.float32).numpy()

    def adapt_action(self, observations: np.ndarray):
        """Actions while adapting: ``(tasks, action_dim)``, and no aux."""
        if self._z is None:
            self._policy.reset_belief(num_tasks=len(observations))
            self._context = [dict(observations=[], actions=[], rewards=[],
                                  next_observations=[])
                             for _ in observations]
            self._draw_z()
        return self.eval_action(observations), {}

    def step(self, transition: Transition) -> None:
        """Keep each task's transition; a fresh z from the prior when
        episodes end."""
        for row, context in enumerate(self._context):
            context['observations'].append(transition.observation[row])
            context['actions'].append(transition.action[row])
            context['rewards'].append(transition.reward[row])
            context['next_observations'].append(
                transition.next_observation[row])
        if np.logical_or(transition.terminated, transition.truncated).any():
            self._draw_z()

    def adapt(self) -> None:
        """Each task's posterior from its adaptation transitions; one z
        drawn from each."""
        means, variances = [], []
        for context in self._context:
            episodes = types.SimpleNamespace(
                **{key: np.asarray(value, dtype=np.float32)
                   for key, value in context.items()})
            with torch.no_grad():
                self._algo.adapt_policy(self._policy, episodes)
            means.append(self._policy.z_means)
            variances.append(self._policy.z_vars)
        self._algo.set_posteriors(torch.cat(means), torch.cat(variances))
        self._z = self._policy.z.detach().to('cpu', torch.float32).numpy()

    def reset(self, mask: np.ndarray) -> None:
        """Episodes ended: z is kept (one per task for its evaluation)."""
        del mask

    def eval_action(self, observations: np.ndarray) -> np.ndarray:
        """The policy's mean action of each row: ``(tasks, action_dim)``."""
        return self._acting.actions(
            np.asarray(observations, dtype=np.float32), self._z)


def class_of(env) -> str:
    """The Meta-World class of a task environment (ML10/ML45: its
    ``task_name``; ML1: its environment name).

    Args:
        env (garage.Environment): A Meta-World task environment.

    Returns:
        str: The class name.

    """
    name = getattr(env, 'task_name', None)
    return name if isinstance(name, str) else env.env_kwargs['env_name']


class MetaWorldProtocolEvaluator:
    """Meta-test with Meta-World's protocol (``evaluation: metaworld``):
    one round of :func:`metalearning_evaluation` over the test tasks per
    evaluation, the environments in this process; logs
    ``<prefix>/<class>/SuccessRate``, ``<prefix>/<class>/AverageReturn`` and
    ``<prefix>/Average/...``.

    Args:
        test_task_sampler (garage.experiment.TaskSampler): Test tasks.
        n_test_tasks (int): Test tasks per evaluation.
        adaptation_episodes (int): Adaptation episodes per task.
        evaluation_episodes (int): Evaluation episodes per task (3).
        prefix (str): Tabular prefix.

    """

    def __init__(self,
                 test_task_sampler,
                 n_test_tasks: int,
                 adaptation_episodes: int,
                 evaluation_episodes: int = 3,
                 prefix: str = 'MetaTest') -> None:
        self._test_task_sampler = test_task_sampler
        self._n_test_tasks = n_test_tasks
        self._adaptation_episodes = adaptation_episodes
        self._evaluation_episodes = evaluation_episodes
        self._prefix = prefix
        self._envs: List[Any] = []

    def __getstate__(self) -> Dict[str, Any]:
        """Pickled without its environments (rebuilt at the next
        evaluation; a Meta-World episode depends only on its task and
        actions, and building leaves the global stream as it was).

        Returns:
            dict: The state.

        """
        state = self.__dict__.copy()
        state['_envs'] = []
        return state

    def evaluate(self, algo) -> ProtocolResult:
        """Adapt to and evaluate every test task; log the results.

        Args:
            algo (tcl_garage.algos.PEARL): The algorithm.

        Returns:
            ProtocolResult: What was logged.

        """
        updates = self._test_task_sampler.sample(self._n_test_tasks)
        state = np.random.get_state()  # building draws a placeholder seed
        try:
            olds = self._envs + [None] * (len(updates) - len(self._envs))
            self._envs = [update(old) for update, old in zip(updates, olds)]
        finally:
            np.random.set_state(state)
        result = metalearning_evaluation(
            PEARLAgent(algo), [[(class_of(env), env) for env in self._envs]],
            adaptation_episodes=self._adaptation_episodes,
            evaluation_episodes=self._evaluation_episodes)
        logger.log('Finished meta-testing...')
        with tabular.prefix(self._prefix + '/' if self._prefix else ''):
            for name, rate in result.success_rate_per_class.items():
                tabular.record(f'{name}/SuccessRate', rate)
                tabular.record(f'{name}/AverageReturn',
                               result.return_per_class[name])
            tabular.record('Average/SuccessRate', result.success_rate)
            tabular.record('Average/AverageReturn', result.mean_return)
        return result
