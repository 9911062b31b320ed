"""Meta-World's meta-RL evaluation protocol, counted per (task, goal),
against Meta-World's own ``metalearning_evaluation``."""
import metaworld
from metaworld.evaluation import metalearning_evaluation as metaworlds
from metaworld.policies import SawyerReachV3Policy
import numpy as np
import pytest

from tcl_garage.envs.metaworld_ml import goal_draws_only
from tcl_garage.envs.metaworld_ml1 import MetaWorldML1Env
from tcl_garage.sampling.metaworld_protocol import metalearning_evaluation

#: Episode length of these tests (Meta-World's limit is 500).
LENGTH = 120


class ScriptedReacher:
    """Meta-World's scripted reach policy, told each row's goal (hidden from
    the observation), acting in the rows ``acts(row, goal)`` picks; the
    others stand still (and fail). Its ``init`` asks ``goals()`` for the
    goals of the round that starts."""

    def __init__(self, goals, acts):
        self._policy = SawyerReachV3Policy()
        self._goals_of = goals
        self._acts = acts
        self._goals = None
        self.adaptation_rows = 0  # rows of Timesteps seen while adapting

    def init(self):
        self._goals = self._goals_of()

    def adapt_action(self, observations):
        return self.eval_action(observations), {}

    def step(self, timestep):
        self.adaptation_rows += len(timestep.reward)

    def adapt(self):
        pass

    def reset(self, mask):
        del mask

    def eval_action(self, observations):
        actions = np.zeros((len(observations), 4))
        for row, (observation, goal) in enumerate(zip(observations,
                                                      self._goals)):
            if self._acts(row, goal):
                seen = np.array(observation, dtype=np.float64)
                seen[-3:] = goal
                actions[row] = self._policy.get_action(seen)
        return actions


def both(meta_batch_size, acts, rounds=3, seed=11, length=LENGTH):
    """Meta-World's evaluation and ours of the same agent on the same
    goals: Meta-World's ML1 reach-v3 test environments (meta_batch_size of
    them, the class's goals split between them); ours on environments set
    to the goals each of Meta-World's rounds drew."""
    with goal_draws_only():  # (Meta-World's goals, drawn faster)
        envs = metaworld.make_ml_envs_test('reach-v3', seed=seed,
                                           meta_batch_size=meta_batch_size,
                                           max_episode_steps=length)
    drawn = []

    def their_goals():
        tasks = [tasks[index] for tasks, index in zip(
            envs.get_attr('tasks'), envs.get_attr('current_task_idx'))]
        drawn.append(tasks)
        return np.array(envs.get_attr('_target_pos'))

    theirs_agent = ScriptedReacher(their_goals, acts)
    theirs = metaworlds(theirs_agent, envs, num_evals=rounds,
                        adaptation_episodes=2, evaluation_episodes=3)
    envs.close()
    round_envs = []
    for tasks in drawn:
        row = []
        for task in tasks:
            env = MetaWorldML1Env('reach-v3', max_episode_length=length,
                                  seed=0)
            env.set_task(task)
            row.append(('reach-v3', env))
        round_envs.append(row)
    current = iter(round_envs)

    def our_goals():  # (a reset places the goal, as Meta-World's draw)
        envs = [env for _, env in next(current)]
        return np.array([(env.reset(), env.unwrapped._target_pos)[1]
                         for env in envs])

    ours_agent = ScriptedReacher(our_goals, acts)
    ours = metalearning_evaluation(ours_agent, round_envs,
                                   adaptation_episodes=2,
                                   evaluation_episodes=3)
    assert ours_agent.adaptation_rows == theirs_agent.adaptation_rows
    return theirs, ours


def test_with_one_environment_per_class_ours_equals_metaworlds():
    """One goal at a time per class: both count the same episodes. The
    agent reaches only goals with x > 0, so rounds differ."""
    theirs, ours = both(1, lambda row, goal: goal[0] > 0, rounds=4)
    success, mean_return, per_class = theirs
    assert 0 < success < 1  # some rounds succeed, some do not
    assert ours.success_rate == pytest.approx(success, rel=1e-12)
    assert ours.mean_return == pytest.approx(mean_return, rel=1e-12)
    assert ours.success_rate_per_class == pytest.approx(per_class,
                                                        rel=1e-12)
    assert ours.success_per_task.shape == (4, 1)


def test_with_two_goals_per_class_metaworld_counts_the_early_successes():
    """Two environments of reach-v3; the agent reaches every goal of the
    first and none of the second. Meta-World's count fills with the first
    environment's short successful episodes (success rate 1); counted per
    (task, goal), half the tasks succeed. (Episodes of 300 steps: the
    first environment's three successes end before the second's first
    failure does.)"""
    theirs, ours = both(2, lambda row, goal: row == 0, length=300)
    assert theirs[0] == 1.0
    assert ours.success_rate == 0.5
    np.testing.assert_array_equal(ours.success_per_task,
                                  [[1.0, 0.0]] * 3)
    assert ours.success_rate_per_class == {'reach-v3': 0.5}


def test_the_protocol_is_a_setting_refused_where_nothing_reports_success():
    from tcl_garage.experiment.config import ConfigError, load_config
    assert load_config('ml10')['evaluation'] == 'pearl'
    config = load_config('ml1/reach-v3', overrides={'evaluation': 'metaworld'})
    assert config['evaluation'] == 'metaworld'
    with pytest.raises(ConfigError, match='cheetah-vel reports no success'):
        load_config('cheetah-vel', overrides={'evaluation': 'metaworld'})
    with pytest.raises(ConfigError, match='not one of pearl, metaworld'):
        load_config('ml10', overrides={'evaluation': 'garage'})
    with pytest.raises(ConfigError, match='mql does not use this key'):
        load_config('ml10', algo='mql',
                    overrides={'evaluation': 'metaworld'})


@pytest.mark.parametrize('algo', ['pearl', 'tcl-pearl'])
def test_a_smoke_run_with_metaworlds_protocol_logs_each_test_class(
        tmp_path, algo):
    """The smoke profile's 2 test tasks (one goal of each of 2 classes),
    3 evaluation episodes each: every rate is a multiple of 1/3."""
    from tcl_garage.envs.metaworld_ml import ml_tasks
    from tcl_garage.experiment.config import load_config
    from tcl_garage.experiment.launcher import run
    from tcl_garage.experiment.rundir import progress_rows
    config = load_config('ml10', algo=algo, profile='smoke',
                         overrides={'evaluation': 'metaworld'})
    rows = progress_rows(run(config, str(tmp_path / 'run'), quiet=True))
    assert len(rows) == 2
    classes = ml_tasks('ml10', 0)[3][:2]
    rates = [float(rows[-1][f'MetaTest/{name}/SuccessRate'])
             for name in classes]
    for rate in rates:
        assert rate * 3 == pytest.approx(round(rate * 3))
    assert float(rows[-1]['MetaTest/Average/SuccessRate']) == \
        pytest.approx(np.mean(rates))
    returns = [float(rows[-1][f'MetaTest/{name}/AverageReturn'])
               for name in classes]
    assert float(rows[-1]['MetaTest/Average/AverageReturn']) == \
        pytest.approx(np.mean(returns))
