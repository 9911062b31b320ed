"""Meta-RL algorithms: garage's PEARL with fixes, TCL-PEARL, MQL, TCL-MQL
and the oracle."""
from tcl_garage import garage_compat
from tcl_garage.algos.mql import ContextActor, ContextCritic, MQL
from tcl_garage.algos.oracle import OracleSAC
from tcl_garage.algos.pearl import PEARL
from tcl_garage.algos.pearl_worker import PEARLWorker
from tcl_garage.algos.tcl_mql import TCLMQL
from tcl_garage.algos.tcl_pearl import TCLPEARL
from tcl_garage.algos.training_statistics import NonFiniteLossError

garage_compat.install_torch()

__all__ = [
    'ContextActor', 'ContextCritic', 'MQL', 'NonFiniteLossError', 'OracleSAC',
    'PEARL', 'PEARLWorker', 'TCLMQL', 'TCLPEARL'
]
