"""Each adaptation of garage 2021.3.0 in tcl_garage.garage_compat works."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tcl_garage import garage_compat

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.skipif(garage_compat.tensorflow_available(),
                    reason='TensorFlow installed: the real garage.tf is used')
def test_garage_sampler_needs_the_adaptation_and_imports_with_it():
    bare = run_python('import garage.sampler')
    assert bare.returncode != 0 and 'tensorflow' in bare.stderr
    adapted = run_python(
        'import tcl_garage, garage.sampler, garage.torch.algos\n'
        'from garage.tf.samplers import TFWorkerClassWrapper\n'
        'print(TFWorkerClassWrapper.__name__)')
    assert adapted.returncode == 0, adapted.stderr
    assert '_TFWorkerClassWrapperUnavailable' in adapted.stdout


@pytest.mark.skipif(garage_compat.tensorflow_available(),
                    reason='TensorFlow installed: the real garage.tf is used')
def test_tensorflow_worker_without_tensorflow_says_what_to_install():
    from garage.sampler import DefaultWorker, WorkerFactory
    with pytest.raises(ImportError, match='pip install tensorflow'):
        WorkerFactory(max_episode_length=5, is_tf_worker=True,
                      worker_class=DefaultWorker)


def test_numpy_bool_alias_lets_garage_explained_variance_run():
    from garage.np import explained_variance_1d
    y = np.array([1., 2., 3., 4.])
    value = explained_variance_1d(y, y + 0.1, valids=np.ones(4))
    assert value == pytest.approx(1.0)


def test_numpy_bool8_alias_lets_garage_log_its_experiment():
    """garage's Trainer.train dumps experiment.json with this encoder."""
    import json
    from garage.experiment.experiment import LogEncoder

    class Unserializable:
        pass

    text = json.dumps({'flag': np.bool_(True), 'thing': Unserializable()},
                      cls=LogEncoder)
    assert json.loads(text)['flag'] is True


def test_gym_notice_is_not_printed():
    bare = run_python('import gym')
    assert 'unmaintained' in bare.stderr  # what the adaptation hides
    adapted = run_python('import tcl_garage, garage.torch.algos')
    assert adapted.returncode == 0 and adapted.stderr == ''


def test_gym_imported_before_garage_prints_no_notice_and_keeps_its_loader():
    adapted = run_python(
        'import tcl_garage, akro, gym, garage; '
        'print(type(gym.__loader__).__name__, gym.__spec__.loader is '
        'gym.__loader__)')
    assert adapted.returncode == 0 and adapted.stderr == '', adapted.stderr
    assert adapted.stdout.split() == ['SourceFileLoader', 'True']


#: Code that makes each of garage's expected warnings, by what garage does.
WARNING_MAKERS = {
    'Enabeling deterministic mode': (
        'from garage.experiment.deterministic import set_seed; set_seed(1)'),
    'does not define `arg_constraints`': (
        'from garage.torch.distributions import TanhNormal; '
        'TanhNormal(torch.zeros(2), torch.ones(2))'),
    'Converting a tensor with requires_grad=True': (
        'from garage.torch.algos import sac; '
        'exec(compile("float(torch.ones(1, requires_grad=True) * 2)", '
        'sac.__file__, "exec"), {"torch": torch, "__name__": sac.__name__})'),
    'This overload of add is deprecated': (
        'from garage.torch.optimizers import DifferentiableSGD; '
        'm = torch.nn.Linear(2, 1); m(torch.ones(1, 2)).sum().backward(); '
        'DifferentiableSGD(m, lr=0.1).step()'),
    'Using backward() with create_graph=True': (
        'x = torch.ones(2, requires_grad=True); '
        '(x * x).sum().backward(create_graph=True)'),
}


def test_each_expected_garage_warning_is_hidden_and_others_still_show():
    code = ('import warnings, torch; warnings.simplefilter("always"); '
            'import tcl_garage, garage; FILTERS; '
            + '; '.join(WARNING_MAKERS.values())
            + '; warnings.warn("a warning of the user\'s own")')
    # Without the adaptation's filters, the code does raise each warning.
    bare = run_python(code.replace('FILTERS', 'warnings.resetwarnings(); '
                                   'warnings.simplefilter("always")'))
    adapted = run_python(code.replace('FILTERS', 'pass'))
    assert adapted.returncode == 0, adapted.stderr[-2000:]
    for message in WARNING_MAKERS:
        assert message in bare.stderr, (message, bare.stderr[-2000:])
        assert message not in adapted.stderr, message
    assert "a warning of the user's own" in adapted.stderr


def test_import_is_lazy_about_garage_algorithms():
    probe = run_python('import sys, tcl_garage\n'
                       'print("garage.torch.algos" in sys.modules)\n'
                       'print(tcl_garage.TCLPEARL.__name__)')
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ['False', 'TCLPEARL']


@pytest.mark.parametrize('found, message', [
    (None, 'is not installed'),
    ('2020.6.0', 'found garage==2020.6.0'),
])
def test_missing_or_other_garage_names_the_install_command(
        monkeypatch, found, message):
    import importlib.metadata as metadata

    def fake_version(name):
        if found is None:
            raise metadata.PackageNotFoundError(name)
        return found

    monkeypatch.setattr(metadata, 'version', fake_version)
    with pytest.raises(ImportError, match=message) as error:
        garage_compat.install()
    assert 'make install' in str(error.value)


@pytest.mark.parametrize('how, launcher, arguments', [
    ('path', 'experiments/cheetah_vel.py', []),
    ('module', 'tcl_garage.experiment', ['cheetah-vel']),
])
def test_a_launcher_without_garage_stops_with_the_install_command(
        tmp_path, how, launcher, arguments):
    # garage's metadata is not found: as after `pip install tcl_garage`
    # without `python -m tcl_garage.install_garage`.
    code = f"""
import importlib.metadata as metadata, runpy, sys
found = metadata.version
def version(name):
    if name == 'garage':
        raise metadata.PackageNotFoundError(name)
    return found(name)
metadata.version = version
sys.argv = [{launcher!r}, *{arguments!r}, '--smoke', '--log-dir',
            {str(tmp_path / 'run')!r}]
if {how!r} == 'module':
    runpy.run_module({launcher!r}, run_name='__main__', alter_sys=True)
else:
    runpy.run_path({launcher!r}, run_name='__main__')
"""
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        'error: tcl_garage needs garage==2021.3.0, which is not installed: '
        'run `python -m tcl_garage.install_garage` (in a checkout, `make '
        'install` does it).')
    assert not (tmp_path / 'run').exists()


def test_ray_sampler_workers_import_garage_through_the_adaptation(tmp_path):
    """A 2-worker Ray sampler collects PEARL episodes."""
    ray = pytest.importorskip('ray')  # the optional extra (make install-ray)
    from conftest import make_point_algo

    garage_compat.ray_init(num_cpus=2, include_dashboard=False)
    try:
        algo, env = make_point_algo('pearl', sampler='ray', n_workers=2,
                                    collector='sequential')
        sampler = algo._sampler
        episodes = sampler.obtain_samples(0, 40, algo.get_exploration_policy(),
                                          algo._env[0])
        assert sum(episodes.lengths) >= 40
        assert len(sampler._all_workers) == 2
        sampler.shutdown_worker()
    finally:
        ray.shutdown()


def test_conjugate_gradient_optimizer_steps_after_unpickling():
    """MAML-TRPO's optimizer, restored from a snapshot, still steps."""
    import pickle

    import torch

    import tcl_garage.algos  # noqa: F401  (applies install_torch)
    from garage.torch.optimizers import ConjugateGradientOptimizer
    param = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = ConjugateGradientOptimizer([param], max_constraint_value=0.1)
    clone = pickle.loads(pickle.dumps(optimizer))
    restored = clone.param_groups[0]['params'][0]
    start = restored.detach().clone()
    loss = (restored**2).sum()
    loss.backward()
    clone.step(lambda: (restored**2).sum(),
               lambda: ((restored - start)**2).sum())
    assert (restored**2).sum() < loss  # it moved downhill


#: Python code that makes ``import ray`` fail, as on a machine without it.
WITHOUT_RAY = """
import sys
class _NoRay:
    def find_spec(self, name, path=None, target=None):
        if name == 'ray' or name.startswith('ray.'):
            raise ModuleNotFoundError("No module named 'ray'")
sys.meta_path.insert(0, _NoRay())
"""


def test_without_ray_the_package_imports_and_the_ray_sampler_names_the_fix():
    result = run_python(WITHOUT_RAY + """
import tcl_garage, garage.sampler, tcl_garage.algos, tcl_garage.experiment.build
from tcl_garage.garage_compat import ray_available
from garage.sampler import RaySampler
assert not ray_available()
try:
    RaySampler()
except ImportError as error:
    print('error:', error)
print('ray imported:', 'ray' in sys.modules)
""")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert 'error: the ray sampler needs Ray' in out
    assert 'make install-ray' in out
    assert 'ray imported: False' in out


def test_without_ray_a_ray_run_or_sweep_is_a_one_line_error(tmp_path):
    code = WITHOUT_RAY + f"""
from tcl_garage.experiment.cli import main
main('point', ['--smoke', '--sampler', 'ray', '--n-workers', '1',
               '--log-dir', {str(tmp_path / 'run')!r}])
"""
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: sampler=ray: Ray is not installed; run make install-ray '
        '(pip install -e ".[ray]"), or use --sampler local']
    assert not (tmp_path / 'run').exists()
    code = WITHOUT_RAY + """
from tcl_garage.experiment.sweep import sweep
try:
    sweep(['point'], ['pearl'], [0], 'unused', ray=True)
except ValueError as error:
    print('error:', error)
"""
    result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                            text=True, cwd=ROOT)
    assert 'error: --ray: Ray is not installed; run make install-ray' in (
        result.stdout)
