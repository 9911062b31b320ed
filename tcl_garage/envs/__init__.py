"""Meta-RL task distributions as garage environments and task samplers."""
from tcl_garage.envs.point import make_point_benchmark, PointTaskEnv

__all__ = ['make_point_benchmark', 'PointTaskEnv']
