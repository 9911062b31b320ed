"""The paper's oracle: SAC that sees the true task vector (its Table 5).

garage's SAC, trained on all training tasks at once through a
:class:`~tcl_garage.envs.task_vector.TaskVectorEnv` (each episode a random
training task, its vector in the observation), and evaluated like the
meta-RL methods: on the held-out test tasks, logged under ``MetaTest/`` with
``TotalEnvSteps``, so ``python -m tcl_garage.analysis curves|table`` compare
it with them. It needs no exploration: the task vector is the task.
"""
from typing import List, Optional, Sequence

from dowel import tabular
from garage import EpisodeBatch, log_multitask_performance, rollout
from garage.sampler.env_update import EnvUpdate
from garage.torch.algos import SAC

from tcl_garage.envs.task_vector import TaskVectorEnv


class OracleSAC(SAC):
    """SAC on observations that carry the task vector; meta-tested.

    Takes every argument of ``garage.torch.algos.SAC``, plus the test tasks.
    garage's per-epoch evaluation (on the training environment) is replaced
    by deterministic episodes on each test task.

    Args:
        env_spec (EnvSpec): Spec of the :class:`TaskVectorEnv`.
        policy (garage.torch.policies.Policy): Policy.
        qf1 (torch.nn.Module): First Q-function.
        qf2 (torch.nn.Module): Second Q-function.
        replay_buffer (ReplayBuffer): Replay buffer.
        sampler (garage.sampler.Sampler): Sampler of the training env.
        test_task_updates (Sequence[EnvUpdate]): The test tasks.
        test_episodes_per_task (int): Deterministic episodes per test task.
        **kwargs: Other arguments of garage's SAC.

    """

    def __init__(self,
                 env_spec,
                 policy,
                 qf1,
                 qf2,
                 replay_buffer,
                 sampler,
                 *,
                 test_task_updates: Sequence[EnvUpdate],
                 test_episodes_per_task: int = 1,
                 **kwargs) -> None:
        if not test_task_updates:
            raise ValueError('OracleSAC needs at least one test task')
        if test_episodes_per_task < 1:
            raise ValueError('test_episodes_per_task must be >= 1, got '
                             f'{test_episodes_per_task}')
        super().__init__(env_spec, policy, qf1, qf2, replay_buffer, sampler,
                         **kwargs)
        self._test_task_updates = list(test_task_updates)
        self._test_episodes_per_task = test_episodes_per_task
        self._test_env: Optional[TaskVectorEnv] = None

    def _evaluate_policy(self, epoch):
        """Deterministic episodes on every test task, logged as MetaTest.

        Args:
            epoch (int): The epoch.

        Returns:
            np.ndarray: Undiscounted return of each test episode.

        """
        episodes = []
        for index, update in enumerate(self._test_task_updates):
            inner = self._test_env.inner if self._test_env else None
            self._test_env = TaskVectorEnv([update],
                                           env=inner,
                                           task_names=[f'Task #{index}'])
            for _ in range(self._test_episodes_per_task):
                episodes.append(
                    rollout(self._test_env,
                            self.policy,
                            max_episode_length=self._test_env.spec.
                            max_episode_length,
                            deterministic=True))
        batch = EpisodeBatch.from_list(self._test_env.spec, episodes)
        with tabular.prefix('MetaTest/'):
            return log_multitask_performance(epoch, batch, self._discount)

    @property
    def test_task_updates(self) -> List[EnvUpdate]:
        """list[EnvUpdate]: The test tasks."""
        return list(self._test_task_updates)

    def __getstate__(self):
        """Pickled state, without the test environment (rebuilt on use).

        Returns:
            dict: The state.

        """
        state = self.__dict__.copy()
        state['_test_env'] = None
        return state
