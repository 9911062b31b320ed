"""Experiments from configs: load and validate a config, build and run it.

The settings table (:mod:`tcl_garage.experiment.settings`, written out as
``configs/defaults.yaml``) is the one source of defaults; each benchmark has
a file of differences. :func:`load_config` resolves them; :func:`run` trains a
new run, :func:`resume` continues one; :func:`main` is the launchers' CLI.

These names load on first use (they import garage): without garage
2021.3.0, :func:`main` stops with one line naming its install command
(exit status 2), and the others raise
:class:`~tcl_garage.garage_compat.GarageMissingError` saying the same.
"""
import importlib
import sys
from typing import Optional, Sequence

from tcl_garage.garage_compat import GarageMissingError

#: The names loaded on first use, and their modules.
_LAZY = {'build_run': 'launcher', 'resume': 'launcher', 'run': 'launcher',
         'CONFIG_DIR': 'config', 'ConfigError': 'config',
         'load_config': 'config'}

__all__ = ['build_run', 'CONFIG_DIR', 'ConfigError', 'load_config', 'main',
           'resume', 'run']


def main(benchmark: Optional[str] = None,
         argv: Optional[Sequence[str]] = None) -> str:
    """Run (or resume) one experiment from the command line: the
    arguments and result of :func:`tcl_garage.experiment.cli.main`.

    Raises:
        SystemExit: Status 2 after one line on stderr when garage 2021.3.0
            is not installed; the command line's own exits.

    """
    try:
        # pylint: disable=import-outside-toplevel
        from tcl_garage.experiment.cli import main as command_line
    except GarageMissingError as error:
        print(f'error: {error}', file=sys.stderr)
        raise SystemExit(2) from None
    return command_line(benchmark, argv)


def __getattr__(name):
    """Load :data:`_LAZY`'s names on first access.

    Args:
        name (str): Attribute name.

    Returns:
        object: The attribute.

    Raises:
        AttributeError: For names this package does not have (then
            ``from tcl_garage.experiment import <submodule>`` imports it).

    """
    if name in _LAZY:
        module = importlib.import_module(f'{__name__}.{_LAZY[name]}')
        return getattr(module, name)
    raise AttributeError(f'module {__name__} has no attribute {name!r}')
