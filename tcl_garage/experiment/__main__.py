"""``python -m tcl_garage.experiment BENCHMARK [options]``: train (or
``--resume DIR``) any algorithm on any benchmark; ``--help`` lists the
options."""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':  # environment worker processes import this too
    main()
