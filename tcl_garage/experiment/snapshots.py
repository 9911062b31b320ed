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
"""
import contextlib
import importlib
import os
import sys
import tempfile
from typing import Any, Dict, Iterator, List

import cloudpickle
from garage.experiment import SnapshotConfig
from garage.experiment.snapshotter import Snapshotter


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
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix='.' + os.path.basename(path),
                                         suffix='.tmp', dir=folder)
    try:
        with os.fdopen(handle, 'wb') as file:
            cloudpickle.dump(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    # The rename itself reaches the disk with the folder's entry.
    folder_handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_handle)
    finally:
        os.close(folder_handle)


class AtomicSnapshotter(Snapshotter):
    """garage's ``Snapshotter`` (same modes and file names), writing each
    snapshot atomically with :func:`atomic_pickle`."""

    def save_itr_params(self, itr: int, params: Dict[str, Any]) -> None:
        """Save the snapshot of an epoch, as garage's mode says.

        Args:
            itr (int): The epoch.
            params (dict): What to save.

        """
        for name in self._file_names(itr):
            atomic_pickle(params, os.path.join(self._snapshot_dir, name))

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


def make_trainer(snapshot_config: SnapshotConfig, tensorflow: bool = False):
    """garage's ``Trainer`` (or ``TFTrainer``) with atomic snapshots.

    Args:
        snapshot_config (SnapshotConfig): Where and how to snapshot.
        tensorflow (bool): A ``TFTrainer`` (its TensorFlow session opens
            when it is entered as a context manager).

    Returns:
        garage.trainer.Trainer: The trainer.

    """
    from garage.trainer import TFTrainer, Trainer
    trainer = (TFTrainer if tensorflow else Trainer)(snapshot_config)
    # pylint: disable=protected-access
    trainer._snapshotter = AtomicSnapshotter(snapshot_config.snapshot_dir,
                                             snapshot_config.snapshot_mode,
                                             snapshot_config.snapshot_gap)
    return trainer
