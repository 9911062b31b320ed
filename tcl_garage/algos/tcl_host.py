"""The public faces of an algorithm that hosts TCL's component.

A host keeps its :class:`~tcl_garage.tcl.TCL` as ``self._tcl``;
:class:`TCLHost` (a mixin, before the algorithm in the bases) gives it the
component, its key encoder and its settings, and adds the key encoder to
the algorithm's networks (device moves, snapshots). A snapshot from before
the component (its settings and key encoder kept apart) loads into one.
"""
from typing import List

from torch import nn

from tcl_garage.tcl.component import SETTINGS, TCL
from tcl_garage.tcl.momentum import MomentumEncoder


class TCLHost:
    """Mixin of :class:`~tcl_garage.algos.TCLPEARL` and
    :class:`~tcl_garage.algos.TCLMQL`."""

    def __setstate__(self, state):
        """Unpickle; a snapshot from before TCL's component gets one made of
        its settings and key encoder (settings it did not have yet, the
        positive/negative choices, take the defaults: the paper's, which it
        ran with).

        Args:
            state (dict): The pickled state.

        """
        if '_key_encoder' in state:
            settings = {name: state.pop('_' + name) for name in SETTINGS
                        if '_' + name in state}
            # TCLMQL's window was its history length.
            settings.setdefault('window_size', state.get('_history_length'))
            state['_tcl'] = TCL.restored(state.pop('_key_encoder'),
                                         owner=type(self).__name__,
                                         **settings)
            state.pop('_warned_short_episodes', None)
        super().__setstate__(state)

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
