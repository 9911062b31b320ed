"""The README's and the documentation pages' code blocks: each one runs as
written in a test here (Python examples at smoke size in a fresh
interpreter, `--help` commands) or is marked illustrative with the line
``<!-- illustrative -->`` just before its fence; and the README keeps its
short shape and links that resolve."""
import dataclasses
import os
import pathlib
import re
import subprocess
import sys
from typing import List

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / 'README.md'
#: Tutorials whose blocks build on each other: each page's own test runs
#: all of its blocks in order, so they are not run one by one here.
TUTORIALS = {
    'tutorial-own-benchmark.md': 'tests/test_tutorial_own_benchmark.py',
    'tutorial-add-tcl.md': 'tests/test_tutorial_add_tcl.py',
}
#: The pages whose code blocks are checked: the README and the site's pages
#: (docs/results/'s record folders are data, not pages).
PAGES = [README, *sorted(page for page in (ROOT / 'docs').glob('*.md')
                         if page.name not in TUTORIALS)]
ILLUSTRATIVE = '<!-- illustrative -->'
FENCE = re.compile(r'^(\s*)```(\S*)\s*$')


@dataclasses.dataclass
class Block:
    """One fenced code block of a page."""

    page: pathlib.Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    illustrative: bool

    @property
    def name(self) -> str:
        return f'{self.page.relative_to(ROOT)}:{self.line}'


def code_blocks(page: pathlib.Path) -> List[Block]:
    """Every fenced block of ``page``, with whether it is marked
    illustrative (the last non-blank line before its fence is the marker)."""
    lines = page.read_text(encoding='utf-8').split('\n')
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent = opening.group(1)
        end = next(j for j in range(i + 1, len(lines))
                   if lines[j].strip() == '```')
        before = [line.strip() for line in lines[:i] if line.strip()]
        code = '\n'.join(line[len(indent):] for line in lines[i + 1:end])
        blocks.append(Block(page, i + 1, opening.group(2), code + '\n',
                            bool(before) and before[-1] == ILLUSTRATIVE))
        i = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in code_blocks(page)]
PYTHON = [b for b in BLOCKS if b.language == 'python' and not b.illustrative]
SHELL = [b for b in BLOCKS if b.language == 'bash' and not b.illustrative]


def commands(block: Block) -> List[str]:
    """The shell commands of a block, continuation lines joined."""
    text = block.code.replace('\\\n', ' ')
    return [line.split(' #')[0].strip() for line in text.split('\n')
            if line.strip() and not line.strip().startswith('#')]


def environment(tmp_path: pathlib.Path) -> dict:
    """This interpreter first on PATH (so `python` is it) and this checkout
    first on PYTHONPATH, with HOME in a scratch folder."""
    env = dict(os.environ)
    env['PATH'] = os.pathsep.join([os.path.dirname(sys.executable),
                                   env.get('PATH', '')])
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    env['MPLBACKEND'] = 'Agg'
    return env


#: What a block's output must show beyond running, by a line of its code.
EXPECTED_OUTPUT = {
    # README quick start: one progress line an epoch, then the result.
    "log_dir='runs/quickstart'": [r'\[progress\] epoch 1/2',
                                  r'\[progress\] epoch 2/2',
                                  r'runs/quickstart meta-test return -?\d'],
    # User guide: build_pearl builds TCL-PEARL.
    'algo, env = build_pearl(': [r'^TCLPEARL$'],
    # Configuration: the cpu-hour profile, and the one-line error.
    "profile='cpu-hour'": [r'window 32 epochs 100',
                           r'^window_size=0: must be >= 1; '],
    # Benchmarks: the point robot's split.
    "make_benchmark('point', seed=1)": [
        r'point 40 training tasks, 10 test tasks, 20 steps an episode',
        r'40 training environments'],
    # TCL's design: the core on any encoder, and TCL-MQL's logged TCL loss.
    'key_encoder.update(encoder)': [r'^TCL loss \d+\.\d+$'],
    "algo='tcl-mql'": [r'^TCL loss \d\S* accuracy [01]\S* meta-test return '
                       r'-?\d'],
}


def test_every_code_block_runs_here_or_is_marked_illustrative():
    unmarked = [f'{b.name}: a ```{b.language} block' for b in BLOCKS
                if not b.illustrative and b.language not in ('python',
                                                             'bash')]
    unmarked += [f'{b.name}: `{command}` is not a --help command'
                 for b in SHELL for command in commands(b)
                 if not command.endswith('--help')]
    assert not unmarked, (
        'these blocks do not run in tests/test_docs.py: mark each with '
        f'{ILLUSTRATIVE} on the line before its fence, or make it runnable '
        '(a Python example at smoke size, a --help command):\n'
        + '\n'.join(unmarked))
    for test in TUTORIALS.values():  # the tutorials' blocks run there
        assert (ROOT / test).is_file(), test
    # The collection itself finds what the pages hold.
    assert len(PYTHON) >= 6 and len(SHELL) >= 2
    assert any(b.page == README and b.language == 'python' for b in PYTHON)


def test_every_checked_output_belongs_to_one_runnable_block():
    for key in EXPECTED_OUTPUT:
        assert sum(key in b.code for b in PYTHON) == 1, key


@pytest.mark.parametrize('block', PYTHON, ids=[b.name for b in PYTHON])
def test_the_python_examples_run_as_written(block, tmp_path):
    """In a fresh interpreter, in an empty folder, as a user would paste
    them into a script."""
    script = tmp_path / 'example.py'
    script.write_text(block.code, encoding='utf-8')
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                            env=environment(tmp_path), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), 'an example prints what it did'
    for key, patterns in EXPECTED_OUTPUT.items():
        if key in block.code:
            for pattern in patterns:
                assert re.search(pattern, result.stdout, re.M), (
                    pattern, result.stdout[-2000:])


@pytest.mark.parametrize('block', SHELL, ids=[b.name for b in SHELL])
def test_the_help_commands_run_as_written(block, tmp_path):
    for command in commands(block):
        result = subprocess.run(['bash', '-c', command], cwd=ROOT,
                                env=environment(tmp_path),
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr[-3000:])
        assert result.stdout.startswith('usage:'), (command, result.stdout)


def test_the_readme_is_short_and_in_the_documented_order():
    text = README.read_text(encoding='utf-8')
    assert len(text.split('\n')) <= 250
    sections = re.findall(r'^## (.+)$', text, re.M)
    assert sections == ['Results', 'Install', 'Quick start',
                        'Algorithms and benchmarks', 'Documentation',
                        'Citation', 'License']
    assert re.search(r'^### Install with pip$', text, re.M)
    assert 'arXiv:2103.06386' in text


def test_the_readmes_relative_links_resolve():
    """The site's build checks the pages' links; the README is not one of
    its pages, so its links are checked here."""
    text = README.read_text(encoding='utf-8')
    links = re.findall(r'\]\(([^)#\s]+)(?:#[^)]*)?\)', text)
    local = [link for link in links if '://' not in link]
    assert len(local) >= 8
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, missing
