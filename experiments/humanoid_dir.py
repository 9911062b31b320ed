#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on humanoid-dir.

Config: configs/defaults.yaml + configs/humanoid-dir.yaml. Examples:

    python experiments/humanoid_dir.py --seed 1
    python experiments/humanoid_dir.py --algo pearl --device cuda
    python experiments/humanoid_dir.py --smoke
    python experiments/humanoid_dir.py --resume runs/humanoid-dir/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('humanoid-dir')
