"""tcl_garage: Trajectory Contrastive Learning for context-based meta-RL.

The core, the method itself, lives in :mod:`tcl_garage.tcl` (torch and
numpy only: no garage, no gymnasium) and is re-exported here:

* :func:`trajectory_contrastive_loss`, :func:`contrastive_accuracy` — the TCL
  objective over Gaussian window posteriors (or point masses: a
  deterministic encoder's outputs);
* :class:`MomentumEncoder` — the EMA key encoder;
* :class:`TCL` — the whole method as one component of a host algorithm
  (windows, momentum encoder, loss, statistics, after-step update);
* :func:`sample_window_pairs` — query/key windows of the same trajectories,
  cut from :class:`Episodes` (per-task arrays and episode boundaries);
* :func:`product_of_gaussians` — a window's posterior from its factors.

Algorithms, loaded on first use (garage's import takes seconds):
``tcl_garage.TCLPEARL`` and ``tcl_garage.PEARL`` (garage's PEARL, its
update written out and its known defects fixed: see
:mod:`tcl_garage.algos.pearl`), ``tcl_garage.MQL`` and ``tcl_garage.TCLMQL``
(Meta-Q-Learning, and TCL on its recurrent context:
:mod:`tcl_garage.algos.mql`), also in :mod:`tcl_garage.algos`.

Importing this package neither imports garage nor patches anything: it
registers :mod:`tcl_garage.garage_compat`'s adaptations to run when garage
is first imported (by the algorithms, environments and launchers, or a
script), and that import fails with the install command if garage 2021.3.0
is missing.
"""
import importlib

from tcl_garage import garage_compat
from tcl_garage.tcl import (contrastive_accuracy, contrastive_logits,
                            Episodes, excluded_keys, kl_to_standard_normal,
                            MomentumEncoder, product_of_gaussians,
                            sample_window_pairs, soft_update_, TCL,
                            trajectory_contrastive_loss,
                            wasserstein_similarity, WindowPairs)

garage_compat.install_before_garage()

__version__ = '0.1.0'

_LAZY = {'TCLPEARL': 'tcl_garage.algos', 'PEARL': 'tcl_garage.algos',
         'PEARLWorker': 'tcl_garage.algos', 'MQL': 'tcl_garage.algos',
         'TCLMQL': 'tcl_garage.algos'}

__all__ = [
    'contrastive_accuracy', 'contrastive_logits', 'Episodes',
    'excluded_keys', 'kl_to_standard_normal', 'MomentumEncoder',
    'product_of_gaussians', 'sample_window_pairs', 'soft_update_', 'TCL',
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
