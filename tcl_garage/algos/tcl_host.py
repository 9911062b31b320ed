"""The public faces of an algorithm that hosts TCL's component.

A host keeps its :class:`~tcl_garage.tcl.TCL` as ``self._tcl``;
:class:`TCLHost` (a mixin, before the algorithm in the bases) gives it the
component, its key encoder and its settings, and adds the key encoder to
the algorithm's networks (device moves, snapshots).
"""
from typing import List

from torch import nn

from tcl_garage.tcl.component import TCL
from tcl_garage.tcl.momentum import MomentumEncoder


class TCLHost:
    """Mixin of :class:`~tcl_garage.algos.TCLPEARL` and
    :class:`~tcl_garage.algos.TCLMQL`."""

    @property
    def tcl(self) -> TCL:
        """TCL: The TCL component."""
        return self._tcl

    @property
    def key_encoder(self) -> MomentumEncoder:
        """MomentumEncoder: The momentum copy that encodes the keys."""
        return self._tcl.key_encoder

    @property
    def tcl_settings(self) -> dict:
        """dict: The TCL settings of this algorithm."""
        return self._tcl.settings

    @property
    def networks(self) -> List[nn.Module]:
        """list[nn.Module]: The algorithm's networks and the key encoder."""
        return super().networks + [self._tcl.key_encoder]
