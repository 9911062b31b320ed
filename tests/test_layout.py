"""The package's public faces (issue 22): the names users import, the TCL
core's independence from PEARL, and snapshots of the old layout."""
import pathlib
import pickle
import subprocess
import sys

import pytest
import torch

import tcl_garage

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_public_names_of_the_package():
    assert sorted(tcl_garage.__all__) == sorted([
        'contrastive_accuracy', 'contrastive_logits', 'Episodes',
        'excluded_keys',
        'kl_to_standard_normal', 'MomentumEncoder', 'MQL', 'PEARL',
        'PEARLWorker', 'product_of_gaussians', 'sample_window_pairs',
        'soft_update_', 'TCL', 'TCLMQL', 'TCLPEARL',
        'trajectory_contrastive_loss',
        'wasserstein_similarity', 'WindowPairs'])
    for name in tcl_garage.__all__:
        assert getattr(tcl_garage, name) is not None
    from tcl_garage import tcl
    assert tcl_garage.MomentumEncoder is tcl.MomentumEncoder
    assert tcl_garage.TCLPEARL.__module__ == 'tcl_garage.algos.tcl_pearl'
    assert tcl_garage.TCLMQL.__module__ == 'tcl_garage.algos.tcl_mql'


def test_no_core_or_builder_module_at_the_package_root():
    root = {p.stem for p in (ROOT / 'tcl_garage').glob('*.py')}
    # install_garage: the command `python -m tcl_garage.install_garage`,
    # whose code is garage_compat's.
    assert root == {'__init__', 'garage_compat', 'install_garage'}


def test_the_tcl_core_imports_nothing_of_pearl_or_garages_algorithms():
    code = ('import sys, tcl_garage.tcl; '
            'print(sorted(m for m in sys.modules if m.startswith('
            '("tcl_garage.algos", "garage.torch.algos", "tcl_garage.experiment"'
            '))))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == '[]'


def test_a_snapshot_of_the_old_layout_loads(tmp_path):
    """A 0.1 snapshot names tcl_garage.momentum; it loads through
    moved_modules, and the old name is gone again afterwards."""
    from tcl_garage.experiment.snapshots import moved_modules
    encoder = tcl_garage.MomentumEncoder(torch.nn.Linear(3, 2), tau=0.1)
    # Protocol 0 names classes as text lines, so the module can be renamed.
    old = pickle.dumps(encoder, protocol=0).replace(
        b'tcl_garage.tcl.momentum', b'tcl_garage.momentum')
    assert b'tcl_garage.momentum\n' in old
    with pytest.raises(ModuleNotFoundError):
        pickle.loads(old)
    with moved_modules():
        loaded = pickle.loads(old)
    assert isinstance(loaded, tcl_garage.MomentumEncoder) and loaded.tau == 0.1
    assert 'tcl_garage.momentum' not in sys.modules
