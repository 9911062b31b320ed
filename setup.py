"""Installs tcl_garage. Then `python -m tcl_garage.install_garage` installs
garage 2021.3.0 (`make install` does both; see the README)."""
from setuptools import find_packages, setup

setup(
    name='tcl_garage',
    version='0.1.0',
    description=('Trajectory Contrastive Learning (TCL) for context-based '
                 'meta-RL, on garage\'s PEARL'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='MIT',
    python_requires='>=3.10,<3.13',
    packages=find_packages(include=['tcl_garage', 'tcl_garage.*']),
    # The launchers' configs: tcl_garage/configs links to configs/.
    package_data={'tcl_garage': ['configs/*.yaml', 'configs/profiles/*.yaml']},
    # garage==2021.3.0 is required too, but its published metadata cannot be
    # installed today: `python -m tcl_garage.install_garage` installs it
    # with metadata adapted to this list (tcl_garage.garage_compat, item 7).
    install_requires=[
        'torch>=2',
        # numpy 2 included: garage's last numpy 2 gap is adapted in
        # tcl_garage.garage_compat (the rl2 extra's TensorFlow pins < 2).
        'numpy>=1.24',
        'akro>=0.0.8',
        'dowel>=0.0.4',
        'cloudpickle>=2',
        'click>=8',
        'psutil>=5',
        'python-dateutil>=2.8',
        'scipy>=1.10',
        'setproctitle>=1.3',
        'cma>=3',
        'gym==0.26.2',
        'mujoco>=3.1,<4',
        'gymnasium[mujoco]>=1.0,<2',
        'metaworld>=3.1,<3.2',
        'packaging',
        'pyyaml>=6',
        'matplotlib>=3.7',
        'tensorboardX>=2.6',
        'scikit-learn>=1.3',
        # Statistics over seeds (tcl_garage.analysis.statistics): rliable's
        # bootstrap is arch's; arch 7.2 (rliable wants < 8) fails to import
        # with pandas 3.
        'rliable>=1.2,<1.3',
        'arch>=5.3.1,<8',
        'pandas<3',
    ],
    extras_require={
        # pytest-xdist: `make test` runs the suite on every core; ruff: the
        # linter `make lint` and CI run.
        'test': ['pytest>=7', 'pytest-xdist>=3.2', 'ruff>=0.6'],
        # The documentation site (mkdocs.yml; `make docs`).
        'docs': ['mkdocs-material>=9.5'],
        # Sampling on Ray workers or a cluster (--sampler ray, sweep --ray):
        # optional, runs on one machine never need it.
        'ray': ['ray>=2.9'],
        # Experiment tracking with Weights & Biases (--track).
        'wandb': ['wandb>=0.17'],
        # RL2-PPO (garage's TensorFlow RL2): the last TensorFlow with Keras 2
        # (garage's tf.compat.v1 layers) and numpy < 2, for Python 3.11.
        'rl2': [
            'tensorflow-cpu==2.15.1; platform_system == "Linux"',
            'tensorflow==2.15.1; platform_system != "Linux"',
            'tensorflow-probability==0.23.0',
        ],
    },
)
