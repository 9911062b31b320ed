"""Benchmark environments: adapter, MuJoCo families, Meta-World ML1."""
import numpy as np
import pytest

from garage import StepType

from tcl_garage.envs import (AntDirEnv, AntGoalEnv, BENCHMARK_NAMES,
                             GymnasiumEnv, HalfCheetahDirEnv,
                             HalfCheetahVelEnv, HumanoidDirEnv,
                             make_benchmark, ML1_ENV_NAMES,
                             WalkerRandParamsEnv)

FAMILIES = ['cheetah-vel', 'cheetah-dir', 'ant-dir', 'ant-goal',
            'humanoid-dir', 'walker-rand-params']
COUNTS = {'cheetah-vel': (100, 30), 'cheetah-dir': (2, 2),
          'ant-dir': (2, 2), 'ant-goal': (150, 30),
          'humanoid-dir': (100, 30), 'walker-rand-params': (40, 10),
          'ml1/push-v3': (50, 10)}


def first_env(name, seed=0, task=0):
    benchmark = make_benchmark(name, seed=seed)
    return benchmark.train_sampler.sample(benchmark.num_train_tasks)[task]()


def zero_action(env):
    return np.zeros(env.action_space.shape, env.action_space.dtype)


@pytest.mark.parametrize('name', FAMILIES + ['ml1/push-v3'])
def test_builds_resets_steps_with_counts(name):
    benchmark = make_benchmark(name)
    assert (benchmark.num_train_tasks, benchmark.num_test_tasks) == COUNTS[
        name]
    assert benchmark.max_episode_length == 200
    env = benchmark.train_envs()[0]()
    obs, episode_info = env.reset()
    assert obs.shape == env.observation_space.shape
    assert isinstance(episode_info, dict)
    step = env.step(env.action_space.sample())
    assert step.step_type == StepType.FIRST
    assert np.isfinite(step.reward)
    assert env.spec.max_episode_length == 200


def test_episode_times_out_at_max_episode_length():
    env = HalfCheetahVelEnv(max_episode_length=5)
    env.set_task({'velocity': 1.0})
    env.reset()
    types = [env.step(zero_action(env)).step_type for _ in range(5)]
    assert types == [StepType.FIRST] + [StepType.MID] * 3 + [
        StepType.TIMEOUT]
    with pytest.raises(RuntimeError, match='reset'):
        env.step(zero_action(env))


def test_termination_is_terminal():
    env = AntDirEnv()
    env.set_task(AntDirEnv.ALL_TASKS[0])
    env.reset()
    data = env.unwrapped.data
    qpos, qvel = data.qpos.copy(), data.qvel.copy()
    qpos[2] = 1.5  # torso above 1.0: unhealthy
    env.unwrapped.set_state(qpos, qvel)
    assert env.step(zero_action(env)).step_type == StepType.TERMINAL


def set_velocity(env, vx, vy=0.0):
    """Put the body in a state moving at (vx, vy) and return x, y."""
    data = env.unwrapped.data
    qpos, qvel = data.qpos.copy(), data.qvel.copy()
    qvel[:] = 0.0
    qvel[0] = vx
    if vy:
        qvel[1] = vy
    env.unwrapped.set_state(qpos, qvel)
    return data.qpos[0], data.qpos[1]


def test_cheetah_vel_reward_by_hand():
    env = HalfCheetahVelEnv()
    env.set_task({'velocity': 2.0})
    env.reset()
    x0, _ = set_velocity(env, 1.0)
    action = np.full(env.action_space.shape, 0.5, np.float32)
    step = env.step(action)
    velocity = (env.unwrapped.data.qpos[0] - x0) / env.unwrapped.dt
    expected = -abs(velocity - 2.0) - 0.05 * 6 * 0.25
    assert step.reward == pytest.approx(expected, rel=1e-6)
    assert step.env_info['x_velocity'] == pytest.approx(velocity)


def test_cheetah_dir_reward_by_hand_and_tasks_differ():
    rewards = []
    for task in HalfCheetahDirEnv.ALL_TASKS:
        env = HalfCheetahDirEnv()
        env.set_task(task)
        env.seed(0)
        env.reset()
        x0, _ = set_velocity(env, 2.0)
        step = env.step(zero_action(env))
        velocity = (env.unwrapped.data.qpos[0] - x0) / env.unwrapped.dt
        assert step.reward == pytest.approx(task['direction'] * velocity)
        rewards.append(step.reward)
    assert rewards[0] == pytest.approx(-rewards[1])


def test_ant_goal_reward_by_hand():
    env = AntGoalEnv()
    goal = np.array([1.5, -2.0])
    env.set_task({'goal': goal})
    env.reset()
    step = env.step(zero_action(env))
    data = env.unwrapped.data
    contact = 5e-4 * np.square(np.clip(data.cfrc_ext, -1, 1)).sum()
    expected = -np.abs(data.qpos[:2] - goal).sum() - contact
    assert step.reward == pytest.approx(expected, rel=1e-6)
    assert step.step_type != StepType.TERMINAL


def test_ant_dir_reward_by_hand():
    env = AntDirEnv()
    env.set_task({'angle': float(np.pi)})
    env.reset()
    set_velocity(env, -1.0)
    data = env.unwrapped.data
    # Velocity of the torso body (as Ant-v5 and PEARL's ant-dir measure it).
    before = data.body('torso').xpos[:2].copy()
    step = env.step(zero_action(env))
    vx, vy = (data.body('torso').xpos[:2] - before) / env.unwrapped.dt
    assert vx < -0.5
    contact = 5e-4 * np.square(np.clip(data.cfrc_ext, -1, 1)).sum()
    expected = -vx + np.sin(np.pi) * vy - contact + 1.0
    assert step.reward == pytest.approx(expected, rel=1e-6)


def test_point_actions_are_scaled_and_goals_lie_on_the_half_circle():
    from tcl_garage.envs.point import POINT_STEP_SIZE, PointTaskEnv
    benchmark = make_benchmark('point', seed=0)
    goals = np.array([t['goal'] for t in benchmark.train_sampler.tasks +
                      benchmark.test_sampler.tasks])
    assert len(goals) == 50
    np.testing.assert_allclose(np.linalg.norm(goals, axis=1), 1., rtol=1e-6)
    assert (goals[:, 1] >= 0).all() and goals[:, 0].min() < -0.5 < 0.5 < \
        goals[:, 0].max()
    env = PointTaskEnv()
    env.set_task({'goal': np.array([1., 0.], dtype=np.float32)})
    env.reset()
    assert env.action_space.low.tolist() == [-1, -1]
    assert env.spec.action_space.high.tolist() == [1, 1]
    action = np.array([1., 3.])  # the second coordinate is clipped to 1
    step = env.step(action)
    np.testing.assert_allclose(step.observation[:2], POINT_STEP_SIZE)
    assert step.action is action  # what the policy chose, as given
    assert step.reward == pytest.approx(-np.hypot(0.9, 0.1))
    assert not step.env_info['success']
    env.step(np.array([1., -1.]))  # to (0.2, 0)
    for _ in range(7):
        step = env.step(np.array([1., 0.]))
    np.testing.assert_allclose(step.observation[:2], [0.9, 0.], atol=1e-6)
    assert step.env_info['success']  # within one diagonal step of the goal


def test_point_episodes_go_through_garages_rollout_and_task_logging():
    # The oracle's meta-test path: garage's rollout stacks the infos, then
    # EpisodeBatch concatenates them per task (a dict in the info broke it).
    from dowel import tabular
    from garage import EpisodeBatch, log_multitask_performance, rollout
    from tcl_garage.envs.task_vector import TaskVectorEnv
    benchmark = make_benchmark('point', seed=0)

    class Still:
        def reset(self, do_resets=None):
            del do_resets

        def get_action(self, observation):
            del observation
            return np.zeros(2), {}

    episodes = []
    for index, update in enumerate(benchmark.test_sampler.sample(2)):
        env = TaskVectorEnv([update], task_names=[f'Task #{index}'])
        episodes.append(rollout(env, Still(), max_episode_length=20))
    batch = EpisodeBatch.from_list(env.spec, episodes)
    assert batch.env_infos['goal'].shape == (40, 2)
    returns = log_multitask_performance(0, batch, 1.0)
    np.testing.assert_allclose(returns, -20., rtol=1e-5)  # 20 steps at 1
    tabular.clear()


def test_humanoid_dir_tasks_give_different_rewards():
    rewards = []
    for angle in (0.0, np.pi / 2):
        env = HumanoidDirEnv()
        env.set_task({'angle': angle})
        env.seed(3)
        env.reset()
        set_velocity(env, 1.0)
        rewards.append(env.step(zero_action(env)).reward)
    assert abs(rewards[0] - rewards[1]) > 0.05


@pytest.mark.parametrize('name', ['cheetah-vel', 'ant-goal', 'humanoid-dir'])
def test_different_tasks_different_rewards(name):
    benchmark = make_benchmark(name)
    envs = benchmark.train_envs()
    rewards = []
    for update in envs[:2]:
        env = update()
        env.seed(0)
        env.reset()
        rewards.append(env.step(zero_action(env)).reward)
    assert rewards[0] != pytest.approx(rewards[1])


def test_walker_tasks_change_dynamics():
    benchmark = make_benchmark('walker-rand-params')
    updates = benchmark.train_envs()
    final = []
    for update in updates[:2]:
        env = update()
        env.seed(0)
        env.reset()
        action = np.full(env.action_space.shape, 0.5, np.float32)
        for _ in range(10):
            step = env.step(action)
        final.append(step.observation)
    assert not np.allclose(final[0], final[1])


def test_walker_set_task_never_drifts():
    env = WalkerRandParamsEnv()
    original = env.model_parameters()
    task_a, task_b = make_benchmark('walker-rand-params').train_sampler.tasks[:2]
    env.set_task(task_a)
    first_a = env.model_parameters()
    for name, value in first_a.items():
        np.testing.assert_allclose(value, original[name] * task_a[name])
        assert task_a[name].shape == original[name].shape
    env.set_task(task_b)
    assert not np.allclose(env.model_parameters()['body_mass'],
                           first_a['body_mass'])
    env.set_task(task_a)
    for name, value in env.model_parameters().items():
        np.testing.assert_array_equal(value, first_a[name])


def test_walker_scales_span_the_paper_ranges():
    tasks = make_benchmark('walker-rand-params').train_sampler.tasks
    mass = np.concatenate([t['body_mass'] for t in tasks])
    damping = np.concatenate([t['dof_damping'] for t in tasks])
    assert mass.min() >= 1.5**-3 and mass.max() <= 1.5**3
    assert damping.min() >= 1.3**-3 and damping.max() <= 1.3**3
    assert mass.max() / mass.min() > 5


@pytest.mark.parametrize('name', FAMILIES + ['ml1/reach-v3', 'point'])
def test_seed_reproduces_tasks_and_first_observation(name):
    def draw(seed):
        benchmark = make_benchmark(name, seed=seed)
        env = benchmark.train_envs()[-1]()
        env.seed(11) if hasattr(env, 'seed') else None
        obs, _ = env.reset()
        return benchmark, obs

    a, obs_a = draw(3)
    b, obs_b = draw(3)
    c, _ = draw(4)
    assert repr(a.train_sampler.tasks) == repr(b.train_sampler.tasks)
    assert repr(a.test_sampler.tasks) == repr(b.test_sampler.tasks)
    np.testing.assert_array_equal(obs_a, obs_b)
    if name not in ('cheetah-dir', 'ant-dir'):
        assert repr(a.train_sampler.tasks) != repr(c.train_sampler.tasks)


def test_forward_backward_families_test_on_their_train_tasks():
    for name in ('cheetah-dir', 'ant-dir'):
        benchmark = make_benchmark(name)
        assert repr(benchmark.train_sampler.tasks) == repr(
            benchmark.test_sampler.tasks)
        assert len({repr(t) for t in benchmark.train_sampler.tasks}) == 2


def test_test_sampler_returns_the_same_test_tasks_each_time():
    benchmark = make_benchmark('cheetah-vel')
    first = [u.task for u in benchmark.test_sampler.sample(30)]
    second = [u.task for u in benchmark.test_sampler.sample(30)]
    assert first == second
    train = {t['velocity'] for t in benchmark.train_sampler.tasks}
    assert not train & {t['velocity'] for t in first}


def test_ml1_train_and_test_goals_are_disjoint():
    import pickle
    benchmark = make_benchmark('ml1/push-v3', seed=0)

    def goals(tasks):
        return {tuple(np.round(pickle.loads(t.data)['rand_vec'], 6))
                for t in tasks}

    train, test = (goals(benchmark.train_sampler.tasks),
                   goals(benchmark.test_sampler.tasks))
    assert len(train) == 50 and len(test) == 10
    assert not train & test


def test_ml1_env_hides_goal_and_reports_success():
    env = first_env('ml1/push-v3')
    obs, _ = env.reset()
    assert obs.shape == (39, ) and env.action_space.shape == (4, )
    assert (obs[-3:] == 0).all()  # goal hidden
    step = env.step(zero_action(env))
    assert 'success' in step.env_info


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match='cheetah-vel'):
        make_benchmark('cheetah-velocity')
    with pytest.raises(ValueError, match='push-v3'):
        make_benchmark('ml1/push-v2')
    assert 'ml1/<env>' in BENCHMARK_NAMES


def test_adapter_wraps_any_gymnasium_env():
    import gymnasium
    env = GymnasiumEnv(gymnasium.make('CartPole-v1').unwrapped,
                       max_episode_length=3, seed=0)
    obs, _ = env.reset()
    assert env.observation_space.shape == obs.shape
    assert env.action_space.n == 2
    types = [env.step(0).step_type for _ in range(3)]
    assert types[-1] in (StepType.TIMEOUT, StepType.TERMINAL)
    with pytest.raises(ValueError, match='render_mode'):
        env.render('rgb_array')


ML1_DEFAULT = ['reach-v3', 'push-v3', 'pick-place-v3', 'door-open-v3']


@pytest.mark.parametrize('env_name', ML1_DEFAULT)
def test_some_ml1_envs_build_and_step(env_name):
    check_ml1(env_name)


@pytest.mark.slow
@pytest.mark.parametrize('env_name', ML1_ENV_NAMES)
def test_all_50_ml1_envs_build_and_step(env_name):
    check_ml1(env_name)


def check_ml1(env_name):
    benchmark = make_benchmark(f'ml1/{env_name}', seed=0)
    for sampler in (benchmark.train_sampler, benchmark.test_sampler):
        env = sampler.sample(sampler.n_tasks)[0]()
        env.reset()
        for _ in range(3):
            step = env.step(env.action_space.sample())
        assert step.observation.shape == (39, )
        assert np.isfinite(step.reward)
        assert 'success' in step.env_info


@pytest.mark.parametrize('name', ['cheetah-vel', 'walker-rand-params',
                                  'ml1/push-v3', 'point'])
def test_switching_task_reuses_the_environment(name):
    """A task switch sets the task on the same env (no rebuild), unless the
    env was built another way."""
    updates = make_benchmark(name, seed=0).train_envs()
    env = updates[0]()
    same = updates[1](env)
    assert same is env
    if name == 'point':
        np.testing.assert_allclose(same._goal, updates[1].task['goal'])
    else:
        assert same.task is updates[1].task
    if name != 'point':
        other = make_benchmark(name, seed=0,
                               max_episode_length=50).train_envs()[0](same)
        assert other is not same
        assert other.spec.max_episode_length == 50


def test_ml1_reward_function_version_is_a_setting():
    from tcl_garage.experiment import ConfigError, load_config
    rewards = {}
    for version in ('v1', 'v2'):
        benchmark = make_benchmark('ml1/push-v3', seed=0,
                                   reward_function_version=version)
        env = benchmark.train_envs()[0]()
        assert env.unwrapped.reward_function_version == version
        env.reset()
        rewards[version] = env.step(np.zeros(4, np.float32)).reward
    assert rewards['v1'] != rewards['v2']  # not the same reward function
    assert load_config('ml1/push-v3')['reward_function_version'] is None
    assert load_config('ml1/push-v3', overrides={
        'reward_function_version': 'v1'})['reward_function_version'] == 'v1'
    with pytest.raises(ConfigError, match='only Meta-World ML1'):
        load_config('cheetah-vel', overrides={'reward_function_version': 'v1'})
    with pytest.raises(ConfigError, match="reward_function_version='v3'"):
        load_config('ml1/push-v3', overrides={'reward_function_version': 'v3'})
