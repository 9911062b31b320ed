#!/usr/bin/env python3
"""Fetch the wheels the GPU machine lacks (``make gpu-wheels``).

Reads ``benchmarks/gpu_wheels.txt`` (one ``name==version`` a line), takes
each as a binary wheel for the GPU machine's Python (3.12, manylinux
x86-64) from the package index, or builds one from the source release
when the index has none (akro, dowel and gym are pure Python and ship
sources only), adds garage's wheel as ``tcl_garage.install_garage`` builds
it, into ``.whl/`` (ignored by git), and checks that the
wheels and the working tree together fit the device tool's 64 MiB. Exit 2,
one line, when they do not.

    python benchmarks/gpu_wheels.py                  # -> .whl/
    python benchmarks/gpu_wheels.py --python-version 3.11 --dest /tmp/w
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
from typing import List

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / 'benchmarks' / 'gpu_wheels.txt'
#: What travels to the device machine in one call.
LIMIT_BYTES = 64 * 2**20
#: manylinux tags pip must be told one by one (x86-64).
PLATFORMS = ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64',
             'manylinux_2_17_x86_64', 'manylinux2014_x86_64',
             'manylinux1_x86_64')


def requirements() -> List[str]:
    """The pinned requirements, in file order.

    Returns:
        list[str]: ``name==version`` strings.

    """
    lines = REQUIREMENTS.read_text().splitlines()
    return [line.split('#')[0].strip() for line in lines
            if line.split('#')[0].strip()]


def normalise(name: str) -> str:
    """A distribution name as wheel files and indexes spell it."""
    return re.sub(r'[-_.]+', '_', name).lower()


def compatible(wheel: pathlib.Path, python_version: str) -> bool:
    """Whether a wheel's Python tag fits ``python_version`` (``py3`` or
    ``cp3XY``)."""
    tags = wheel.name.split('-')[-3].split('.')
    return any(tag.startswith('py') or
               tag == 'cp' + python_version.replace('.', '') for tag in tags)


def fetch(dest: pathlib.Path,
          python_version: str = '3.12') -> List[pathlib.Path]:
    """Every requirement's wheel, into ``dest``.

    Args:
        dest (pathlib.Path): The folder (created).
        python_version (str): The Python the wheels are for.

    Returns:
        list[pathlib.Path]: One wheel a requirement.

    Raises:
        RuntimeError: When a requirement has neither a wheel nor a source
            release that builds.

    """
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, '-m', 'pip']
    wheels = []
    for requirement in requirements():
        name = normalise(requirement.split('==')[0])
        version = requirement.split('==')[1]

        def present(name=name, version=version):
            return [w for w in dest.glob('*.whl')
                    if normalise(w.name.split('-')[0]) == name and
                    w.name.split('-')[1] == version and
                    compatible(w, python_version)]

        found = present()
        if not found:
            platforms = [arg for tag in PLATFORMS
                         for arg in ('--platform', tag)]
            binary = subprocess.run(
                pip + ['download', '--quiet', '--no-deps',
                       '--only-binary=:all:', '--python-version',
                       python_version, '--implementation', 'cp', *platforms,
                       '--platform', 'any', '-d', str(dest), requirement],
                capture_output=True, text=True, check=False)
            if binary.returncode != 0:  # sources only: build the wheel
                with tempfile.TemporaryDirectory() as build:
                    built = subprocess.run(
                        pip + ['wheel', '--quiet', '--no-deps', '-w', build,
                               requirement],
                        capture_output=True, text=True, check=False)
                    made = list(pathlib.Path(build).glob('*.whl'))
                    if built.returncode != 0 or not made or (
                            '-none-any' not in made[0].name):
                        raise RuntimeError(
                            f'{requirement}: no wheel for Python '
                            f'{python_version} and no pure-Python build: '
                            f'{(binary.stderr + built.stderr)[-300:]}')
                    made[0].rename(dest / made[0].name)
            found = present()
        wheels.extend(found)
    garage = sorted(dest.glob('garage-*.whl'))
    if not garage:  # pure Python: one wheel serves every Python version
        built = subprocess.run(
            [sys.executable, '-m', 'tcl_garage.install_garage',
             '--wheel-dir', str(dest)],
            capture_output=True, text=True, check=False)
        garage = sorted(dest.glob('garage-*.whl'))
        if built.returncode != 0 or not garage:
            raise RuntimeError(f'garage: {built.stderr.strip()[-300:]}')
    return wheels + garage


def tree_bytes() -> int:
    """Bytes of the working tree that travels (git's tracked files)."""
    files = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT,
                           capture_output=True, check=True).stdout
    return sum((ROOT / name).stat().st_size
               for name in files.decode().split('\0')
               if name and (ROOT / name).is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dest', default=str(ROOT / '.whl'))
    parser.add_argument('--python-version', default='3.12')
    args = parser.parse_args()
    dest = pathlib.Path(args.dest)
    try:
        wheels = fetch(dest, args.python_version)
    except RuntimeError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    for wheel in wheels:
        print(f'{wheel.stat().st_size / 2**20:7.2f} MiB  {wheel.name}')
    wheel_bytes = sum(wheel.stat().st_size for wheel in wheels)
    tree = tree_bytes()
    total = wheel_bytes + tree
    print(f'{len(wheels)} wheels {wheel_bytes / 2**20:.1f} MiB + working '
          f'tree {tree / 2**20:.1f} MiB = {total / 2**20:.1f} MiB of '
          f'{LIMIT_BYTES / 2**20:.0f} MiB')
    if total > LIMIT_BYTES:
        print(f'error: the wheels and the working tree take '
              f'{total / 2**20:.1f} MiB, over the device tool\'s 64 MiB a '
              'call; drop a wheel from benchmarks/gpu_wheels.txt or carry it '
              'in a second call', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
