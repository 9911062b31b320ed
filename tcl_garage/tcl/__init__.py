"""The TCL method itself (Wang et al., 2021), for any context encoder.

* :mod:`~tcl_garage.tcl.component`: :class:`~tcl_garage.tcl.component.TCL`,
  the method as one component a host algorithm builds, adds the loss of and
  updates after its encoder's step;
* :mod:`~tcl_garage.tcl.loss`: InfoNCE over Gaussian window posteriors,
  scored by the negative 2-Wasserstein distance (paper eqs. 7-8), and which
  keys are negatives (:func:`~tcl_garage.tcl.loss.excluded_keys`);
* :mod:`~tcl_garage.tcl.momentum`: the EMA ("momentum") key encoder;
* :mod:`~tcl_garage.tcl.windows`: query/key windows cut from whole
  trajectories (:class:`~tcl_garage.tcl.windows.Episodes`: per-task arrays
  and episode boundaries);
* :mod:`~tcl_garage.tcl.gaussian`: a window's posterior as the product of
  its Gaussian factors, and its KL to the prior;
* :mod:`~tcl_garage.tcl.settings`: the one range check of TCL's settings.

Only torch and numpy are imported here (no garage, no gymnasium, nothing
patched): any encoder that yields Gaussian posteriors, or deterministic
outputs (point masses), can use these pieces (``tcl_garage.algos.TCLPEARL``
and ``tcl_garage.algos.TCLMQL`` are two hosts; ``docs/tutorial-add-tcl.md``
adds TCL to a third).
"""
from tcl_garage.tcl.component import PAIR_IDS, SETTINGS, TCL  # noqa: F401
from tcl_garage.tcl.gaussian import (kl_to_standard_normal,  # noqa: F401
                                     product_of_gaussians)
from tcl_garage.tcl.loss import (contrastive_accuracy,  # noqa: F401
                                 contrastive_logits, excluded_keys,
                                 NEGATIVES, trajectory_contrastive_loss,
                                 wasserstein_similarity)
from tcl_garage.tcl.momentum import MomentumEncoder, soft_update_  # noqa
from tcl_garage.tcl.settings import check_tcl_settings  # noqa: F401
from tcl_garage.tcl.windows import (Episodes, POSITIVES,  # noqa: F401
                                    sample_window_pairs, WindowPairs)

__all__ = [
    'check_tcl_settings', 'contrastive_accuracy', 'contrastive_logits',
    'Episodes', 'excluded_keys', 'kl_to_standard_normal', 'MomentumEncoder',
    'NEGATIVES', 'PAIR_IDS', 'POSITIVES', 'product_of_gaussians',
    'sample_window_pairs', 'SETTINGS', 'soft_update_', 'TCL',
    'trajectory_contrastive_loss', 'wasserstein_similarity', 'WindowPairs'
]
