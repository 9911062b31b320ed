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
7. garage's published metadata. garage 2021.3.0 is published as a source
   release only, whose metadata today's installers refuse: pip 25.1 and
   newer reject its ``dev`` extra's URL requirement (``Distributions from
   PyPI cannot declare direct URL dependencies``), uv cannot parse it, and
   its pins (torch < 1.8, TensorFlow, cma 2.7, dowel 0.0.3) cannot be met
   beside today's torch. :func:`install_garage` (``python -m
   tcl_garage.install_garage``, which ``make install`` runs) takes that
   release from the package index, checks its SHA-256, and installs it as
   a wheel whose metadata differs only as :data:`GARAGE_REQUIREMENT_CHANGES`
   says (the same files, version ``2021.3.0+tcl1``), with ``--no-deps``:
   what it still requires, tcl_garage requires too.
8. garage's expected warnings. The warnings garage's code raises at every
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
import pathlib
import signal
import sys
import threading
import types
import warnings
from typing import Any, Dict, List, Optional

import numpy as np

GARAGE_VERSION = '2021.3.0'
#: The command that installs garage (item 7), with any pip or with uv.
INSTALL_HINT = ('run `python -m tcl_garage.install_garage` (in a checkout, '
                '`make install` does it)')


class GarageMissingError(ImportError):
    """garage 2021.3.0 is not installed (or another version is): the
    message says how to install it."""


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
        GarageMissingError: garage is not installed, or not version
            2021.3.0.

    """
    installed = installed_garage_version()
    if installed is None:
        raise GarageMissingError(f'tcl_garage needs garage=={GARAGE_VERSION}'
                                 f', which is not installed: {INSTALL_HINT}.')
    if installed.partition('+')[0] != GARAGE_VERSION:  # +tcl1: item 7's
        raise GarageMissingError(f'tcl_garage needs garage=={GARAGE_VERSION}'
                                 f', found garage=={installed}: '
                                 f'{INSTALL_HINT}.')


def install() -> None:
    """Apply every adaptation; safe to call any number of times.

    Raises:
        GarageMissingError: garage is not installed, or not version
            2021.3.0.

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
            GarageMissingError: garage is missing or another version (the
                hook stays, so the next attempt says so again).

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


# ------------------------------------------------ 7. garage's metadata
#: garage's published source release and its SHA-256 (as the package index
#: lists it): the only input of :func:`build_garage_wheel`.
GARAGE_SDIST = f'garage-{GARAGE_VERSION}.tar.gz'
GARAGE_SDIST_SHA256 = (
    '4db5dd5b753e4681d89adee36f3e84d9ef952b9b3a370ed0bbe7497b290acfc6')
#: The version the repackaged garage installs as: garage's, with a local
#: label saying whose metadata it carries (``pip list`` shows it).
GARAGE_WHEEL_VERSION = f'{GARAGE_VERSION}+tcl1'
#: How the repackaged garage's requirements differ from the published ones
#: (``src/garage.egg-info/requires.txt`` of the source release), by name:
#: a requirement that replaces it, ``extra:<name>`` to move it into that
#: extra, or None to drop it. Every other requirement stays as published.
GARAGE_REQUIREMENT_CHANGES = {
    # ==2.7.0: garage's CMA-ES runs on cma 3 (tcl_garage requires cma>=3).
    'cma': 'cma',
    # ==0.0.3: 0.0.4 is the same logger on today's numpy (tcl_garage's).
    'dowel': 'dowel',
    # <1.8.0: garage's torch algorithms run on torch 2 (items 2 and 5).
    'torch': 'torch>=1.0.0,!=1.5.0',
    # garage never imports torchvision.
    'torchvision': None,
    # Python < 3.7 only: the release was made on Python 3.6.
    'dataclasses': None,
    # Optional here: garage's TensorFlow algorithms (item 1), its Ray
    # sampler (item 6) and its Atari image wrappers.
    'tensorflow': 'extra:tf',
    'tensorflow-probability': 'extra:tf',
    'ray': 'extra:ray',
    'scikit-image': 'extra:image',
    # The dev extra's URL requirement, which today's installers refuse.
    'metaworld': None,
}


def installed_garage_version() -> Optional[str]:
    """The installed garage's version, without importing it.

    Returns:
        str or None: ``2021.3.0``, ``2021.3.0+tcl1``, ...; None when garage is
            not installed.

    """
    # pylint: disable=import-outside-toplevel
    import importlib.metadata as metadata
    try:
        return metadata.version('garage')
    except metadata.PackageNotFoundError:
        return None


def garage_requirements(requires_txt: str) -> Dict[str, List[str]]:
    """The repackaged garage's requirements, from the published ones.

    Args:
        requires_txt (str): ``requires.txt`` of garage's source release
            (``[extra]`` headers before each extra's lines).

    Returns:
        dict[str, list[str]]: Requirement strings by extra ('' for the
            required ones), in published order, changed as
            :data:`GARAGE_REQUIREMENT_CHANGES` says; extras left empty are
            dropped.

    Raises:
        ValueError: A section header with an environment marker (the
            published file has none).

    """
    # pylint: disable=import-outside-toplevel
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    changes = {canonicalize_name(name): change
               for name, change in GARAGE_REQUIREMENT_CHANGES.items()}
    sections: Dict[str, List[str]] = {'': []}
    extra = ''
    for line in requires_txt.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith('['):
            extra = line.strip('[]')
            if ':' in extra:
                raise ValueError(f'requires.txt: marker section {line}')
            sections.setdefault(extra, [])
            continue
        name = canonicalize_name(Requirement(line).name)
        change = changes.get(name, line)
        if change is None:
            continue
        if change.startswith('extra:'):
            sections.setdefault(change[len('extra:'):], []).append(line)
        else:
            sections[extra].append(str(Requirement(change)))
    return {name: lines for name, lines in sections.items()
            if lines or not name}


def _wheel_metadata(pkg_info: str, requires_txt: str, readme: str) -> str:
    """The repackaged garage's ``METADATA`` (core metadata 2.1).

    Args:
        pkg_info (str): ``PKG-INFO`` of the source release.
        requires_txt (str): Its ``requires.txt``.
        readme (str): Its README (the long description).

    Returns:
        str: The file's text.

    """
    import email.parser  # pylint: disable=import-outside-toplevel
    published = email.parser.Parser().parsestr(pkg_info, headersonly=True)
    lines = ['Metadata-Version: 2.1', 'Name: garage',
             f'Version: {GARAGE_WHEEL_VERSION}',
             f'Summary: {published["Summary"]} (garage {GARAGE_VERSION}, '
             'its requirements adapted by tcl_garage)']
    for field in ('Home-page', 'Author', 'License', 'Requires-Python'):
        if published[field]:
            lines.append(f'{field}: {published[field]}')
    lines += [f'Classifier: {value}'
              for value in published.get_all('Classifier') or []]
    for extra, requirements in garage_requirements(requires_txt).items():
        if extra:
            lines.append(f'Provides-Extra: {extra}')
        lines += [f'Requires-Dist: {requirement}' +
                  (f'; extra == "{extra}"' if extra else '')
                  for requirement in requirements]
    lines.append('Description-Content-Type: text/markdown')
    return '\n'.join(lines) + '\n\n' + readme


def build_garage_wheel(sdist: pathlib.Path,
                       wheel_dir: pathlib.Path) -> pathlib.Path:
    """Build the repackaged garage's wheel from garage's source release.

    The wheel holds every file of the release's ``src/garage`` (what its own
    build installs), its ``garage`` script, its license and top-level name,
    and :func:`_wheel_metadata`'s metadata; it is the same, byte for byte,
    on every build.

    Args:
        sdist (pathlib.Path): ``garage-2021.3.0.tar.gz``.
        wheel_dir (pathlib.Path): Where the wheel is written (created).

    Returns:
        pathlib.Path: ``<wheel_dir>/garage-2021.3.0+tcl1-py3-none-any.whl``.

    Raises:
        ValueError: The file's SHA-256 is not the published release's.

    """
    # pylint: disable=import-outside-toplevel
    import base64
    import hashlib
    import tarfile
    import zipfile
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != GARAGE_SDIST_SHA256:
        raise ValueError(f'{sdist} is not garage {GARAGE_VERSION}\'s source '
                         f'release: its SHA-256 is {digest}, the published '
                         f'one {GARAGE_SDIST_SHA256}')
    root = f'garage-{GARAGE_VERSION}/'
    with tarfile.open(sdist, 'r:gz') as archive:
        members = {member.name: member for member in archive.getmembers()
                   if member.isfile()}

        def read(name: str) -> bytes:
            return archive.extractfile(members[root + name]).read()

        files = {name[len(root + 'src/'):]: read(name[len(root):])
                 for name in sorted(members)
                 if name.startswith(root + 'src/garage/')
                 and not name.endswith(('.pyc', '.pyo'))}
        script = read('scripts/garage').split(b'\n', 1)[1]
        dist_info = f'garage-{GARAGE_WHEEL_VERSION}.dist-info'
        files[f'garage-{GARAGE_WHEEL_VERSION}.data/scripts/garage'] = (
            b'#!python\n' + script)  # the installer writes the interpreter
        files[f'{dist_info}/METADATA'] = _wheel_metadata(
            read('PKG-INFO').decode(), read('src/garage.egg-info/requires.txt')
            .decode(), read('README.md').decode()).encode()
        files[f'{dist_info}/WHEEL'] = (
            b'Wheel-Version: 1.0\nGenerator: tcl_garage\n'
            b'Root-Is-Purelib: true\nTag: py3-none-any\n')
        files[f'{dist_info}/top_level.txt'] = b'garage\n'
        files[f'{dist_info}/LICENSE'] = read('LICENSE')
    record = []
    for name, data in files.items():
        hashed = base64.urlsafe_b64encode(
            hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{name},sha256={hashed},{len(data)}')
    files[f'{dist_info}/RECORD'] = (
        '\n'.join(record + [f'{dist_info}/RECORD,,']) + '\n').encode()
    wheel_dir.mkdir(parents=True, exist_ok=True)
    wheel = wheel_dir / f'garage-{GARAGE_WHEEL_VERSION}-py3-none-any.whl'
    partial = wheel.with_name(wheel.name + '.partial')
    with zipfile.ZipFile(partial, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = (0o755 if '.data/scripts/' in name
                                   else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    partial.replace(wheel)
    return wheel


def fetch_garage_sdist(folder: pathlib.Path,
                       index_url: str) -> pathlib.Path:
    """Download garage's source release from a package index.

    Args:
        folder (pathlib.Path): Where it is written.
        index_url (str): A simple repository (PEP 503), e.g.
            ``https://pypi.org/simple``.

    Returns:
        pathlib.Path: ``<folder>/garage-2021.3.0.tar.gz`` (its SHA-256 is
            checked by :func:`build_garage_wheel`).

    Raises:
        OSError: The index cannot be read or does not list the release.

    """
    # pylint: disable=import-outside-toplevel
    import re
    import urllib.parse
    import urllib.request
    page_url = index_url.rstrip('/') + '/garage/'
    with urllib.request.urlopen(page_url, timeout=120) as response:
        page = response.read().decode('utf-8', 'replace')
    links = [href for href in re.findall(r'href="([^"]+)"', page)
             if urllib.parse.urlsplit(href).path.endswith('/' + GARAGE_SDIST)
             or href.split('#')[0] == GARAGE_SDIST]
    if not links:
        raise OSError(f'{page_url} does not list {GARAGE_SDIST}')
    url = urllib.parse.urljoin(page_url, links[0].replace('&amp;', '&'))
    path = folder / GARAGE_SDIST
    with urllib.request.urlopen(url.split('#')[0], timeout=300) as response:
        path.write_bytes(response.read())
    return path


def _installer_command() -> Optional[List[str]]:
    """The command that installs a wheel into this interpreter's
    environment: its pip, else uv (an environment made by ``uv venv``).

    Returns:
        list[str] or None: The command up to its arguments; None when
            neither is found.

    """
    import shutil  # pylint: disable=import-outside-toplevel
    if importlib.util.find_spec('pip') is not None:
        return [sys.executable, '-m', 'pip', 'install']
    uv = shutil.which('uv')
    if uv is not None:
        return [uv, 'pip', 'install', '--python', sys.executable]
    return None


def install_garage(argv: Optional[List[str]] = None) -> None:
    """``python -m tcl_garage.install_garage``: install garage (item 7).

    Args:
        argv (list[str] or None): The options (None: ``sys.argv[1:]``).

    Raises:
        SystemExit: 2 with one line when the release cannot be had or
            checked, or no installer is found; nothing is installed then.

    """
    # pylint: disable=import-outside-toplevel
    import argparse
    import os
    import subprocess
    import tempfile
    parser = argparse.ArgumentParser(
        prog='python -m tcl_garage.install_garage',
        description=(
            f'Install garage {GARAGE_VERSION} with metadata that today\'s pip '
            'and uv accept: download its source release, check its SHA-256, '
            f'build it as a wheel (version {GARAGE_WHEEL_VERSION}: garage\'s '
            'files; its requirements relaxed to today\'s stack, TensorFlow '
            'and Ray optional, no URL requirement) and install that wheel '
            'with --no-deps (pip, or uv where pip is missing).'))
    parser.add_argument(
        '--index-url',
        default=(os.environ.get('PIP_INDEX_URL') or
                 os.environ.get('UV_DEFAULT_INDEX') or
                 os.environ.get('UV_INDEX_URL') or 'https://pypi.org/simple'),
        help='the package index to download the release from (default: '
        '$PIP_INDEX_URL, $UV_DEFAULT_INDEX, $UV_INDEX_URL or PyPI)')
    parser.add_argument(
        '--sdist', metavar='FILE', type=pathlib.Path,
        help=f'use this {GARAGE_SDIST} instead of downloading it (offline)')
    parser.add_argument(
        '--wheel-dir', metavar='DIR', type=pathlib.Path,
        help='only build the wheel, into DIR; install nothing')
    args = parser.parse_args(argv)
    if args.wheel_dir is None and (installed_garage_version() ==
                                   GARAGE_WHEEL_VERSION):
        print(f'garage {GARAGE_WHEEL_VERSION} is already installed')
        return
    installer = _installer_command()
    if args.wheel_dir is None and installer is None:
        parser.exit(2, 'error: neither pip nor uv found to install garage: '
                    'run `python -m ensurepip` or install uv\n')
    with tempfile.TemporaryDirectory(prefix='tcl_garage-') as folder:
        try:
            sdist = args.sdist or fetch_garage_sdist(pathlib.Path(folder),
                                                     args.index_url)
            wheel = build_garage_wheel(sdist, args.wheel_dir or
                                       pathlib.Path(folder))
        except (OSError, ValueError, KeyError) as error:
            parser.exit(2, f'error: cannot build garage {GARAGE_VERSION}\'s '
                        f'wheel: {error}; retry, or give the release with '
                        '--sdist FILE\n')
        if args.wheel_dir is not None:
            print(f'built {wheel}')
            return
        done = subprocess.run(installer + ['--no-deps', str(wheel)],
                              check=False)
        if done.returncode != 0:
            parser.exit(2, f'error: {" ".join(installer[:3])} could not '
                        f'install {wheel.name} (above)\n')
    print(f'installed garage {GARAGE_WHEEL_VERSION}')
