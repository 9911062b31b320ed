#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on ant-goal.

Config: configs/defaults.yaml + configs/ant-goal.yaml. Examples:

    python experiments/ant_goal.py --seed 1
    python experiments/ant_goal.py --algo pearl --device cuda
    python experiments/ant_goal.py --smoke
    python experiments/ant_goal.py --resume runs/ant-goal/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('ant-goal')
