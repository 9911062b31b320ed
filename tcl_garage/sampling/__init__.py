"""Vectorised multi-task sampling for PEARL-style algorithms: environments
in slots (this process, worker processes or Ray actors) and a collector and
meta-test evaluator that step every task at once."""
from tcl_garage.sampling.collector import (BatchedMetaEvaluator,
                                           MultiTaskCollector, rounds_of)
from tcl_garage.sampling.env_slots import (EnvWorkerError, InProcessEnvs,
                                           make_env_slots, ProcessEnvs,
                                           RayEnvs)
from tcl_garage.sampling.episodes import run_episodes, SamplingPolicy

__all__ = [
    'BatchedMetaEvaluator', 'EnvWorkerError', 'InProcessEnvs',
    'make_env_slots', 'MultiTaskCollector', 'ProcessEnvs', 'RayEnvs',
    'rounds_of', 'run_episodes', 'SamplingPolicy'
]
