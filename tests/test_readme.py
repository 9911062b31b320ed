"""The README's examples run as written, each in a fresh interpreter."""
import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).parent.parent / 'README.md'


def python_block(marker):
    blocks = re.findall(r'```python\n(.*?)```', README.read_text(), re.S)
    return next(b for b in blocks if marker in b)


def run_block(marker, checks):
    code = python_block(marker) + '\n' + checks
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_tcl_in_another_algorithm_example_learns():
    # Chance top-1 accuracy with 16 windows is 1/16; the loss starts near
    # log(16) = 2.77. The key encoder moves only by EMA, never by gradient.
    out = run_block('GRUWindowEncoder', """
assert accuracy.item() >= 0.5, accuracy
assert loss.item() < 2.0, loss
assert all(p.grad is None for p in key_encoder.parameters())
print('checked')
""")
    assert 'TCL loss' in out and out.strip().endswith('checked')


def test_using_tcl_pearl_example_builds():
    out = run_block('build_pearl', 'print(type(algo).__name__)')
    assert out.split()[-1] == 'TCLPEARL'
