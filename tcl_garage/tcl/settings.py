"""The ranges of TCL's settings, checked once for every host algorithm.

:class:`~tcl_garage.algos.TCLPEARL` and :class:`~tcl_garage.algos.TCLMQL`
take the same TCL settings; :func:`check_tcl_settings` is their one check.
"""
from tcl_garage.tcl.loss import NEGATIVES
from tcl_garage.tcl.windows import POSITIVES


def check_tcl_settings(owner: str, *, window_size: int, windows_per_task: int,
                       contrastive_loss_scale: float, temperature: float,
                       positive: str, negatives: str) -> None:
    """Raise on a TCL setting out of its range.

    Args:
        owner (str): The algorithm, for the message (e.g. ``'TCLMQL'``).
        window_size (int): W, >= 1.
        windows_per_task (int): Windows per task, >= 1.
        contrastive_loss_scale (float): >= 0 (0 turns TCL off).
        temperature (float): > 0.
        positive (str): One of :data:`~tcl_garage.tcl.windows.POSITIVES`.
        negatives (str): One of :data:`~tcl_garage.tcl.loss.NEGATIVES`.

    Raises:
        ValueError: Naming the setting and its range.

    """
    if window_size < 1 or windows_per_task < 1:
        raise ValueError(f'{owner}: window_size and windows_per_task must be '
                         f'>= 1, got {window_size} and {windows_per_task}')
    if contrastive_loss_scale < 0:
        raise ValueError(f'{owner}: contrastive_loss_scale must be >= 0, got '
                         f'{contrastive_loss_scale}')
    if not temperature > 0:
        raise ValueError(f'{owner}: temperature must be > 0, got '
                         f'{temperature}')
    if positive not in POSITIVES or negatives not in NEGATIVES:
        raise ValueError(f'{owner}: positive={positive!r}, '
                         f'negatives={negatives!r}: choose positive from '
                         f'{", ".join(POSITIVES)} and negatives from '
                         f'{", ".join(NEGATIVES)}')
