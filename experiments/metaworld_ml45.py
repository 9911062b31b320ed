#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on Meta-World ML45.

45 training classes and 5 held-out test classes, 50 goals each; the
meta-test success rate is logged per class (MetaTest/<class>/SuccessRate)
and over all test tasks (MetaTest/Average/SuccessRate).
Config: configs/defaults.yaml + configs/ml45.yaml.

    python experiments/metaworld_ml45.py --seed 1
    python experiments/metaworld_ml45.py --smoke
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('ml45')
