#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on cheetah-dir.

Config: configs/defaults.yaml + configs/cheetah-dir.yaml. Examples:

    python experiments/cheetah_dir.py --seed 1
    python experiments/cheetah_dir.py --algo pearl --device cuda
    python experiments/cheetah_dir.py --smoke
    python experiments/cheetah_dir.py --resume runs/cheetah-dir/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('cheetah-dir')
