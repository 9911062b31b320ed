#!/usr/bin/env python3
"""Train TCL-PEARL (or PEARL, --algo pearl) on walker-rand-params.

Config: configs/defaults.yaml + configs/walker-rand-params.yaml. Examples:

    python experiments/walker_rand_params.py --seed 1
    python experiments/walker_rand_params.py --algo pearl --device cuda
    python experiments/walker_rand_params.py --smoke
    python experiments/walker_rand_params.py \
        --resume runs/walker-rand-params/tcl-pearl/seed0
"""
import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.experiment import main

if __name__ == '__main__':
    main('walker-rand-params')
