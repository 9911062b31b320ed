"""What a collector needs to know of an algorithm: its collection protocol
and its buffers, as one public dataclass.

:attr:`tcl_garage.algos.PEARL.collection_plan` gives it;
:mod:`tcl_garage.sampling` reads nothing else of the algorithm but its
public methods (``policy``, ``infer_posteriors``, ``adapt_policy``,
``get_exploration_policy``), so another algorithm that collects as PEARL
does can hand it the same plan.
"""
import dataclasses
from typing import Any, Dict, Sequence


@dataclasses.dataclass(frozen=True)
class CollectionPlan:
    """PEARL's collection protocol (Rakelly et al. 2019, Algorithm 1) and
    where its data goes.

    Attributes:
        num_train_tasks (int): Training tasks.
        num_initial_steps (int): Steps per task before training, z from the
            prior, into both buffers.
        num_steps_prior (int): Per sampled task and epoch, steps with z from
            the prior, into both buffers (the context buffer is emptied
            first).
        num_steps_posterior (int): Then steps with z from the posterior,
            into both buffers.
        num_extra_rl_steps_posterior (int): Then steps with z from the
            posterior, into the RL buffer only.
        update_post_train (int): Episodes between re-inferences of the
            posterior in the posterior phases.
        max_episode_length (int): Longest episode.
        task_envs (Sequence[EnvUpdate]): Each training task's environment
            update.
        replay_buffers (dict[int, PathBuffer]): Each task's RL buffer.
        context_replay_buffers (dict[int, PathBuffer]): Each task's context
            (encoder) buffer.
        env_spec (EnvSpec): The tasks' environment spec.

    """

    num_train_tasks: int
    num_initial_steps: int
    num_steps_prior: int
    num_steps_posterior: int
    num_extra_rl_steps_posterior: int
    update_post_train: int
    max_episode_length: int
    task_envs: Sequence[Any]
    replay_buffers: Dict[int, Any]
    context_replay_buffers: Dict[int, Any]
    env_spec: Any
