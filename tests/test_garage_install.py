"""garage's installer (tcl_garage.garage_compat, item 7) builds a wheel
whose metadata today's installers accept, from a release it has checked,
and the configs ship with the package.

Built here from a small stand-in of garage's source release (the real one
is downloaded only by ``.ci/pip_install_test.py``, which installs it in a
fresh environment): the same layout and the published ``requires.txt``'s
kinds of lines.
"""
import base64
import hashlib
import importlib.metadata
import io
import pathlib
import subprocess
import sys
import tarfile
import zipfile

import pytest

from tcl_garage import garage_compat
from tcl_garage.experiment.config import CONFIG_DIR

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: A requires.txt with each kind of line garage's published one has.
REQUIRES = """akro>=0.0.8
cma==2.7.0
dowel==0.0.3
ray
tensorflow>=1.14
torch!=1.5.0,<1.8.0,>=1.0.0
torchvision<=0.8.2,>=0.2.1
dataclasses==0.7

[dev]
flake8
metaworld@ https://git@example.invalid/metaworld/tarball/0875192

[gym]
gym[atari]==0.17.2
"""


def stand_in_release(path: pathlib.Path) -> pathlib.Path:
    """Write a source release laid out as garage 2021.3.0's."""
    root = f'garage-{garage_compat.GARAGE_VERSION}/'
    files = {
        'PKG-INFO': 'Metadata-Version: 2.1\nName: garage\nVersion: '
                    '2021.3.0\nSummary: A toolkit\nLicense: MIT\n'
                    'Requires-Python: >=3.6\nClassifier: Topic :: RL\n',
        'README.md': '# garage\n',
        'LICENSE': 'MIT License\n',
        'scripts/garage': '#!/usr/bin/env python3\nprint("garage")\n',
        'src/garage.egg-info/requires.txt': REQUIRES,
        'src/garage/__init__.py': 'VALUE = 3\n',
        'src/garage/torch/__init__.py': '',
        'src/garage/examples/jupyter/notebook.ipynb': '{}\n',
        'src/garage/__pycache__/x.cpython-36.pyc': 'compiled',
        'tests/test_x.py': '',
    }
    with tarfile.open(path, 'w:gz') as archive:
        for name, text in files.items():
            data = text.encode()
            entry = tarfile.TarInfo(root + name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return path


@pytest.fixture
def release(tmp_path, monkeypatch):
    """The stand-in release, taken as the published one."""
    sdist = stand_in_release(tmp_path / garage_compat.GARAGE_SDIST)
    monkeypatch.setattr(garage_compat, 'GARAGE_SDIST_SHA256',
                        hashlib.sha256(sdist.read_bytes()).hexdigest())
    return sdist


def metadata_lines(wheel: pathlib.Path, field: str):
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(
            f'garage-{garage_compat.GARAGE_WHEEL_VERSION}.dist-info/METADATA'
        ).decode()
    return [line.split(': ', 1)[1] for line in text.split('\n\n')[0]
            .splitlines() if line.startswith(field + ': ')]


def test_the_requirements_are_relaxed_moved_or_dropped_as_the_table_says():
    assert garage_compat.garage_requirements(REQUIRES) == {
        '': ['akro>=0.0.8', 'cma', 'dowel', 'torch!=1.5.0,>=1.0.0'],
        'ray': ['ray'],
        'tf': ['tensorflow>=1.14'],
        'dev': ['flake8'],
        'gym': ['gym[atari]==0.17.2'],
    }


def test_the_wheel_holds_the_release_files_and_metadata_without_a_url(
        release, tmp_path):
    wheel = garage_compat.build_garage_wheel(release, tmp_path / 'wheels')
    assert wheel.name == 'garage-2021.3.0+tcl1-py3-none-any.whl'
    assert metadata_lines(wheel, 'Version') == ['2021.3.0+tcl1']
    requires = metadata_lines(wheel, 'Requires-Dist')
    assert requires == [
        'akro>=0.0.8', 'cma', 'dowel', 'torch!=1.5.0,>=1.0.0',
        'ray; extra == "ray"', 'tensorflow>=1.14; extra == "tf"',
        'flake8; extra == "dev"', 'gym[atari]==0.17.2; extra == "gym"']
    assert not any('@' in line for line in requires)
    assert metadata_lines(wheel, 'Requires-Python') == ['>=3.6']
    dist_info = 'garage-2021.3.0+tcl1.dist-info'
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert sorted(n for n in names if n.startswith('garage/')) == [
            'garage/__init__.py', 'garage/examples/jupyter/notebook.ipynb',
            'garage/torch/__init__.py']
        assert archive.read('garage-2021.3.0+tcl1.data/scripts/garage') == (
            b'#!python\nprint("garage")\n')
        # RECORD lists every other file with its hash and size.
        record = archive.read(f'{dist_info}/RECORD').decode().splitlines()
        assert record[-1] == f'{dist_info}/RECORD,,'
        for line in record[:-1]:
            name, digest, size = line.split(',')
            data = archive.read(name)
            assert digest == 'sha256=' + base64.urlsafe_b64encode(
                hashlib.sha256(data).digest()).rstrip(b'=').decode()
            assert int(size) == len(data)
        assert len(record) == len(names)


def test_two_builds_are_the_same_bytes(release, tmp_path):
    first = garage_compat.build_garage_wheel(release, tmp_path / 'a')
    second = garage_compat.build_garage_wheel(release, tmp_path / 'b')
    assert first.read_bytes() == second.read_bytes()


def test_pip_installs_the_wheel_and_reads_its_version(release, tmp_path):
    wheel = garage_compat.build_garage_wheel(release, tmp_path / 'wheels')
    target = tmp_path / 'site'
    done = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps',
         '--no-index', '--target', str(target), str(wheel)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    installed = next(importlib.metadata.distributions(name='garage',
                                                      path=[str(target)]))
    assert installed.version == '2021.3.0+tcl1'
    assert 'cma' in installed.requires
    assert (target / 'garage' / '__init__.py').read_text() == 'VALUE = 3\n'


def test_a_release_with_another_sha256_is_refused_and_nothing_is_written(
        tmp_path):
    sdist = stand_in_release(tmp_path / garage_compat.GARAGE_SDIST)
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.install_garage', '--sdist',
         str(sdist), '--wheel-dir', str(tmp_path / 'wheels')],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1, result.stderr
    assert 'is not garage 2021.3.0\'s source release' in result.stderr
    assert '--sdist FILE' in result.stderr
    assert not (tmp_path / 'wheels').exists()


def test_the_repackaged_version_passes_the_version_check(monkeypatch):
    monkeypatch.setattr(importlib.metadata, 'version',
                        lambda name: garage_compat.GARAGE_WHEEL_VERSION)
    garage_compat.install()  # raises on another version


def test_the_missing_garage_error_names_the_install_module(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, 'version', missing)
    with pytest.raises(ImportError,
                       match='python -m tcl_garage.install_garage'):
        garage_compat.install()


def test_every_config_file_ships_as_package_data():
    """setup.py's package data globs reach every file of configs/, through
    tcl_garage/configs (a link in a checkout)."""
    import ast
    setup = ast.parse((ROOT / 'setup.py').read_text())
    call = next(node for node in ast.walk(setup)
                if isinstance(node, ast.Call) and getattr(
                    node.func, 'id', None) == 'setup')
    package_data = ast.literal_eval(next(
        keyword.value for keyword in call.keywords
        if keyword.arg == 'package_data'))
    package = ROOT / 'tcl_garage'
    shipped = {path.resolve() for pattern in package_data['tcl_garage']
               for path in package.glob(pattern)}
    on_disk = {path.resolve() for path in (ROOT / 'configs').rglob('*')
               if path.is_file()}
    assert shipped == on_disk and len(on_disk) >= 12
    assert CONFIG_DIR == (ROOT / 'configs').resolve()
