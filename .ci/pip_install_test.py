#!/usr/bin/env python3
"""The README's install blocks, run as written in fresh environments (CI).

For "Install with pip": a fresh virtual environment, pip upgraded to the
newest, then each command of the README's block in this checkout, as a user
with that environment activated would type them; then ``pip check``, the
configs installed beside the package (the same files as ``configs/``), and
smoke runs from a folder outside the checkout (the module and a launcher
script) that write ``progress.csv``. For "Install with uv": the same with an
environment made by ``uv venv`` (uv itself from the package index, into a
scratch environment) and ``uv pip check``.

torch comes from the CPU wheel on disk (``--torch-wheels``, default
/opt/wheels; pip and uv are pointed there with PIP_FIND_LINKS and
UV_FIND_LINKS), never a multi-GB CUDA build from the index: without one
there the test stops (exit 2) before installing anything. Everything lives
in a scratch folder, removed at the end; in the checkout pip leaves only
git-ignored build folders. Exit 0 when every step passed, 1 otherwise,
with one line a step and its wall-clock, and a closing count.

    python3 .ci/pip_install_test.py              # pip, then uv
    python3 .ci/pip_install_test.py --only pip
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / 'README.md'
TORCH = 'torch-2.13.0+cpu-'


def readme_commands(heading: str) -> List[str]:
    """The commands of the first bash block under a README heading.

    Args:
        heading (str): The heading's text (``Install with pip``).

    Returns:
        list[str]: Its lines as written, blank and comment lines left
            out.

    Raises:
        SystemExit: The heading or its block is missing.

    """
    text = README.read_text(encoding='utf-8')
    match = re.search(rf'^#+ {re.escape(heading)}\n(.*?)^```bash\n(.*?)^```',
                      text, re.M | re.S)
    if match is None or '\n#' in '\n' + match.group(1):
        sys.exit(f'error: README.md has no ```bash block under "{heading}"')
    return [line.strip() for line in match.group(2).splitlines()
            if line.strip() and not line.strip().startswith('#')]


class Steps:
    """Runs the steps, one line each with its wall-clock."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: List[str] = []

    def run(self, name: str, command: List[str], cwd: pathlib.Path,
            env: Dict[str, str], expect: str = '') -> bool:
        """Run one step; print ``ok``/``FAILED``, its seconds and name."""
        start = time.monotonic()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                              text=True, check=False)
        seconds = time.monotonic() - start
        ok = done.returncode == 0 and expect in done.stdout + done.stderr
        print(f'{"ok" if ok else "FAILED":6} {seconds:6.1f} s  {name}',
              flush=True)
        if ok:
            self.passed += 1
        else:
            print((done.stdout + done.stderr)[-3000:], flush=True)
            self.failed.append(name)
        return ok


def activated(venv: pathlib.Path, *more_paths: pathlib.Path,
              **extra: str) -> Dict[str, str]:
    """The environment of a shell with ``venv`` activated."""
    env = {key: value for key, value in os.environ.items()
           if key not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    env['PATH'] = os.pathsep.join([str(venv / 'bin'),
                                   *(str(path) for path in more_paths),
                                   env.get('PATH', '')])
    env['VIRTUAL_ENV'] = str(venv)
    env['MPLBACKEND'] = 'Agg'
    env.update(extra)
    return env


def check_installed(steps: Steps, label: str, venv: pathlib.Path,
                    env: Dict[str, str], scratch: pathlib.Path) -> None:
    """The configs beside the installed package, and smoke runs from a
    folder outside the checkout."""
    python = str(venv / 'bin' / 'python')
    listing = ('import pathlib, tcl_garage\n'
               'folder = pathlib.Path(tcl_garage.__file__).parent\n'
               'folder = folder / "configs"\n'
               'assert "site-packages" in str(folder), folder\n'
               'print(*sorted(str(p.relative_to(folder)) for p in '
               'folder.rglob("*.yaml")))\n')
    expected = ' '.join(sorted(str(path.relative_to(ROOT / 'configs'))
                               for path in (ROOT / 'configs').rglob('*.yaml')))
    elsewhere = scratch / f'{label}-elsewhere'
    elsewhere.mkdir()
    steps.run(f'{label}: configs/ installed with the package (not editable)',
              [python, '-c', listing], elsewhere, env, expected)
    for name, command in (
            ('python -m tcl_garage.experiment point --smoke',
             [python, '-m', 'tcl_garage.experiment', 'point', '--smoke',
              '--quiet', '--log-dir', 'runs/point']),
            ('experiments/cheetah_vel.py --smoke',
             [python, str(ROOT / 'experiments' / 'cheetah_vel.py'),
              '--smoke', '--quiet', '--log-dir', 'runs/cheetah-vel'])):
        run_dir = elsewhere / command[-1]
        if steps.run(f'{label}: {name}, outside the checkout', command,
                     elsewhere, env):
            rows = (run_dir / 'progress.csv').read_text().splitlines() \
                if (run_dir / 'progress.csv').is_file() else []
            if len(rows) != 3:  # the header and the smoke run's 2 epochs
                print(f'FAILED {label}: {run_dir}/progress.csv holds '
                      f'{len(rows)} lines, not 3')
                steps.failed.append(f'{label}: {name} progress.csv')


def pip_path(steps: Steps, scratch: pathlib.Path, python: str,
             wheels: pathlib.Path) -> None:
    """The "Install with pip" block in a fresh venv with the newest pip."""
    venv = scratch / 'pip-venv'
    env = activated(venv, PIP_FIND_LINKS=str(wheels))
    if not steps.run('pip: python -m venv', [python, '-m', 'venv', str(venv)],
                     scratch, env):
        return
    if not steps.run('pip: pip upgraded to the newest',
                     ['python', '-m', 'pip', 'install', '--quiet',
                      '--upgrade', 'pip'], scratch, env):
        return
    version = subprocess.run(['python', '-m', 'pip', '--version'], env=env,
                             capture_output=True, text=True).stdout.split()
    print(f'       pip {version[1] if len(version) > 1 else "?"}')
    for command in readme_commands('Install with pip'):
        if not steps.run(f'pip: {command.split("  #")[0]}',
                         ['bash', '-c', command], ROOT, env):
            return
    if steps.run('pip: pip check', ['python', '-m', 'pip', 'check'],
                 scratch, env, 'No broken requirements found'):
        check_installed(steps, 'pip', venv, env, scratch)


def uv_path(steps: Steps, scratch: pathlib.Path, python: str,
            wheels: pathlib.Path) -> None:
    """The "Install with uv" block in an environment made by ``uv venv``."""
    tools = scratch / 'uv-tool'
    tool_env = activated(tools)
    if not (steps.run('uv: uv from the package index',
                      [python, '-m', 'venv', str(tools)], scratch, tool_env)
            and steps.run('uv: uv from the package index (install)',
                          ['python', '-m', 'pip', 'install', '--quiet',
                           'uv'], scratch, tool_env)):
        return
    venv = scratch / 'uv-venv'
    # The tool environment's bin after the user's: only its uv is wanted.
    env = activated(venv, tools / 'bin', UV_FIND_LINKS=str(wheels))
    if not steps.run('uv: uv venv', [str(tools / 'bin' / 'uv'), 'venv',
                                     '--quiet', '--python', python,
                                     str(venv)], scratch, env):
        return
    for command in readme_commands('Install with uv'):
        if not steps.run(f'uv: {command.split("  #")[0]}',
                         ['bash', '-c', command], ROOT, env):
            return
    if steps.run('uv: uv pip check', ['uv', 'pip', 'check'], scratch, env,
                 'All installed packages are compatible'):
        check_installed(steps, 'uv', venv, env, scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--python', default='python3.11',
                        help='the interpreter the environments are made '
                        'from (default python3.11)')
    parser.add_argument('--torch-wheels', default='/opt/wheels',
                        type=pathlib.Path,
                        help='a folder holding the CPU wheel '
                        f'{TORCH}... (default /opt/wheels)')
    parser.add_argument('--only', choices=('pip', 'uv'),
                        help='run one of the two installs')
    args = parser.parse_args()
    if not any(args.torch_wheels.glob(f'{TORCH}*.whl')):
        print(f'error: no {TORCH}*.whl in {args.torch_wheels}: give a folder '
              'holding the CPU wheel with --torch-wheels (the index\'s is a '
              'multi-GB CUDA build)', file=sys.stderr)
        sys.exit(2)
    python = shutil.which(args.python)
    if python is None:
        print(f'error: no {args.python}: give one with --python',
              file=sys.stderr)
        sys.exit(2)
    steps = Steps()
    start = time.monotonic()
    # What `pip install .` leaves in the checkout, removed unless it was
    # there before.
    left = [ROOT / name for name in ('build', 'tcl_garage.egg-info')
            if not (ROOT / name).exists()]
    with tempfile.TemporaryDirectory(prefix='tcl_garage-install-') as tmp:
        scratch = pathlib.Path(tmp)
        if args.only in (None, 'pip'):
            pip_path(steps, scratch, python, args.torch_wheels)
        if args.only in (None, 'uv'):
            uv_path(steps, scratch, python, args.torch_wheels)
    for folder in left:
        shutil.rmtree(folder, ignore_errors=True)
    print(f'the README\'s install in {time.monotonic() - start:.0f} s'
          + (f'; failed: {"; ".join(steps.failed)}' if steps.failed else ''))
    print(f'install: {steps.passed} passed, {len(steps.failed)} failed')
    sys.exit(1 if steps.failed else 0)


if __name__ == '__main__':
    main()
