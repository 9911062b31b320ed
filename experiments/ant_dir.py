#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on ant-dir.

Config: configs/defaults.yaml + configs/ant-dir.yaml. Examples:

    python experiments/ant_dir.py --seed 1
    python experiments/ant_dir.py --algo pearl --device cuda
    python experiments/ant_dir.py --smoke
    python experiments/ant_dir.py --resume runs/ant-dir/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('ant-dir')
