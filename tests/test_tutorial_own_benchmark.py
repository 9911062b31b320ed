"""docs/tutorial-own-benchmark.md runs as written: its files are written,
its Python and shell blocks run in order in an empty folder, and the runs it
starts on its registered benchmark exist, log, resume and are analysed."""
import json
import os
import pathlib
import re
import subprocess
import sys

from tcl_garage.experiment.rundir import progress_rows

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / 'docs' / 'tutorial-own-benchmark.md'


def tutorial_blocks():
    """The tutorial's fenced blocks: (language, text), in order."""
    return re.findall(r'```(\w+)\n(.*?)```', TUTORIAL.read_text(), re.S)


def run_tutorial(folder: pathlib.Path) -> None:
    """Write the tutorial's files and run its blocks in ``folder``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               PATH=f'{pathlib.Path(sys.executable).parent}:'
               f'{os.environ.get("PATH", "")}')
    env.pop('TCL_GARAGE_BENCHMARKS', None)
    for language, text in tutorial_blocks():
        first = text.splitlines()[0]
        named = re.fullmatch(r'# ([\w.-]+\.(py|yaml))', first)
        if named:
            (folder / named.group(1)).write_text(text)
            continue
        command = ([sys.executable, '-c', text] if language == 'python' else
                   ['bash', '-e', '-c', text])
        result = subprocess.run(command, cwd=folder, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (text, result.stderr[-3000:])


def test_the_tutorial_trains_resumes_and_analyses_its_own_benchmark(
        tmp_path):
    languages = [language for language, _ in tutorial_blocks()]
    assert languages.count('bash') == 2 and 'yaml' in languages
    run_tutorial(tmp_path)
    runs = tmp_path / 'runs' / 'pendulum-mass'
    pearl, tcl = runs / 'pearl' / 'seed0', runs / 'tcl-pearl' / 'seed0'
    assert len(progress_rows(pearl)) == 2
    rows = progress_rows(tcl)
    assert len(rows) == 3  # two epochs, then one more after --resume
    assert all(float(row['Train/TCLLoss']) > 0 for row in rows)
    assert [int(float(row['MetaTest/Average/Iteration']))
            for row in rows] == [0, 1, 2]
    for run in (pearl, tcl):
        variant = json.loads((run / 'variant.json').read_text())
        assert variant['benchmark_module'] == 'pendulum_mass'
        assert variant['config']['benchmark'] == 'pendulum-mass'
        assert variant['config']['latent_dim'] == 2  # the benchmark's file
        assert (run / 'params.pkl').is_file()
    # The resume was a new process without TCL_GARAGE_BENCHMARKS.
    assert 'Resuming' in (tcl / 'debug.log').read_text()
    metrics = json.loads((tcl / 'embeddings_metrics.json').read_text())
    assert metrics['num_tasks'] == 2 and metrics['rollouts'] == 4
