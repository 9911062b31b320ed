"""Optional experiment tracking with Weights & Biases (``--track``).

A tracked run sends W&B what it records anyway: every scalar of each
epoch's row (the columns of ``progress.csv``; W&B's step is the number of
epochs done), the resolved config, and the machine of each start
(``machine.json``, under the config key ``machine``). dowel's
``progress.csv``, ``debug.log`` and TensorBoard events are written as
without tracking; tracking changes nothing the run computes.

The W&B run's id is kept in the run directory (:data:`TRACKING`), so
``--resume DIR`` of a tracked run continues the same W&B run. W&B's files
go to ``$WANDB_DIR`` if set, else into the run directory;
``WANDB_MODE=offline`` keeps them there (``wandb sync`` uploads them
later).

W&B is an extra: ``pip install 'tcl_garage[wandb]'``. Without it,
``--track`` is refused before anything is written (:func:`check_installed`).
"""
import dataclasses
import importlib
import json
import os
import pathlib
from typing import Any, Dict, List, Optional

from tcl_garage.experiment.progress import TabularOutput
from tcl_garage.experiment.rundir import TRACKING

#: The command that installs the W&B extra.
WANDB_INSTALL_HINT = "pip install 'tcl_garage[wandb]'"


@dataclasses.dataclass(frozen=True)
class Tracking:
    """Where a run is tracked.

    Attributes:
        project (str or None): The W&B project (None: W&B's default, from
            ``$WANDB_PROJECT`` or its own).
        name (str or None): The W&B run's display name (None: the run
            directory's ``<benchmark>/<algo>/seed<seed>`` path).

    """

    project: Optional[str] = None
    name: Optional[str] = None


def check_installed() -> None:
    """Refuse tracking without W&B installed.

    Raises:
        ImportError: Naming :data:`WANDB_INSTALL_HINT`.

    """
    try:
        importlib.import_module('wandb')
    except ImportError:
        raise ImportError('--track needs Weights & Biases, which is not '
                          f'installed: run {WANDB_INSTALL_HINT}, or drop '
                          '--track') from None


def _read_id(run_dir: str) -> Optional[Dict[str, Any]]:
    """The W&B run of a run directory, if it was tracked.

    Args:
        run_dir (str): The run directory.

    Returns:
        dict or None: ``{'id': ..., 'project': ...}``, or None.

    """
    path = pathlib.Path(run_dir) / TRACKING
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding='utf-8'))


class WandbOutput(TabularOutput):
    """A dowel output that sends each epoch's row to a W&B run.

    The W&B run starts when the output is made: its config is the run's
    resolved config and ``machine`` (the starts of ``machine.json``).

    Args:
        tracking (Tracking): Project and name.
        config (dict): The resolved config.
        run_dir (str): The run directory (its W&B id is kept there).
        machines (list[dict]): The run's starts (``machine.json``).
        quiet (bool): Keep W&B's own messages off the terminal.

    """

    def __init__(self, tracking: Tracking, config: Dict[str, Any],
                 run_dir: str, machines: List[Dict[str, Any]],
                 quiet: bool = False) -> None:
        import wandb  # pylint: disable=import-outside-toplevel
        earlier = _read_id(run_dir)
        name = tracking.name or '/'.join(pathlib.Path(run_dir).parts[-3:])
        self._run = wandb.init(
            project=tracking.project or (earlier or {}).get('project'),
            name=name,
            id=(earlier or {}).get('id'),
            resume='allow' if earlier else None,
            dir=os.environ.get('WANDB_DIR') or run_dir,
            config=dict(config),
            settings=wandb.Settings(console='off', silent=quiet))
        # A start's machine is new on each resume: the value changes.
        self._run.config.update({'machine': machines},
                                allow_val_change=True)
        if earlier is None:
            (pathlib.Path(run_dir) / TRACKING).write_text(
                json.dumps({'id': self._run.id,
                            'project': self._run.project}) + '\n',
                encoding='utf-8')
        self._row: Dict[str, Any] = {}

    def record(self, data, prefix=''):
        """Keep the row's scalars until :meth:`dump`.

        Args:
            data (TabularInput): The epoch's table.
            prefix (str): Unused.

        """
        del prefix
        self._row.update(data.as_primitive_dict)

    def dump(self, step=None):
        """Send the row; W&B's step is the number of epochs done.

        Args:
            step (int or None): Epochs done (garage's ``step_itr``).

        """
        if self._row:
            self._run.log(self._row, step=step)
        self._row = {}

    def close(self, exit_code: int = 0) -> None:
        """End the W&B run (flushes it).

        Args:
            exit_code (int): 0 for a run that trained to its end.

        """
        self._run.finish(exit_code=exit_code)
