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


def test_the_tcl_mql_example_runs_and_logs_its_tcl_loss():
    out = run_block("algo='tcl-mql'", """
import math
assert len(progress_rows(run_dir)) == 3
assert math.isfinite(float(last['Train/TCLLoss']))
assert 0 <= float(last['Train/TCLAccuracy']) <= 1
print('checked')
""")
    assert 'TCL loss' in out and out.strip().endswith('checked')


def test_using_tcl_pearl_example_builds():
    out = run_block('build_pearl', 'print(type(algo).__name__)')
    assert out.split()[-1] == 'TCLPEARL'
