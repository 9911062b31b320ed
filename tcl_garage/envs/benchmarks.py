"""One entry point for every benchmark: :func:`make_benchmark`, and the
registry that adds a user's own task family to it: :func:`register_benchmark`.

Built in: ``cheetah-vel``, ``cheetah-dir``, ``ant-dir``, ``ant-goal``,
``humanoid-dir``, ``walker-rand-params`` (MuJoCo Controls), ``ml1/<env>``
(Meta-World ML1, e.g. ``ml1/push-v3``), ``ml10`` and ``ml45`` (Meta-World's
held-out classes) and ``point`` (PEARL's point robot,
the small, fast one of the demo and the tests).

A registered benchmark works wherever a built-in one does: the launchers
and ``python -m tcl_garage.experiment``, ``load_config``, the config
checks, ``experiments/sweep.py`` and ``experiments/ablation.py``,
``--resume`` and ``python -m tcl_garage.analysis embeddings``. A process
finds it by importing the module that registers it: the one you import
yourself, those named in the environment variable
:data:`BENCHMARK_MODULES_VARIABLE` (comma-separated; the sweep's and the
ablation's runs inherit it), and those of the ``tcl_garage.benchmarks``
entry-point group of an installed package; a run records the module in
its ``variant.json`` (``benchmark_module``), so ``--resume`` and the
analysis import it themselves. See docs/tutorial-own-benchmark.md.
"""
import dataclasses
import functools
import importlib
import inspect
import os
import pathlib
from typing import Callable, Dict, Optional, Tuple, Union

import numpy as np

from tcl_garage.envs.metaworld_ml import (ML_BENCHMARKS, ml_samplers,
                                          ml_task_counts)
from tcl_garage.envs.metaworld_ml1 import (check_env_name,
                                           METAWORLD_MAX_EPISODE_LENGTH,
                                           ML1_NUM_TEST_TASKS,
                                           ML1_NUM_TRAIN_TASKS,
                                           MetaWorldML1Env, ml1_tasks)
from tcl_garage.envs.mujoco_tasks import (MUJOCO_FAMILIES,
                                          MUJOCO_MAX_EPISODE_LENGTH)
from tcl_garage.envs.point import PointTaskEnv, POINT_MAX_EPISODE_LENGTH
from tcl_garage.envs.tasks import FixedTaskSampler

#: The built-in benchmark names (``ml1/<env>``: any Meta-World v3 name).
BENCHMARK_NAMES = (*MUJOCO_FAMILIES, 'ml1/<env>', *ML_BENCHMARKS, 'point')
#: Training and test tasks of ``point``.
_POINT_TASKS = (40, 10)
#: Environment variable naming modules that register benchmarks.
BENCHMARK_MODULES_VARIABLE = 'TCL_GARAGE_BENCHMARKS'
#: Entry-point group of installed packages' benchmark modules.
ENTRY_POINT_GROUP = 'tcl_garage.benchmarks'

#: ``(seed, max_episode_length) -> (train sampler, test sampler)``.
SamplerFactory = Callable[[int, int], Tuple[FixedTaskSampler,
                                            FixedTaskSampler]]


@dataclasses.dataclass(frozen=True)
class BenchmarkSpec:
    """A registered benchmark: how to make its tasks, and its facts.

    Attributes:
        name (str): Its name (the launcher's first argument).
        make_samplers (callable): ``(seed, max_episode_length) -> (train,
            test)``: the task samplers (:class:`FixedTaskSampler`, or any
            garage ``TaskSampler`` with ``n_tasks``), the split fixed by
            the seed (draw with a generator of that seed, never the global
            stream's state).
        num_train_tasks (int): Training tasks (``train.n_tasks``).
        num_test_tasks (int): Test tasks (``test.n_tasks``).
        max_episode_length (int): Its episode length (the config's
            ``max_episode_length: null``).
        config_file (pathlib.Path or None): Its config of differences from
            the defaults (as ``configs/cheetah-vel.yaml``); None: none.
        fixed_episode_length (bool): Its episodes cannot be given another
            length.
        module (str or None): The importable module that registers it (a
            run records it, so that a new process finds the benchmark);
            None: built in, or registered from a script.

    """

    name: str
    make_samplers: SamplerFactory
    num_train_tasks: int
    num_test_tasks: int
    max_episode_length: int
    config_file: Optional[pathlib.Path] = None
    fixed_episode_length: bool = False
    module: Optional[str] = None


_REGISTRY: Dict[str, BenchmarkSpec] = {}


def register_benchmark(name: str,
                       make_samplers: SamplerFactory,
                       *,
                       num_train_tasks: int,
                       num_test_tasks: int,
                       max_episode_length: int,
                       config_file: Union[str, pathlib.Path, None] = None,
                       fixed_episode_length: bool = False,
                       module: Optional[str] = None) -> BenchmarkSpec:
    """Add a benchmark to the launchers, the configs and the analysis.

    Call it when your module is imported (at its top level): the module
    that calls it (or ``module``) is recorded in each run's
    ``variant.json``, and importing it again in a new process (``--resume``,
    the analysis) registers the benchmark again. Registering a name again
    replaces its entry.

    Args:
        name (str): The name (not a built-in one, no ``/``).
        make_samplers (callable): ``(seed, max_episode_length) -> (train,
            test)`` task samplers; :func:`draw_task_samplers` makes them
            from an environment class with ``sample_tasks``.
        num_train_tasks (int): Training tasks the train sampler holds.
        num_test_tasks (int): Test tasks the test sampler holds.
        max_episode_length (int): Episode length by default.
        config_file (str or pathlib.Path or None): A YAML file of the
            benchmark's differences from ``configs/defaults.yaml`` (and
            sections named after algorithms); None: the defaults.
        fixed_episode_length (bool): Refuse another episode length.
        module (str or None): The importable module that registers the
            benchmark; None: the module calling this function (a script
            run as ``__main__`` records none).

    Returns:
        BenchmarkSpec: The entry.

    Raises:
        ValueError: For a built-in name, a name with ``/``, counts below 1,
            an episode length below 2 or a missing config file.

    """
    if name in BENCHMARK_NAMES or name.startswith('ml1/') or '/' in name:
        raise ValueError(f'benchmark name {name!r}: built in, or holds a '
                         '/; choose another name')
    for key, value, low in (('num_train_tasks', num_train_tasks, 1),
                            ('num_test_tasks', num_test_tasks, 1),
                            ('max_episode_length', max_episode_length, 2)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f'{key}={value!r}: must be an int >= {low}; '
                             'give the benchmark\'s own')
    if config_file is not None:
        config_file = pathlib.Path(config_file).resolve()
        if not config_file.is_file():
            raise ValueError(f'config_file={config_file}: no such file; '
                             'give the path of its YAML file, or None')
    if module is None:  # the caller's module, which registers it on import
        module = inspect.currentframe().f_back.f_globals.get('__name__')
    spec = BenchmarkSpec(name, make_samplers, num_train_tasks,
                         num_test_tasks, max_episode_length, config_file,
                         fixed_episode_length,
                         None if module == '__main__' else module)
    _REGISTRY[name] = spec
    return spec


def unregister_benchmark(name: str) -> None:
    """Remove a registered benchmark (a test's, say).

    Args:
        name (str): Its name.

    Raises:
        ValueError: If it is not registered.

    """
    if _REGISTRY.pop(name, None) is None:
        raise ValueError(f'benchmark {name!r} is not registered; registered: '
                         f'{", ".join(registered_names()) or "none"}')


def import_benchmark_modules(modules: Union[str, None] = None) -> None:
    """Import modules that register benchmarks.

    Args:
        modules (str or None): Comma-separated module names; None: those of
            :data:`BENCHMARK_MODULES_VARIABLE` and of the
            :data:`ENTRY_POINT_GROUP` entry points.

    Raises:
        ValueError: If a module or an entry point cannot be imported.

    """
    if modules is None:
        from importlib.metadata import entry_points
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry_point.load()
            except Exception as error:  # pylint: disable=broad-except
                # Another package's plugin: whatever it raises, name it.
                package = getattr(entry_point.dist, 'name', None)
                reason = (str(error).splitlines() or [''])[0]
                raise ValueError(
                    f'the {ENTRY_POINT_GROUP} entry point '
                    f'{entry_point.name!r} ({entry_point.value}) of package '
                    f'{package or "(unknown)"} cannot be loaded '
                    f'({type(error).__name__}: {reason}); fix or uninstall '
                    'that package') from error
        modules = os.environ.get(BENCHMARK_MODULES_VARIABLE, '')
    for module in filter(None, (m.strip() for m in modules.split(','))):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ValueError(f'benchmark module {module!r} cannot be '
                             f'imported ({error}); put it on PYTHONPATH') \
                from None


def registered_benchmark(name: str) -> Optional[BenchmarkSpec]:
    """A registered benchmark (not a built-in one), looked for in the
    modules of :func:`import_benchmark_modules` when not yet registered.

    Args:
        name (str): Its name.

    Returns:
        BenchmarkSpec or None: Its entry; None when there is none.

    """
    if name not in _REGISTRY and name not in BENCHMARK_NAMES and (
            not name.startswith('ml1/')):
        import_benchmark_modules()
    return _REGISTRY.get(name)


def registered_names() -> Tuple[str, ...]:
    """The names of the registered benchmarks (besides the built-in ones).

    Returns:
        tuple[str, ...]: Sorted.

    """
    return tuple(sorted(_REGISTRY))


def draw_task_samplers(env_type: type,
                       num_train_tasks: int,
                       num_test_tasks: int,
                       seed: int,
                       env_kwargs: Optional[dict] = None
                       ) -> Tuple[FixedTaskSampler, FixedTaskSampler]:
    """Draw a family's tasks under a seed and split them: the first
    ``num_train_tasks`` train, the next ``num_test_tasks`` test.

    ``env_type(**env_kwargs).sample_tasks(n)`` draws them from
    ``np.random`` seeded with ``seed``; the global state is restored after.

    Args:
        env_type (type): The environment class (``sample_tasks``,
            ``set_task``, ``env_kwargs``).
        num_train_tasks (int): Training tasks.
        num_test_tasks (int): Test tasks.
        seed (int): Seed of the draw.
        env_kwargs (dict or None): Constructor arguments.

    Returns:
        tuple[FixedTaskSampler, FixedTaskSampler]: Train and test samplers.

    """
    env = env_type(**(env_kwargs or {}))
    tasks = _draw(env, num_train_tasks + num_test_tasks, seed)
    env.close()
    return (FixedTaskSampler(env_type, tasks[:num_train_tasks], env_kwargs),
            FixedTaskSampler(env_type, tasks[num_train_tasks:], env_kwargs))


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """The tasks of a benchmark, split into train and test.

    Attributes:
        name (str): Benchmark name.
        train_sampler (FixedTaskSampler): Training tasks;
            ``train_sampler.sample(num_train_tasks)`` gives them in order.
        test_sampler (FixedTaskSampler): Held-out test tasks.
        num_train_tasks (int): Number of training tasks.
        num_test_tasks (int): Number of test tasks.
        max_episode_length (int): Episode length.

    """

    name: str
    train_sampler: FixedTaskSampler
    test_sampler: FixedTaskSampler
    num_train_tasks: int
    num_test_tasks: int
    max_episode_length: int

    def train_envs(self) -> list:
        """Environment updates of the training tasks, in order.

        Returns:
            list[TaskUpdate]: One per training task.

        """
        return self.train_sampler.sample(self.num_train_tasks)


def make_benchmark(name: str,
                   seed: int = 0,
                   max_episode_length: Optional[int] = None,
                   reward_function_version: Optional[str] = None) -> Benchmark:
    """Build a benchmark's train and test task samplers.

    Tasks are drawn with a generator seeded by ``seed`` (the global
    ``np.random`` state is left as it was), so the train/test split is fixed
    for a seed.

    Args:
        name (str): A name of :data:`BENCHMARK_NAMES` (``ml1/<env>`` with any
            of Meta-World's 50 v3 names) or a registered one.
        seed (int): Seed of the task draw.
        max_episode_length (int or None): Episode length; None uses the
            benchmark's (200, or 20 for ``point``).
        reward_function_version (str or None): ML1 only: ``v2`` (None:
            Meta-World 3's default) or ``v1`` (the paper's reward).

    Returns:
        Benchmark: Samplers and counts.

    Raises:
        ValueError: For an unknown name, listing the valid ones.

    """
    n_train, n_test, default_length = benchmark_facts(name)  # checks it
    length = max_episode_length or default_length
    if name.startswith('ml1/'):
        env_name = name[len('ml1/'):]
        train, test = ml1_tasks(env_name, seed, n_train, n_test)
        kwargs = dict(env_name=env_name, max_episode_length=length,
                      reward_function_version=reward_function_version or 'v2')
        return Benchmark(name,
                         FixedTaskSampler(MetaWorldML1Env, train, kwargs),
                         FixedTaskSampler(MetaWorldML1Env, test, kwargs),
                         n_train, n_test, length)
    if reward_function_version is not None:
        raise ValueError(f'reward_function_version={reward_function_version}'
                         f': only Meta-World ML1 has reward versions, not '
                         f'{name}; leave it unset')
    spec = _spec(name)
    if spec.fixed_episode_length and length != spec.max_episode_length:
        raise ValueError(f'{name} tasks have a fixed episode length of '
                         f'{spec.max_episode_length}')
    train, test = spec.make_samplers(seed, length)
    for which, sampler, count in (('train', train, n_train),
                                  ('test', test, n_test)):
        if sampler.n_tasks != count:
            raise ValueError(f'{name}: its {which} sampler holds '
                             f'{sampler.n_tasks} tasks, its registration '
                             f'says {count}; make them agree')
    return Benchmark(name, train, test, n_train, n_test, length)


def benchmark_facts(name: str) -> Tuple[int, int, int]:
    """A benchmark's task counts and episode length, without building it.

    Args:
        name (str): A name of :data:`BENCHMARK_NAMES` (``ml1/<env>``) or a
            registered one.

    Returns:
        tuple[int, int, int]: Training tasks, test tasks, default episode
            length.

    Raises:
        ValueError: For an unknown name, listing the valid ones.

    """
    if name.startswith('ml1/'):
        check_env_name(name[len('ml1/'):])
        return (ML1_NUM_TRAIN_TASKS, ML1_NUM_TEST_TASKS,
                METAWORLD_MAX_EPISODE_LENGTH)
    spec = _spec(name)
    return spec.num_train_tasks, spec.num_test_tasks, spec.max_episode_length


def benchmark_names() -> Tuple[str, ...]:
    """Every benchmark name: the built-in ones, then the registered ones.

    Returns:
        tuple[str, ...]: The names (``ml1/<env>`` for Meta-World).

    """
    return BENCHMARK_NAMES + tuple(
        name for name in registered_names() if name not in _BUILT_IN)


def _spec(name: str) -> BenchmarkSpec:
    """A built-in or registered benchmark's entry (not ML1's).

    Args:
        name (str): Its name.

    Returns:
        BenchmarkSpec: The entry.

    Raises:
        ValueError: For an unknown name, listing the valid ones.

    """
    spec = _BUILT_IN.get(name) or registered_benchmark(name)
    if spec is None:
        raise ValueError(f'unknown benchmark {name!r}: choose one of '
                         f'{", ".join(benchmark_names())} (or register it: '
                         'tcl_garage.envs.register_benchmark)')
    return spec


def _mujoco_spec(name: str) -> BenchmarkSpec:
    """A MuJoCo Controls family's entry.

    Args:
        name (str): A key of ``MUJOCO_FAMILIES``.

    Returns:
        BenchmarkSpec: The entry.

    """
    env_class, n_train, n_test = MUJOCO_FAMILIES[name]
    if hasattr(env_class, 'ALL_TASKS'):  # every task is train and test
        n_train = n_test = len(env_class.ALL_TASKS)

    def make_samplers(seed: int, length: int):
        kwargs = dict(max_episode_length=length)
        if hasattr(env_class, 'ALL_TASKS'):
            tasks = list(env_class.ALL_TASKS)
            return (FixedTaskSampler(env_class, tasks, kwargs),
                    FixedTaskSampler(env_class, tasks, kwargs))
        return draw_task_samplers(env_class, n_train, n_test, seed, kwargs)

    return BenchmarkSpec(name, make_samplers, n_train, n_test,
                         MUJOCO_MAX_EPISODE_LENGTH)


def _point_samplers(seed: int, length: int):
    """``point``'s samplers (its episodes last 20 steps)."""
    del length
    return draw_task_samplers(PointTaskEnv, *_POINT_TASKS, seed)


#: The built-in benchmarks' entries (ML1's are made by name).
_BUILT_IN: Dict[str, BenchmarkSpec] = {
    **{name: _mujoco_spec(name) for name in MUJOCO_FAMILIES},
    **{name: BenchmarkSpec(name, functools.partial(ml_samplers, name),
                           *ml_task_counts(name),
                           METAWORLD_MAX_EPISODE_LENGTH)
       for name in ML_BENCHMARKS},
    'point': BenchmarkSpec('point', _point_samplers, *_POINT_TASKS,
                           POINT_MAX_EPISODE_LENGTH,
                           fixed_episode_length=True),
}


def _draw(env, num_tasks: int, seed: int) -> list:
    """``env.sample_tasks`` under a seed, restoring ``np.random`` after.

    Args:
        env (garage.Environment): Has ``sample_tasks``.
        num_tasks (int): How many.
        seed (int): Seed.

    Returns:
        list: The tasks.

    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return env.sample_tasks(num_tasks)
    finally:
        np.random.set_state(state)
