"""Assemble the paper's other baselines on a benchmark: the oracle (SAC on
the true task vector), MAML-TRPO and RL2-PPO, from garage's algorithms, and
MQL (with TCL-MQL, TCL on its context), from ours.

RL2-PPO is garage's TensorFlow algorithm: it needs the optional ``rl2``
extra (TensorFlow 2.15, ``make install-rl2``) and runs inside garage's
``TFTrainer``.

The counterpart of :mod:`tcl_garage.experiment.build` for the methods TCL-PEARL is
compared with; the launchers reach both through ``--algo``. Each builder
returns the algorithm, the environment for ``Trainer.setup`` and the
``batch_size`` to give ``Trainer.train`` (env steps per sampling call).
An argument not given is the documented default (the settings table,
:mod:`tcl_garage.experiment.settings`, as ``configs/defaults.yaml`` lists
it).
"""
import inspect
from typing import Optional, Sequence, Tuple

from garage.experiment import MetaEvaluator
from garage.experiment.task_sampler import TaskSampler
from garage.replay_buffer import PathBuffer
from garage.sampler import LocalSampler
from garage.torch.algos import MAMLTRPO
from garage.torch.policies import GaussianMLPPolicy, TanhGaussianMLPPolicy
from garage.torch.q_functions import ContinuousMLPQFunction
from garage.torch.value_functions import GaussianMLPValueFunction
import torch

from tcl_garage.algos.mql import ContextActor, ContextCritic, MQL
from tcl_garage.algos.oracle import OracleSAC
from tcl_garage.algos.tcl_mql import TCLMQL
from tcl_garage.experiment.algorithms import default_arguments
from tcl_garage.experiment.devices import use_device
from tcl_garage.envs.task_vector import TaskVectorEnv
from tcl_garage.envs.tasks import ResamplingTaskSampler, WrappedTaskSampler
from tcl_garage.sampling import make_env_slots

#: The MQL classes :func:`build_mql` builds, by ``algo`` name.
MQL_CLASSES = {'mql': MQL, 'tcl-mql': TCLMQL}
#: The documented defaults of the builders' arguments.
_ORACLE = default_arguments('oracle')
_MQL = default_arguments('mql')
_MAML = default_arguments('maml-trpo')
_RL2 = default_arguments('rl2-ppo')


def build_oracle(train_envs: Sequence,
                 test_task_updates: Sequence,
                 *,
                 seed: int = _ORACLE['seed'],
                 net_sizes: Sequence[int] = _ORACLE['net_sizes'],
                 env_steps_per_epoch: int = _ORACLE['env_steps_per_epoch'],
                 grad_steps_per_epoch: int = _ORACLE['grad_steps_per_epoch'],
                 min_buffer_size: int = _ORACLE['min_buffer_size'],
                 batch_size: int = _ORACLE['batch_size'],
                 replay_buffer_size: int = _ORACLE['replay_buffer_size'],
                 discount: float = _ORACLE['discount'],
                 soft_target_tau: float = _ORACLE['soft_target_tau'],
                 policy_lr: float = _ORACLE['policy_lr'],
                 qf_lr: float = _ORACLE['qf_lr'],
                 reward_scale: float = _ORACLE['reward_scale'],
                 device: str = 'cpu') -> Tuple[OracleSAC, TaskVectorEnv, int]:
    """SAC on all training tasks, the task vector in its observations.

    An epoch collects ``env_steps_per_epoch`` steps, one episode per
    sampling call, and takes ``grad_steps_per_epoch`` gradient steps spread
    evenly over them (the budget of a PEARL epoch, so that the curves share
    their x axis); the entropy temperature is tuned (garage's default).

    Args:
        train_envs (Sequence[EnvUpdate]): The training tasks.
        test_task_updates (Sequence[EnvUpdate]): The test tasks.
        seed (int): Seed of the training env's task draws.
        net_sizes (Sequence[int]): Hidden sizes of the policy and Q-functions.
        env_steps_per_epoch (int): Environment steps per epoch.
        grad_steps_per_epoch (int): Gradient steps per epoch.
        min_buffer_size (int): Transitions collected before training.
        batch_size (int): Transitions per gradient step.
        replay_buffer_size (int): Replay capacity.
        discount (float): Discount.
        soft_target_tau (float): Target networks' soft-update rate.
        policy_lr (float): Policy learning rate.
        qf_lr (float): Q-functions' learning rate.
        reward_scale (float): Reward scale.
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.

    Returns:
        tuple: The algorithm, the training environment and the trainer's
            batch size (one episode).

    """
    env = TaskVectorEnv(train_envs, seed=seed)
    episode_length = env.spec.max_episode_length
    episodes_per_epoch = max(1, env_steps_per_epoch // episode_length)
    hidden = list(net_sizes)
    policy = TanhGaussianMLPPolicy(env_spec=env.spec, hidden_sizes=hidden)
    qf1 = ContinuousMLPQFunction(env_spec=env.spec, hidden_sizes=hidden)
    qf2 = ContinuousMLPQFunction(env_spec=env.spec, hidden_sizes=hidden)
    sampler = LocalSampler(agents=policy,
                           envs=env,
                           max_episode_length=episode_length)
    algo = OracleSAC(env_spec=env.spec,
                     policy=policy,
                     qf1=qf1,
                     qf2=qf2,
                     replay_buffer=PathBuffer(
                         capacity_in_transitions=replay_buffer_size),
                     sampler=sampler,
                     test_task_updates=test_task_updates,
                     steps_per_epoch=episodes_per_epoch,
                     gradient_steps_per_itr=max(
                         1, round(grad_steps_per_epoch / episodes_per_epoch)),
                     max_episode_length_eval=episode_length,
                     min_buffer_size=min_buffer_size,
                     buffer_batch_size=batch_size,
                     discount=discount,
                     target_update_tau=soft_target_tau,
                     policy_lr=policy_lr,
                     qf_lr=qf_lr,
                     reward_scale=reward_scale,
                     # Unused (OracleSAC evaluates on the test tasks); given
                     # so that garage's SAC does not deep-copy the env.
                     eval_env=env)
    use_device(device)
    algo.to()
    return algo, env, episode_length


def build_mql(algo: str,
              train_envs: Sequence,
              test_task_sampler,
              *,
              num_test_tasks: int,
              net_sizes: Sequence[int] = _MQL['net_sizes'],
              history_length: int = _MQL['history_length'],
              context_size: int = _MQL['context_size'],
              seed: int = _MQL['seed'],
              env_steps_per_task: int = _MQL['env_steps_per_task'],
              num_steps_per_epoch: int = _MQL['num_steps_per_epoch'],
              updates_per_episode: Optional[int] = _MQL[
                  'updates_per_episode'],
              sampler: str = 'local',
              n_workers: int = 0,
              device: str = 'cpu',
              **algo_kwargs):
    """MQL or TCL-MQL with our recurrent-context networks, on a device.

    An epoch collects ``env_steps_per_task`` steps (whole episodes, at
    least one) in each drawn task, as a PEARL epoch, and takes
    ``num_steps_per_epoch`` TD3 steps, or ``updates_per_episode`` per
    collected episode (MQL's own rule).

    Args:
        algo (str): ``'mql'`` or ``'tcl-mql'``.
        train_envs (Sequence[EnvUpdate]): One update per training task.
        test_task_sampler (garage.experiment.TaskSampler): Test tasks.
        num_test_tasks (int): Test tasks per evaluation.
        net_sizes (Sequence[int]): Hidden sizes of the actor and of each
            Q-function.
        history_length (int): H, transitions each context reads.
        context_size (int): The GRU's hidden units.
        seed (int): Seed of the environments' and the algorithm's streams.
        env_steps_per_task (int): Environment steps per drawn task per
            epoch.
        num_steps_per_epoch (int): TD3 steps per epoch, when
            ``updates_per_episode`` is None.
        updates_per_episode (int or None): TD3 steps per collected
            episode (MQL: 200); None: ``num_steps_per_epoch``.
        sampler (str): ``local`` or ``ray`` (where the environments live).
        n_workers (int): Environment workers (0: this process).
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.
        **algo_kwargs: Other arguments of the algorithm (the documented
            defaults of the others: ``configs/defaults.yaml``'s ``mql``
            block, ``batch_size``, ...; TCL-MQL's TCL settings).

    Returns:
        tuple: The algorithm and one environment (for ``Trainer.setup``).

    Raises:
        ValueError: On an unknown algorithm.

    """
    if algo not in MQL_CLASSES:
        raise ValueError(f'unknown algorithm {algo!r}: choose one of '
                         f'{", ".join(MQL_CLASSES)}')
    explicit = tuple(inspect.signature(build_mql).parameters)
    algo_kwargs = {**default_arguments(algo, explicit), **algo_kwargs}
    env = train_envs[0]()
    spec = env.spec
    obs_dim = int(spec.observation_space.flat_dim)
    act_dim = int(spec.action_space.flat_dim)
    actor = ContextActor(obs_dim, act_dim, list(net_sizes), context_size,
                         history_length, spec.action_space.low,
                         spec.action_space.high)
    critic = ContextCritic(obs_dim, act_dim, list(net_sizes), context_size)
    episodes_per_task = max(1, env_steps_per_task // spec.max_episode_length)
    gradient_steps = (num_steps_per_epoch if updates_per_episode is None
                      else updates_per_episode * episodes_per_task *
                      algo_kwargs['num_tasks_sample'])
    algorithm = MQL_CLASSES[algo](list(train_envs),
                                  test_task_sampler,
                                  actor,
                                  critic,
                                  make_env_slots(sampler, seed, n_workers),
                                  env_spec=spec,
                                  num_test_tasks=num_test_tasks,
                                  max_episode_length=spec.max_episode_length,
                                  seed=seed,
                                  episodes_per_task=episodes_per_task,
                                  gradient_steps_per_epoch=gradient_steps,
                                  **algo_kwargs)
    use_device(device)
    algorithm.to()
    return algorithm, env


def build_maml_trpo(train_task_sampler: TaskSampler,
                    test_task_sampler: TaskSampler,
                    *,
                    num_test_tasks: int,
                    hidden_sizes: Sequence[int] = tuple(
                        _MAML['hidden_sizes']),
                    meta_batch_size: int = _MAML['meta_batch_size'],
                    episodes_per_task: int = _MAML['episodes_per_task'],
                    inner_lr: float = _MAML['inner_lr'],
                    max_kl_step: float = _MAML['max_kl_step'],
                    num_grad_updates: int = _MAML['num_grad_updates'],
                    discount: float = _MAML['discount'],
                    gae_lambda: float = _MAML['gae_lambda'],
                    device: str = 'cpu'):
    """MAML-TRPO (Finn et al., 2017) with garage's ``MAMLTRPO``.

    Meta-test: each test task is adapted with ``episodes_per_task``
    exploration episodes and one gradient step, then evaluated (garage's
    ``MetaEvaluator``, logged under ``MetaTest/``).

    Args:
        train_task_sampler (TaskSampler): The training tasks.
        test_task_sampler (TaskSampler): The test tasks.
        num_test_tasks (int): Test tasks per evaluation.
        hidden_sizes (Sequence[int]): Hidden sizes of the policy and value
            function (tanh).
        meta_batch_size (int): Tasks per meta-update.
        episodes_per_task (int): Episodes per task per adaptation.
        inner_lr (float): Adaptation step size.
        max_kl_step (float): TRPO's KL bound of the meta-update.
        num_grad_updates (int): Adaptation steps.
        discount (float): Discount.
        gae_lambda (float): GAE lambda.
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.

    Returns:
        tuple: The algorithm, an environment and the trainer's batch size
            (``episodes_per_task`` episodes).

    """
    tasks = ResamplingTaskSampler(train_task_sampler)
    env = tasks.sample(1)[0]()
    episode_length = env.spec.max_episode_length
    policy = GaussianMLPPolicy(env_spec=env.spec,
                               hidden_sizes=list(hidden_sizes),
                               hidden_nonlinearity=torch.tanh,
                               output_nonlinearity=None)
    value_function = GaussianMLPValueFunction(env_spec=env.spec,
                                              hidden_sizes=list(hidden_sizes),
                                              hidden_nonlinearity=torch.tanh,
                                              output_nonlinearity=None)
    sampler = LocalSampler(agents=policy,
                           envs=env,
                           max_episode_length=episode_length)
    evaluator = MetaEvaluator(test_task_sampler=test_task_sampler,
                              n_test_tasks=num_test_tasks,
                              n_exploration_eps=episodes_per_task)
    algo = MAMLTRPO(env=env,
                    policy=policy,
                    value_function=value_function,
                    sampler=sampler,
                    task_sampler=tasks,
                    inner_lr=inner_lr,
                    max_kl_step=max_kl_step,
                    discount=discount,
                    gae_lambda=gae_lambda,
                    meta_batch_size=meta_batch_size,
                    num_grad_updates=num_grad_updates,
                    meta_evaluator=evaluator)
    use_device(device)
    return algo, env, episodes_per_task * episode_length


#: The command that installs RL2-PPO's TensorFlow (an optional extra).
RL2_INSTALL_HINT = 'make install-rl2 (pip install -e ".[rl2]")'


def require_tensorflow() -> None:
    """Fail with the install command when TensorFlow is missing.

    Raises:
        ImportError: If TensorFlow cannot be imported.

    """
    from tcl_garage.garage_compat import tensorflow_available
    if not tensorflow_available():
        raise ImportError('rl2-ppo runs garage\'s TensorFlow RL2, and '
                          f'TensorFlow is not installed: {RL2_INSTALL_HINT}')


def _in_rl2_env(update, old_env):
    """Set a task and wrap its environment in garage's ``RL2Env``.

    Args:
        update (EnvUpdate): The task's update.
        old_env (RL2Env or None): Environment to reuse.

    Returns:
        garage.tf.algos.rl2.RL2Env: The wrapped environment.

    """
    from garage.tf.algos.rl2 import RL2Env
    inner = old_env._env if isinstance(old_env, RL2Env) else old_env
    return RL2Env(update(inner))


def build_rl2_ppo(train_task_sampler: TaskSampler,
                  test_task_sampler: TaskSampler,
                  *,
                  num_test_tasks: int,
                  hidden_size: int = _RL2['hidden_size'],
                  meta_batch_size: int = _RL2['meta_batch_size'],
                  episodes_per_trial: int = _RL2['episodes_per_trial'],
                  discount: float = _RL2['discount'],
                  gae_lambda: float = _RL2['gae_lambda'],
                  lr_clip_range: float = _RL2['lr_clip_range'],
                  policy_ent_coeff: float = _RL2['policy_ent_coeff'],
                  learning_rate: float = _RL2['learning_rate'],
                  minibatch_size: int = _RL2['minibatch_size'],
                  optimization_epochs: int = _RL2['optimization_epochs']):
    """RL2 (Duan et al., 2016) trained with PPO: garage's TensorFlow
    ``RL2PPO`` with a GRU policy, as in garage's examples.

    Call it inside ``garage.trainer.TFTrainer`` (its TensorFlow session).
    Meta-test: a trial of ``episodes_per_trial`` episodes per test task, the
    GRU's state carried across them (garage's ``MetaEvaluator`` with
    ``RL2Worker``, logged under ``MetaTest/``).

    Args:
        train_task_sampler (TaskSampler): The training tasks.
        test_task_sampler (TaskSampler): The test tasks.
        num_test_tasks (int): Test tasks per evaluation.
        hidden_size (int): GRU units.
        meta_batch_size (int): Tasks (trials) per update.
        episodes_per_trial (int): Episodes per trial.
        discount (float): Discount.
        gae_lambda (float): GAE lambda.
        lr_clip_range (float): PPO's clip range.
        policy_ent_coeff (float): Entropy bonus.
        learning_rate (float): Adam's step size.
        minibatch_size (int): PPO minibatch size.
        optimization_epochs (int): PPO epochs per update.

    Returns:
        tuple: The algorithm, the training environments and the trainer's
            batch size (one trial per task of the meta-batch).

    Raises:
        ImportError: If TensorFlow is not installed.

    """
    require_tensorflow()
    # pylint: disable=import-outside-toplevel
    from garage.np.baselines import LinearFeatureBaseline
    from garage.tf.algos import RL2PPO
    from garage.tf.algos.rl2 import RL2Worker
    from garage.tf.policies import GaussianGRUPolicy

    tasks = WrappedTaskSampler(ResamplingTaskSampler(train_task_sampler),
                               _in_rl2_env)
    test_tasks = WrappedTaskSampler(test_task_sampler, _in_rl2_env)
    envs = tasks.sample(meta_batch_size)
    env_spec = envs[0]().spec
    episode_length = env_spec.max_episode_length
    policy = GaussianGRUPolicy(name='rl2_policy',
                               hidden_dim=hidden_size,
                               env_spec=env_spec,
                               state_include_action=False)
    worker_args = dict(n_episodes_per_trial=episodes_per_trial)
    sampler = LocalSampler(agents=policy,
                           envs=envs,
                           max_episode_length=episode_length,
                           is_tf_worker=True,
                           n_workers=meta_batch_size,
                           worker_class=RL2Worker,
                           worker_args=worker_args)
    evaluator = MetaEvaluator(test_task_sampler=test_tasks,
                              n_test_tasks=num_test_tasks,
                              n_exploration_eps=episodes_per_trial,
                              worker_class=RL2Worker,
                              worker_args=worker_args)
    algo = RL2PPO(meta_batch_size=meta_batch_size,
                  task_sampler=tasks,
                  env_spec=env_spec,
                  policy=policy,
                  baseline=LinearFeatureBaseline(env_spec=env_spec),
                  sampler=sampler,
                  episodes_per_trial=episodes_per_trial,
                  discount=discount,
                  gae_lambda=gae_lambda,
                  lr_clip_range=lr_clip_range,
                  optimizer_args=dict(
                      batch_size=minibatch_size,
                      max_optimization_epochs=optimization_epochs,
                      learning_rate=learning_rate),
                  stop_entropy_gradient=True,
                  entropy_method='max',
                  policy_ent_coeff=policy_ent_coeff,
                  center_adv=False,
                  meta_evaluator=evaluator,
                  n_epochs_per_eval=1)
    return (algo, envs,
            episodes_per_trial * episode_length * meta_batch_size)
