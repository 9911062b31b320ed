"""tcl_garage: Trajectory Contrastive Learning for context-based meta-RL.

The core, the method itself, lives in :mod:`tcl_garage.tcl` (importable
without garage's algorithms) and is re-exported here:

* :func:`trajectory_contrastive_loss`, :func:`contrastive_accuracy` — the TCL
  objective over Gaussian window posteriors (or point masses: a
  deterministic encoder's outputs);
* :class:`MomentumEncoder` — the EMA key encoder;
* :func:`sample_window_pairs` — query/key windows of the same trajectories
  from garage ``PathBuffer``s;
* :func:`product_of_gaussians` — a window's posterior from its factors.

Algorithms, loaded on first use (garage's import takes seconds):
``tcl_garage.TCLPEARL`` and ``tcl_garage.PEARL`` (garage's PEARL, its
update written out and its known defects fixed: see
:mod:`tcl_garage.algos.pearl`), ``tcl_garage.MQL`` and ``tcl_garage.TCLMQL``
(Meta-Q-Learning, and TCL on its recurrent context:
:mod:`tcl_garage.algos.mql`), also in :mod:`tcl_garage.algos`.

Importing this package applies :mod:`tcl_garage.garage_compat` and fails with
the install command if garage 2021.3.0 is missing.
"""
import importlib

from tcl_garage import garage_compat

garage_compat.install()

# pylint: disable=wrong-import-position
from tcl_garage.tcl import (contrastive_accuracy,  # noqa: E402
                            contrastive_logits, excluded_keys,
                            kl_to_standard_normal, MomentumEncoder,
                            product_of_gaussians, sample_window_pairs,
                            soft_update_, trajectory_contrastive_loss,
                            wasserstein_similarity, WindowPairs)

__version__ = '0.1.0'

_LAZY = {'TCLPEARL': 'tcl_garage.algos', 'PEARL': 'tcl_garage.algos',
         'PEARLWorker': 'tcl_garage.algos', 'MQL': 'tcl_garage.algos',
         'TCLMQL': 'tcl_garage.algos'}

__all__ = [
    'contrastive_accuracy', 'contrastive_logits', 'excluded_keys',
    'kl_to_standard_normal', 'MomentumEncoder', 'product_of_gaussians',
    'sample_window_pairs', 'soft_update_',
    'trajectory_contrastive_loss', 'wasserstein_similarity', 'WindowPairs',
    *_LAZY
]


def __getattr__(name):
    """Load the algorithms on first access.

    Args:
        name (str): Attribute name.

    Returns:
        object: The attribute.

    Raises:
        AttributeError: For names this package does not have.

    """
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f'module tcl_garage has no attribute {name!r}')
