#!/usr/bin/env python3
"""`make demo`: a short TCL-PEARL run on Cheetah-Vel, with a learning curve.

The `demo` profile (configs/profiles/demo.yaml) sizes it to finish in about
5 minutes on a 2-core CPU. Prints where the outputs went. Any launcher option
works, e.g. `python experiments/demo.py --algo pearl --epochs 5`.
"""
import os
import sys

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.analysis.curves import plot_curves
from tcl_garage.analysis.runs import load_run
from tcl_garage.experiment import main

if __name__ == '__main__':
    args = sys.argv[1:]
    if '--profile' not in args and '--smoke' not in args:
        args += ['--profile', 'demo']
    run_dir = main('cheetah-vel', args)
    curve = plot_curves([load_run(run_dir)],
                        os.path.join(run_dir, 'learning_curve.png'))
    print(f'Learning curve: {curve}')
