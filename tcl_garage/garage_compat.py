"""Every adaptation of garage 2021.3.0 to today's Python stack, in one place.

garage 2021.3.0 was published for Python 3.6-3.8, TensorFlow 2, gym 0.17 and
numpy < 1.24. Its PyTorch algorithms run on Python 3.11, torch 2 and numpy 1.26
once the few places below are adapted. Each adaptation is applied by
:func:`install` (idempotent), touches only what garage itself needs, and
has a test in ``tests/test_garage_compat.py`` that fails if it stops
working.

1. ``garage.tf.samplers`` without TensorFlow. ``garage.sampler.worker_factory``
   imports ``TFWorkerClassWrapper`` from ``garage.tf.samplers`` (which imports
   TensorFlow) although torch algorithms never use it. When TensorFlow is not
   installed, a stand-in ``garage.tf`` package provides that one name; using
   it (``is_tf_worker=True``) raises an error that says to install TensorFlow.
   When TensorFlow is installed, the real package is used and nothing is done.
2. numpy aliases garage still uses. ``numpy.bool`` (removed in numpy 1.24,
   back in numpy 2 as ``numpy.bool_``), used by
   ``garage.np.explained_variance_1d``, is restored as the builtin ``bool``
   where missing, exactly what it was in numpy < 1.24. ``numpy.bool8``
   (removed in numpy 2), used by garage's JSON log encoder (every
   ``Trainer.train`` writes ``experiment.json`` with it), is restored as
   ``numpy.bool_``, what it was.
3. gym's import notice. garage (through akro) imports gym 0.26, whose
   import prints a multi-line notice to stderr that it is unmaintained. gym
   is imported once here with that notice swallowed, so a command's stderr
   holds only what the command says; the import hook of ``import
   tcl_garage`` does the same when gym (or akro) is imported before garage.
4. Ray workers. garage's ``RaySampler`` workers are fresh processes that import
   ``garage.sampler`` before anything of ours, so (1) must run there too:
   :func:`ray_init` starts Ray with :func:`install` as the
   ``worker_process_setup_hook`` of its runtime environment. garage's
   ``RaySampler`` also ends the whole Ray session when its workers shut down
   (``ray.shutdown()``), and starts one without that hook when none runs,
   so a second sampler in one process (a sweep, a resumed run) got workers
   without (1). ``tcl_garage.experiment.build.SessionRaySampler`` starts Ray through
   :func:`ray_init` and ends only its own workers.
5. Unpickling garage's ``ConjugateGradientOptimizer`` (MAML-TRPO's, so
   resuming a MAML run). Its ``__setstate__`` predates torch 2's optimizer
   hook tables, so the restored optimizer fails at its first step
   ("no attribute '_optimizer_step_pre_hooks'"). After garage's
   ``__setstate__``, torch's own fills them in. This one needs
   ``garage.torch``, which is slow to import, so :func:`install_torch`
   applies it when ``tcl_garage.algos`` is imported (the builders and
   launchers do).
6. ``garage.sampler.ray_sampler`` without Ray. ``garage.sampler`` imports
   ``RaySampler`` (hence ``ray``) whenever it loads, although runs on one
   machine never use it, and Ray is an optional extra here (its wheel is too
   large to carry to a GPU machine). When Ray is not installed, a stand-in
   module provides ``RaySampler``, whose construction raises an error naming
   the install command; with Ray installed the real module is used.
7. garage's expected warnings. The warnings garage's code raises at every
   run, about nothing a user can change, are filtered by their exact
   message, category and module (:data:`EXPECTED_WARNINGS`): ``set_seed``'s
   "Enabeling deterministic mode in PyTorch can have a performance impact
   when using GPU" (it only seeds), torch's about garage's ``TanhNormal``
   (no ``arg_constraints``) and SAC's logging of a loss with its gradient
   (``float(loss)``), and MAML's deprecated ``Tensor.add`` overload and its
   ``backward(create_graph=True)``. Any other warning still shows.

:func:`install` runs just before garage is first imported, not when
``tcl_garage`` is: ``import tcl_garage`` registers
:func:`install_before_garage`'s import hook, so the TCL core
(:mod:`tcl_garage.tcl`) imports without garage and changes nothing global
(numpy keeps its names), while any later ``import garage`` (by
:mod:`tcl_garage.algos`, :mod:`tcl_garage.envs`, a user's script) is
adapted first and fails with the install command when garage is missing.
"""
import contextlib
import importlib.abc
import importlib.util
import io
import signal
import sys
import threading
import types
import warnings
from typing import Any

import numpy as np

GARAGE_VERSION = '2021.3.0'
INSTALL_HINT = ('run `make install` (or `pip install --no-deps '
                f'garage=={GARAGE_VERSION}` in an environment made by it)')


#: The command that installs Ray (an optional extra).
RAY_INSTALL_HINT = 'make install-ray (pip install -e ".[ray]")'


def ray_available() -> bool:
    """Tell whether Ray can be imported (without importing it).

    Returns:
        bool: True when the ``ray`` package is installed.

    """
    try:
        return importlib.util.find_spec('ray') is not None
    except (ImportError, ValueError):  # a finder that refuses it
        return False


class _RaySamplerUnavailable:
    """Stands in for ``garage.sampler.RaySampler`` when Ray is missing.

    Raises:
        ImportError: Always, naming the install command.

    """

    def __init__(self, *args, **kwargs) -> None:
        del args, kwargs
        raise ImportError('the ray sampler needs Ray, which is not '
                          f'installed: {RAY_INSTALL_HINT}, or use --sampler '
                          'local')


def _install_ray_free_sampler() -> None:
    """Provide ``garage.sampler.ray_sampler`` when Ray is missing."""
    if 'garage.sampler.ray_sampler' in sys.modules or ray_available():
        return
    module = types.ModuleType('garage.sampler.ray_sampler')
    module.__doc__ = ('Stand-in made by tcl_garage.garage_compat: Ray is '
                      'not installed.')
    module.RaySampler = _RaySamplerUnavailable
    sys.modules['garage.sampler.ray_sampler'] = module


def tensorflow_available() -> bool:
    """Tell whether TensorFlow can be imported.

    Returns:
        bool: True when a ``tensorflow`` package is installed.

    """
    return importlib.util.find_spec('tensorflow') is not None


class _TFWorkerClassWrapperUnavailable:
    """Stands in for ``garage.tf.samplers.TFWorkerClassWrapper``.

    Args:
        wrapped_class (type): The worker class garage asked to wrap.

    Raises:
        ImportError: Always: TensorFlow workers need TensorFlow.

    """

    def __init__(self, wrapped_class: type) -> None:
        raise ImportError(
            f'{wrapped_class.__name__} was asked to run as a TensorFlow '
            'worker (is_tf_worker=True), but TensorFlow is not installed; '
            'install it (pip install tensorflow) or use a PyTorch algorithm.')


def _install_tensorflow_free_samplers() -> None:
    """Provide ``garage.tf.samplers`` when TensorFlow is missing."""
    if 'garage.tf' in sys.modules or tensorflow_available():
        return
    tf_package = types.ModuleType('garage.tf')
    tf_package.__doc__ = ('Stand-in made by tcl_garage.garage_compat: '
                          'TensorFlow is not installed.')
    tf_package.__path__ = []  # A package with no importable submodules.
    samplers = types.ModuleType('garage.tf.samplers')
    samplers.TFWorkerClassWrapper = _TFWorkerClassWrapperUnavailable
    tf_package.samplers = samplers
    sys.modules['garage.tf'] = tf_package
    sys.modules['garage.tf.samplers'] = samplers


def _install_numpy_aliases() -> None:
    """Restore ``np.bool`` and ``np.bool8``, which garage 2021.3.0 uses."""
    # pylint: disable=attribute-defined-outside-init
    if 'bool' not in np.__dict__:  # numpy 1.24 to 1.26
        np.bool = bool
    if not hasattr(np, 'bool8'):  # numpy >= 2
        np.bool8 = np.bool_


#: The warnings of garage (and of torch about garage) that every run
#: repeats and no user can act on, filtered by :func:`install`: (message
#: (a regular expression matched at its start), category, module that warns).
EXPECTED_WARNINGS = (
    ('Enabeling deterministic mode in PyTorch can have a performance impact',
     UserWarning, r'garage\.experiment\.deterministic'),
    (r"<class 'garage\.torch\.distributions\.tanh_normal\.TanhNormal'> "
     'does not define `arg_constraints`', UserWarning,
     r'garage\.torch\.distributions\.tanh_normal'),
    ('Converting a tensor with requires_grad=True to a scalar', UserWarning,
     r'garage\.torch\.algos\.sac'),
    ('This overload of add is deprecated', UserWarning,
     r'garage\.torch\.optimizers\.differentiable_sgd'),
    (r'Using backward\(\) with create_graph=True', UserWarning,
     r'torch\.autograd\.graph'),
)


def _filter_expected_warnings() -> None:
    """Hide :data:`EXPECTED_WARNINGS` (each filter added once)."""
    for message, category, module in EXPECTED_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category,
                                module=module)


class _QuietLoader(importlib.abc.Loader):
    """A module's own loader, with what its import writes to stderr
    swallowed (gym's notice).

    Args:
        loader (importlib.abc.Loader): The module's loader.

    """

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        """The module, as its own loader makes it.

        Args:
            spec (importlib.machinery.ModuleSpec): Its spec.

        Returns:
            types.ModuleType or None: What the loader returns.

        """
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        """Run the module's code, stderr swallowed; the module keeps its own
        loader.

        Args:
            module (types.ModuleType): The module.

        """
        module.__loader__ = module.__spec__.loader = self.loader
        with contextlib.redirect_stderr(io.StringIO()):
            self.loader.exec_module(module)


def _import_gym_quietly() -> None:
    """Import gym (needed by garage) without its stderr notice."""
    if 'gym' in sys.modules:
        return
    with contextlib.redirect_stderr(io.StringIO()):
        import gym  # noqa: F401  pylint: disable=import-outside-toplevel


def _check_garage_version() -> None:
    """Fail with the install command when garage is missing or another one.

    Raises:
        ImportError: garage is not installed, or not version 2021.3.0.

    """
    try:
        from importlib.metadata import PackageNotFoundError, version
        installed = version('garage')
    except PackageNotFoundError as error:
        raise ImportError(f'tcl_garage needs garage=={GARAGE_VERSION}, which '
                          f'is not installed: {INSTALL_HINT}.') from error
    if installed != GARAGE_VERSION:
        raise ImportError(f'tcl_garage needs garage=={GARAGE_VERSION}, found '
                          f'garage=={installed}: {INSTALL_HINT}.')


def install() -> None:
    """Apply every adaptation; safe to call any number of times.

    Raises:
        ImportError: garage is not installed, or not version 2021.3.0.

    """
    _check_garage_version()
    _install_numpy_aliases()
    _install_tensorflow_free_samplers()
    _install_ray_free_sampler()
    _import_gym_quietly()
    _filter_expected_warnings()


class _InstallBeforeGarage(importlib.abc.MetaPathFinder):
    """An import hook that runs :func:`install` when ``garage`` is first
    imported, then leaves ``sys.meta_path``; before that, it imports gym
    (when something imports it before garage) without its notice."""

    def find_spec(self, fullname, path=None, target=None):
        """Apply the adaptations before ``garage`` loads; gym's spec, its
        import made quiet (:class:`_QuietLoader`).

        Args:
            fullname (str): The module being imported.
            path (object): Where to look (a package's ``__path__``).
            target (object): Passed on.

        Returns:
            importlib.machinery.ModuleSpec or None: gym's, else None (the
                usual finders load the module).

        Raises:
            ImportError: garage is missing or another version (the hook
                stays, so the next attempt says so again).

        """
        if fullname == 'gym':
            return self._quiet_spec(fullname, path, target)
        if fullname == 'garage' and self in sys.meta_path:
            sys.meta_path.remove(self)  # install() imports gym, not garage
            try:
                install()
            except ImportError:
                sys.meta_path.insert(0, self)
                raise
        return None

    def _quiet_spec(self, fullname, path, target):
        """The spec the other finders give, its loader made quiet."""
        for finder in sys.meta_path:
            find = getattr(finder, 'find_spec', None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader,
                                                       'exec_module'):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install_before_garage() -> None:
    """Run :func:`install` when garage is first imported (now, if it is
    already); idempotent. ``import tcl_garage`` calls it."""
    if 'garage' in sys.modules:
        install()
    elif not any(isinstance(finder, _InstallBeforeGarage)
                 for finder in sys.meta_path):
        sys.meta_path.insert(0, _InstallBeforeGarage())


def _restore_torch_optimizer_hooks(optimizer_class: type) -> None:
    """Make ``optimizer_class`` unpickle with torch 2's hook tables.

    Args:
        optimizer_class (type): A ``torch.optim.Optimizer`` subclass whose
            ``__setstate__`` skips torch's.

    """
    garage_setstate = optimizer_class.__setstate__
    if getattr(garage_setstate, 'restores_torch_hooks', False):
        return

    def __setstate__(self, state):
        garage_setstate(self, state)
        torch_optimizer_setstate(self, {})  # adds the missing hook tables

    import torch  # pylint: disable=import-outside-toplevel
    torch_optimizer_setstate = torch.optim.Optimizer.__setstate__
    __setstate__.restores_torch_hooks = True
    optimizer_class.__setstate__ = __setstate__


def install_torch() -> None:
    """Apply the adaptations that need ``garage.torch`` (item 5)."""
    # pylint: disable=import-outside-toplevel
    from garage.torch.optimizers import ConjugateGradientOptimizer
    _restore_torch_optimizer_hooks(ConjugateGradientOptimizer)


def ray_init(**kwargs: Any) -> Any:
    """Start Ray so that its workers import garage through :func:`install`.

    Call it before building a ``garage.sampler.RaySampler`` (which otherwise
    starts Ray itself, without the hook). Does nothing if Ray is running.

    Args:
        **kwargs: Passed to ``ray.init`` (e.g. ``address``, ``num_cpus``).
            A ``runtime_env`` given here keeps its other fields.

    Returns:
        ray.RayContext or None: What ``ray.init`` returned, or None when Ray
            was already initialised.

    """
    if not ray_available():
        raise ImportError(f'Ray is not installed: {RAY_INSTALL_HINT}')
    import ray  # Imported here: Ray is slow to import and optional.
    if ray.is_initialized():
        return None
    runtime_env = dict(kwargs.pop('runtime_env', None) or {})
    runtime_env['worker_process_setup_hook'] = (
        'tcl_garage.garage_compat.install')
    kwargs.setdefault('log_to_driver', False)
    # ray.init installs its own SIGTERM handler (sys.exit) in the main
    # thread: keep the launcher's, which reports the epoch and the resume
    # command.
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        return ray.init(runtime_env=runtime_env, **kwargs)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
