#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on a Meta-World ML1 environment.

Any of the 50 v3 environments: --env push-v3, --env reach-v3, ...
Config: configs/defaults.yaml + configs/ml1.yaml (+ its env_overrides).

    python experiments/metaworld_ml1.py --env push-v3 --seed 1
    python experiments/metaworld_ml1.py --env push-v3 --smoke
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('ml1')
