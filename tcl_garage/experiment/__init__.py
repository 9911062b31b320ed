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
import sys
from typing import Optional, Sequence

from tcl_garage.garage_compat import GarageMissingError
from tcl_garage.lazy import lazy_getattr

#: The names loaded on first use, and their modules.
_LAZY = {**dict.fromkeys(('build_run', 'resume', 'run'),
                         'tcl_garage.experiment.launcher'),
         **dict.fromkeys(('CONFIG_DIR', 'ConfigError', 'load_config'),
                         'tcl_garage.experiment.config')}

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


#: Loads :data:`_LAZY`'s names on first access.
__getattr__ = lazy_getattr(__name__, _LAZY)
