"""Meta-RL algorithms: garage's PEARL with fixes, and TCL-PEARL."""
from tcl_garage.algos.pearl import PEARL, PEARLWorker
from tcl_garage.algos.tcl_pearl import TCLPEARL

__all__ = ['PEARL', 'PEARLWorker', 'TCLPEARL']
