"""Experiments from configs: load and validate a config, build and run it.

The settings table (:mod:`tcl_garage.experiment.settings`, written out as
``configs/defaults.yaml``) is the one source of defaults; each benchmark has
a file of differences. :func:`load_config` resolves them; :func:`run` trains a
new run, :func:`resume` continues one; :func:`main` is the launchers' CLI.
"""
from tcl_garage.experiment.config import (ConfigError, CONFIG_DIR,
                                          load_config)
from tcl_garage.experiment.cli import main
from tcl_garage.experiment.launcher import build_run, resume, run

__all__ = ['build_run', 'CONFIG_DIR', 'ConfigError', 'load_config', 'main',
           'resume', 'run']
