"""Meta-RL task distributions as garage environments and task samplers.

:func:`make_benchmark` builds any benchmark of the paper by name, and
:func:`register_benchmark` adds your own task family to it (and so to the
launchers, the configs and the analysis); the environment classes and the
gymnasium adapter are reusable on their own.
"""
from tcl_garage.envs.benchmarks import (Benchmark, BENCHMARK_NAMES,
                                        benchmark_facts, benchmark_names,
                                        BenchmarkSpec, draw_task_samplers,
                                        make_benchmark, register_benchmark,
                                        unregister_benchmark)
from tcl_garage.envs.gymnasium_env import akro_space, GymnasiumEnv
from tcl_garage.envs.metaworld_ml1 import (METAWORLD_MAX_EPISODE_LENGTH,
                                           MetaWorldML1Env, ML1_ENV_NAMES,
                                           ml1_tasks)
from tcl_garage.envs.mujoco_tasks import (AntDirEnv, AntGoalEnv,
                                          HalfCheetahDirEnv,
                                          HalfCheetahVelEnv, HumanoidDirEnv,
                                          MUJOCO_FAMILIES,
                                          MUJOCO_MAX_EPISODE_LENGTH,
                                          MujocoTaskEnv, WalkerRandParamsEnv)
from tcl_garage.envs.point import POINT_MAX_EPISODE_LENGTH, PointTaskEnv
from tcl_garage.envs.tasks import FixedTaskSampler, TaskUpdate

__all__ = [
    'akro_space', 'AntDirEnv', 'AntGoalEnv', 'Benchmark', 'BENCHMARK_NAMES',
    'benchmark_facts', 'benchmark_names', 'BenchmarkSpec',
    'draw_task_samplers', 'FixedTaskSampler', 'GymnasiumEnv', 'HalfCheetahDirEnv',
    'HalfCheetahVelEnv', 'HumanoidDirEnv', 'make_benchmark',
    'METAWORLD_MAX_EPISODE_LENGTH', 'MetaWorldML1Env', 'ML1_ENV_NAMES',
    'ml1_tasks', 'MUJOCO_FAMILIES', 'MUJOCO_MAX_EPISODE_LENGTH',
    'MujocoTaskEnv', 'POINT_MAX_EPISODE_LENGTH', 'PointTaskEnv',
    'register_benchmark', 'TaskUpdate', 'unregister_benchmark',
    'WalkerRandParamsEnv'
]
