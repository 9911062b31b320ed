"""Snapshots that a kill cannot break: written atomically.

garage's ``Snapshotter`` writes ``params.pkl`` in place (``open(path,
'wb')``), so a run killed during the write leaves a truncated file and no
usable snapshot. :class:`AtomicSnapshotter` writes to a temporary file in the
same folder, flushes it to disk, then renames it over the old one: at every
moment ``params.pkl`` is either the previous snapshot or the new one, whole.
:func:`make_trainer` gives garage's trainers with it.

Snapshots are pickles: loading one runs code, so resume or analyse only
run directories you trust. :func:`moved_modules` lets snapshots written
before tcl_garage 0.2's re-housing (when the TCL core and the builders sat at
the package's root) find the classes they name.

Snapshot and rows never disagree. garage's ``Trainer.step_epochs`` saves an
epoch's snapshot *before* it logs that epoch's row to ``progress.csv``, so a
kill between the two used to leave a snapshot one epoch ahead of the rows,
and a resume (which starts after the snapshot's epoch) never wrote the
missing row. Each snapshot therefore carries its epoch's row
(:data:`ROW_KEY`): the epoch's table as dowel will log it, taken when the
snapshot is written (the algorithm has recorded its values then; garage adds
only ``TotalEnvSteps``, which the snapshot's statistics hold). A resume
(:mod:`tcl_garage.experiment.launcher`) keeps the rows of the epochs before
the snapshot's, writes the snapshot's own row, and drops anything after it;
whatever moment a kill lands, the rows then end where the snapshot does.
Each snapshot also carries the run's config (:data:`CONFIG_KEY`), so a
resume can refuse a snapshot that is not its directory's run.
:func:`load_snapshot` reads a snapshot for a resume, refusing in one line a
file that is empty, truncated or not a snapshot.
"""
import contextlib
import importlib
import os
import pickle
import sys
from typing import Any, Dict, Iterator, List, Optional

import cloudpickle
from dowel import tabular
from garage.experiment import SnapshotConfig
from garage.experiment.snapshotter import Snapshotter

from tcl_garage.experiment.atomic import replace_whole
from tcl_garage.experiment.config import ConfigError

#: A snapshot's key holding its epoch's progress row (column -> value).
ROW_KEY = 'progress_row'
#: A snapshot's key holding the run's resolved config.
CONFIG_KEY = 'config'
#: garage's keys every snapshot of a Trainer holds.
TRAINER_KEYS = ('seed', 'train_args', 'stats', 'env', 'algo')


#: Modules of tcl_garage 0.1 that a snapshot may name -> where they live now.
MOVED_MODULES = {
    'tcl_garage.loss': 'tcl_garage.tcl.loss',
    'tcl_garage.momentum': 'tcl_garage.tcl.momentum',
    'tcl_garage.windows': 'tcl_garage.tcl.windows',
    'tcl_garage.gaussian': 'tcl_garage.tcl.gaussian',
    'tcl_garage.build': 'tcl_garage.experiment.build',
    'tcl_garage.build_baselines': 'tcl_garage.experiment.build_baselines',
}


@contextlib.contextmanager
def moved_modules() -> Iterator[None]:
    """While loading a snapshot: the 0.1 module names of
    :data:`MOVED_MODULES` resolve to their new modules; afterwards they are
    gone again.

    Yields:
        None

    """
    added = [old for old in MOVED_MODULES if old not in sys.modules]
    for old in added:
        sys.modules[old] = importlib.import_module(MOVED_MODULES[old])
    try:
        yield
    finally:
        for old in added:
            del sys.modules[old]


def atomic_pickle(obj: Any, path: str) -> None:
    """Pickle ``obj`` to ``path`` atomically (temporary file, fsync, rename).

    Args:
        obj (object): What to write (cloudpickle, as garage).
        path (str): The file; replaced only once the new one is on disk.

    """
    replace_whole(path, lambda file: cloudpickle.dump(obj, file),
                  name='snapshot', binary=True)


def epoch_row(params: Dict[str, Any]) -> Dict[str, Any]:
    """The progress row garage is about to log for the epoch being saved.

    garage's ``Trainer.save`` runs after the algorithm recorded the epoch's
    values in dowel's table and before garage records ``TotalEnvSteps`` and
    logs the table; this is that row.

    Args:
        params (dict): The snapshot garage's ``Trainer.save`` hands over.

    Returns:
        dict: Column -> value, as the CSV output will write it.

    """
    row = dict(tabular.as_primitive_dict)
    row['TotalEnvSteps'] = params['stats'].total_env_steps
    return row


class AtomicSnapshotter(Snapshotter):
    """garage's ``Snapshotter`` (same modes and file names), writing each
    snapshot atomically with :func:`atomic_pickle`, with its epoch's
    progress row and the run's config in it.

    Args:
        snapshot_dir (str): Where snapshots go.
        snapshot_mode (str): garage's mode.
        snapshot_gap (int): garage's gap.
        config (dict or None): The run's resolved config, saved in each
            snapshot.

    """

    def __init__(self, snapshot_dir: str, snapshot_mode: str,
                 snapshot_gap: int,
                 config: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(snapshot_dir, snapshot_mode, snapshot_gap)
        self._config = config
        self._loaded: Optional[Dict[str, Any]] = None
        #: Epochs whose snapshot is written (the last saved epoch + 1).
        self.saved_epochs: Optional[int] = None

    def save_itr_params(self, itr: int, params: Dict[str, Any]) -> None:
        """Save the snapshot of an epoch, as garage's mode says.

        Args:
            itr (int): The epoch.
            params (dict): What to save.

        """
        params = dict(params)
        params[ROW_KEY] = epoch_row(params)
        if self._config is not None:
            params[CONFIG_KEY] = self._config
        for name in self._file_names(itr):
            atomic_pickle(params, os.path.join(self._snapshot_dir, name))
        self.saved_epochs = itr + 1

    def use_loaded(self, snapshot: Dict[str, Any]) -> None:
        """Have the next :meth:`load` return this snapshot (already read
        and checked by :func:`load_snapshot`), not read it again.

        Args:
            snapshot (dict): The snapshot.

        """
        self._loaded = snapshot

    def load(self, load_dir, itr='last'):
        """The snapshot given to :meth:`use_loaded`, else garage's load.

        Args:
            load_dir (str): The run directory.
            itr (str or int): Which snapshot (garage's).

        Returns:
            dict: The snapshot.

        """
        if self._loaded is not None:
            loaded, self._loaded = self._loaded, None
            return loaded
        return super().load(load_dir, itr)

    def _file_names(self, itr: int) -> List[str]:
        """The files garage's ``Snapshotter`` writes for an epoch.

        Args:
            itr (int): The epoch.

        Returns:
            list[str]: File names in the snapshot folder.

        Raises:
            ValueError: For an unknown mode (as garage).

        """
        mode, on_gap = self._snapshot_mode, itr % self._snapshot_gap == 0
        names = {
            'all': [f'itr_{itr}.pkl'],
            'last': ['params.pkl'],
            'gap': [f'itr_{itr}.pkl'] if on_gap else [],
            'gap_overwrite': ['params.pkl'] if on_gap else [],
            'gap_and_last': ([f'itr_{itr}.pkl'] if on_gap else []) +
            ['params.pkl'],
            'none': [],
        }
        if mode not in names:
            raise ValueError(f'Invalid snapshot mode {mode}')
        return names[mode]


def load_snapshot(path: str) -> Dict[str, Any]:
    """Read a run's snapshot to resume it, refusing in one line what is not
    a whole snapshot of a garage trainer.

    Args:
        path (str): The ``params.pkl`` file.

    Returns:
        dict: The snapshot.

    Raises:
        ConfigError: For an empty, truncated or foreign file.

    """
    advice = ('it is not a whole snapshot of a tcl_garage run; restore the '
              'run directory\'s own params.pkl, or start a new run')
    if os.path.getsize(path) == 0:
        raise ConfigError(f'{path} is empty: {advice}')
    try:
        with moved_modules(), open(path, 'rb') as file:
            snapshot = cloudpickle.load(file)
    except (EOFError, pickle.UnpicklingError) as error:
        what = str(error) or type(error).__name__
        raise ConfigError(f'{path} is truncated or damaged ({what}): '
                          f'{advice}') from None
    except (AttributeError, ImportError, IndexError, KeyError, TypeError,
            ValueError) as error:
        raise ConfigError(f'{path} cannot be read ({type(error).__name__}: '
                          f'{error}): {advice}') from None
    missing = ([key for key in TRAINER_KEYS if key not in snapshot]
               if isinstance(snapshot, dict) else list(TRAINER_KEYS))
    if missing:
        raise ConfigError(f'{path} holds no {", ".join(missing)}: {advice}')
    return snapshot


def remove_temporary_files(run_dir: str) -> List[str]:
    """Remove what interrupted atomic writes left in a run directory (call
    it only while no process writes there: under the run's lock).

    Args:
        run_dir (str): The run directory.

    Returns:
        list[str]: The names removed.

    """
    removed = []
    for name in sorted(os.listdir(run_dir)):
        if name.startswith('.') and name.endswith('.tmp'):
            os.unlink(os.path.join(run_dir, name))
            removed.append(name)
    return removed


def make_trainer(snapshot_config: SnapshotConfig, tensorflow: bool = False,
                 config: Optional[Dict[str, Any]] = None):
    """garage's ``Trainer`` (or ``TFTrainer``) with atomic snapshots that
    carry their progress row and the run's config.

    Args:
        snapshot_config (SnapshotConfig): Where and how to snapshot.
        tensorflow (bool): A ``TFTrainer`` (its TensorFlow session opens
            when it is entered as a context manager).
        config (dict or None): The run's resolved config.

    Returns:
        garage.trainer.Trainer: The trainer.

    """
    from garage.trainer import TFTrainer, Trainer
    trainer = (TFTrainer if tensorflow else Trainer)(snapshot_config)
    # pylint: disable=protected-access
    trainer._snapshotter = AtomicSnapshotter(snapshot_config.snapshot_dir,
                                             snapshot_config.snapshot_mode,
                                             snapshot_config.snapshot_gap,
                                             config)
    return trainer


def snapshotter_of(trainer) -> AtomicSnapshotter:
    """The :class:`AtomicSnapshotter` of a trainer of :func:`make_trainer`.

    Args:
        trainer (garage.trainer.Trainer): The trainer.

    Returns:
        AtomicSnapshotter: Its snapshotter.

    """
    return trainer._snapshotter  # pylint: disable=protected-access
