#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on cheetah-vel.

Config: configs/defaults.yaml + configs/cheetah-vel.yaml. Examples:

    python experiments/cheetah_vel.py --seed 1
    python experiments/cheetah_vel.py --algo pearl --device cuda
    python experiments/cheetah_vel.py --smoke
    python experiments/cheetah_vel.py --resume runs/cheetah-vel/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('cheetah-vel')
