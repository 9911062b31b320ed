"""Analysis tools on synthetic inputs and on real smoke runs."""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tcl_garage.analysis import cluster_metrics, load_run, results_table
from tcl_garage.analysis.curves import plot_curves
from tcl_garage.analysis.table import final_return, to_csv, to_markdown
from tcl_garage.experiment import rundir
from tcl_garage.experiment.machine import cpu_model, describe_machine

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG = b'\x89PNG\r\n\x1a\n'


def test_cluster_metrics_exact_on_hand_made_clusters():
    # Task 0: points at (+-1, 0) around (0, 0); task 1: (10 +- 2, 0) around
    # (10, 0); task 2: (0, 10 +- 3) around (0, 10).
    points = np.array([[-1, 0], [1, 0], [8, 0], [12, 0], [0, 7], [0, 13]],
                      float)
    labels = np.array([0, 0, 1, 1, 2, 2])
    metrics = cluster_metrics(points, labels)
    assert metrics['intra_task_distance'] == pytest.approx((1 + 2 + 3) / 3)
    expected = (10 + 10 + np.sqrt(200)) / 3
    assert metrics['inter_centroid_distance'] == pytest.approx(expected)
    with pytest.raises(ValueError, match='two tasks'):
        cluster_metrics(points[:2], labels[:2])


def fake_run(root, name, benchmark, algo, steps, returns, success=None,
             drop=None, extra=None):
    seed = len(list(root.rglob('variant.json')))  # each run its own seed
    run = root / name
    run.mkdir(parents=True)
    (run / 'variant.json').write_text(json.dumps(
        {'config': {'benchmark': benchmark, 'algo': algo, 'seed': seed}}))
    columns = {'TotalEnvSteps': steps,
               'MetaTest/Average/AverageReturn': returns, **(extra or {})}
    if success is not None:
        columns['MetaTest/Average/SuccessRate'] = success
    if drop:
        del columns[drop]
    keys = list(columns)
    lines = [','.join(keys)] + [
        ','.join(str(columns[k][i]) for k in keys) for i in range(len(steps))
    ]
    (run / 'progress.csv').write_text('\n'.join(lines) + '\n')
    return run


def test_table_on_fabricated_runs_of_unequal_length(tmp_path):
    steps = [50_000 * i for i in range(1, 7)]  # last 100k: last 3 evals
    runs = [
        fake_run(tmp_path, 'a', 'cheetah-vel', 'pearl', steps,
                 [0, 0, 0, -10, -20, -30]),
        fake_run(tmp_path, 'b', 'cheetah-vel', 'tcl-pearl', steps[:4],
                 [0, -5, -5, -5]),  # shorter run: last 3 of its own
        fake_run(tmp_path, 'c', 'cheetah-vel', 'tcl-pearl', steps,
                 [0, 0, 0, -1, -2, -3]),
        fake_run(tmp_path, 'd', 'ant-dir', 'pearl', steps, [1] * 6),
        fake_run(tmp_path, 'e', 'ant-dir', 'tcl-pearl', steps, [2] * 6),
    ]
    loaded = [load_run(r) for r in runs]
    assert final_return(loaded[0]) == pytest.approx(-20)
    assert final_return(loaded[1]) == pytest.approx(-5)
    rows, summary = results_table(loaded)
    by_name = {row['benchmark']: row for row in rows}
    cheetah = by_name['cheetah-vel']
    assert cheetah['pearl'] == pytest.approx(-20)
    assert cheetah['tcl-pearl'] == pytest.approx((-5 + -2) / 2)
    assert cheetah['winner'] == 'tcl-pearl' and cheetah['seeds'] == 2
    assert cheetah['relative_gain'] == pytest.approx((-3.5 + 20) / 20)
    assert by_name['ant-dir']['relative_gain'] == pytest.approx(1.0)
    gains = [(-3.5 + 20) / 20, 1.0]
    assert summary['mean_gain'] == pytest.approx(np.mean(gains))
    assert summary['median_gain'] == pytest.approx(np.median(gains))
    assert summary['wins'] == {'tcl-pearl': 2}
    markdown = to_markdown(rows, summary)
    assert cheetah['pearl std'] == 0
    assert cheetah['tcl-pearl std'] == pytest.approx(1.5)  # seeds -5, -2
    assert ('| cheetah-vel | -20.00 ± 0.00 | -3.50 ± 1.50 | 2 | tcl-pearl | '
            '+82.5% |') in markdown
    assert to_csv(rows).splitlines()[0] == (
        'benchmark,pearl,pearl std,tcl-pearl,tcl-pearl std,seeds,winner,'
        'relative_gain')


def test_table_reports_success_rates_with_their_spread(tmp_path):
    steps = [100, 200]
    runs = [load_run(fake_run(tmp_path, f'r{i}', 'ml1/reach-v3', algo, steps,
                              [0, 1], success=[0, rate]))
            for i, (algo, rate) in enumerate([('pearl', 0.2), ('pearl', 0.6),
                                              ('tcl-pearl', 0.5)])]
    rows, summary = results_table(runs, last_steps=0)  # the last evaluation
    row = rows[0]
    assert row['pearl success'] == pytest.approx(0.4)
    assert row['pearl success std'] == pytest.approx(0.2)
    assert row['tcl-pearl success'] == pytest.approx(0.5)
    assert row['tcl-pearl success std'] == 0
    assert '| 0.40 ± 0.20 |' in to_markdown(rows, summary)


def test_missing_column_is_a_clear_error(tmp_path):
    run = fake_run(tmp_path, 'a', 'cheetah-vel', 'pearl', [1, 2], [0, 1],
                   drop='MetaTest/Average/AverageReturn')
    with pytest.raises(ValueError, match="no column 'MetaTest/Average/Aver"):
        results_table([load_run(run)])
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.analysis', 'table', str(run),
         '--out', str(tmp_path / 'res')], capture_output=True, text=True,
        cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().startswith('error:')
    assert result.stderr.strip().count('\n') == 0  # one line
    assert not (tmp_path / 'res.md').exists()


def test_curves_png_is_written(tmp_path):
    steps = [100, 200, 300]
    runs = [load_run(fake_run(tmp_path, f'r{i}', 'ml1/push-v3', algo, steps,
                              [i, i + 1, i + 2], success=[0, .5, 1]))
            for i, algo in enumerate(['pearl', 'pearl', 'tcl-pearl'])]
    out = plot_curves(runs, str(tmp_path / 'curves.png'))
    data = pathlib.Path(out).read_bytes()
    assert data[:8] == PNG and len(data) > 10_000


def test_curves_mean_and_band_over_seeds_and_readable_step_ticks(tmp_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from tcl_garage.analysis.curves import draw_curves
    steps = [50_000, 100_000, 150_000]
    runs = [load_run(fake_run(tmp_path, f'r{i}', 'cheetah-vel', 'pearl',
                              steps, [i, i + 2, i + 4]))
            for i in range(2)]
    figure, ax = plt.subplots()
    draw_curves(ax, runs)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [0.5, 2.5, 4.5])
    assert line.get_label() == 'pearl (2 seeds)'
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.0) and band.max() == \
        pytest.approx(5.0)  # mean +- one standard deviation (0.5)
    assert ax.xaxis.get_major_formatter()(150_000) == '150k'
    plt.close(figure)


def test_reproduce_smoke_runs_all_three_analyses(tmp_path):
    out = tmp_path / 'repro'
    result = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'reproduce.py'),
         '--preset', 'smoke', '--seeds', '1', '--out', str(out),
         '--embedding-tasks', '2', '--embedding-rollouts', '6'],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = (out / 'summary.md').read_text()
    assert 'relative_gain' in summary and 'inter-centroid' in summary
    assert (out / 'curves.png').read_bytes()[:8] == PNG
    for algo in ('tcl-pearl', 'pearl'):
        emb = out / 'embeddings' / algo
        assert (emb / 'embeddings_tsne.png').read_bytes()[:8] == PNG
        metrics = json.loads((emb / 'embeddings_metrics.json').read_text())
        assert metrics['latent']['intra_task_distance'] > 0
        assert metrics['num_tasks'] == 2
    assert (out / 'results.csv').read_text().startswith('benchmark,')


def test_learning_report_gives_each_runs_rise_and_the_seeds_spread(tmp_path):
    from tcl_garage.analysis.runs import first_and_last_mean, learning_report
    steps = list(range(1, 7))
    runs = [load_run(fake_run(tmp_path, f'r{i}', 'point', 'pearl', steps,
                              returns))
            for i, returns in enumerate([[-20, -20, -20, -10, -10, -10],
                                         [-22, -20, -18, -5, -6, -7]])]
    assert first_and_last_mean(runs[1]) == (-20, -6)
    report = learning_report(runs).splitlines()
    assert report[2] == '| point | pearl | 0 | -20.00 | -10.00 | +10.00 |'
    assert report[-1] == ('| point | pearl | mean ± std of 2 | -20.00 ± 0.00 '
                          '| -8.00 ± 2.00 | +12.00 ± 2.00 |')
    with pytest.raises(ValueError, match='logged 6 epochs; the first and '
                       'last 4 need 8'):
        first_and_last_mean(runs[0], epochs=4)


def test_training_report_gives_both_runs_statistics_and_their_gaps(
        tmp_path):
    from tcl_garage.analysis.training import (relative_gaps,
                                              training_gap_report,
                                              training_keys)
    steps = [1, 2, 3, 4]
    a = load_run(fake_run(tmp_path, 'fp32', 'point', 'tcl-pearl', steps,
                          [0] * 4, extra={
                              'Train/QLoss': [2., 4., 5., 10.],
                              'Train/KLLoss': [1., 1., 0., 1.],
                              'Train/TCLWindowSize': [8] * 4}))
    b = load_run(fake_run(tmp_path, 'bf16', 'point', 'tcl-pearl', steps,
                          [0] * 4, extra={
                              'Train/QLoss': [2., 5., 4., 11.],
                              'Train/KLLoss': [1.5, 1., 0.5, 1.],
                              'Train/TCLWindowSize': [8] * 4,
                              'Train/TCLLoss': [3.] * 4}))
    # Common statistics only; the window length is a setting, not learnt.
    assert training_keys([a, b]) == ['Train/KLLoss', 'Train/QLoss']
    gaps = relative_gaps(a, b)
    np.testing.assert_allclose(gaps['Train/QLoss'], [0., .25, .2, .1])
    # A zero reference has no relative gap (NaN, not infinity).
    np.testing.assert_allclose(gaps['Train/KLLoss'], [.5, 0., np.nan, 0.])
    report = training_gap_report(a, b).splitlines()
    assert report[3] == '| epoch | KLLoss (A / B) | QLoss (A / B) |'
    assert report[6] == '| 1 | 1 / 1 | 4 / 5 |'
    assert '| QLoss | 15 % | 25 % | 4 |' in report
    assert '| KLLoss | 0 % | 50 % | 3 |' in report
    c = load_run(fake_run(tmp_path, 'mql', 'point', 'mql', steps, [0] * 4))
    with pytest.raises(ValueError, match='share no Train/ column'):
        relative_gaps(a, c)


def test_training_command_compares_two_runs_and_fails_in_one_line(tmp_path):
    steps = [1, 2]
    a = fake_run(tmp_path, 'a', 'point', 'pearl', steps, [0, 0],
                 extra={'Train/QLoss': [1., 2.], 'Train/VLoss': [1., 1.]})
    b = fake_run(tmp_path, 'b', 'point', 'pearl', steps, [0, 0],
                 extra={'Train/QLoss': [1., 3.], 'Train/VLoss': [2., 2.]})
    analysis = [sys.executable, '-m', 'tcl_garage.analysis', 'training']
    done = subprocess.run(analysis + [str(a), str(b), '--keys', 'QLoss'],
                          capture_output=True, text=True, check=True)
    assert '| 1 | 2 / 3 |' in done.stdout
    assert '| QLoss | 25 % | 50 % | 2 |' in done.stdout
    assert 'VLoss' not in done.stdout
    bad = subprocess.run(analysis + [str(a), str(b), '--keys', 'PiLoss'],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().count('\n') == 0
    assert "has no column 'Train/PiLoss'" in bad.stderr


def test_ablation_report_compares_arms_with_intervals(tmp_path):
    from tcl_garage.analysis.ablation import write_ablation_report
    steps = [10_000 * i for i in range(1, 11)]  # last fifth: 80k to 100k
    dirs = {'pearl': [], 'tcl-pearl': [], 'tcl-other-tasks': []}
    for seed in range(4):
        for arm, level in (('pearl', 0.), ('tcl-pearl', 10.),
                           ('tcl-other-tasks', 100.)):
            algo = 'pearl' if arm == 'pearl' else 'tcl-pearl'
            training = {'Train/QLoss': [9.] * 8 + [seed + 1.] * 2}
            if arm != 'pearl':
                training['Train/TCLLoss'] = [2.] * 10
            if arm == 'tcl-other-tasks' and seed == 3:
                del training['Train/QLoss']  # as a record from before
            dirs[arm].append(fake_run(
                tmp_path / 'runs' / arm, f'seed{seed}', 'cheetah-dir', algo,
                steps, [level * i / 10 + seed for i in range(1, 11)],
                extra=training))
    text = write_ablation_report(dirs, tmp_path / 'report', 'cmd')
    rows = {}
    for line in text.splitlines():  # the first table's row of each arm
        if line.startswith(('| tcl-', '| pearl')):
            rows.setdefault(line.split(' | ')[0][2:], line.split(' | '))
    # tcl-other-tasks: last fifth = mean of 80, 90, 100 (+ s, s in 0..3).
    assert rows['tcl-other-tasks'][2].startswith('91.50 [')
    # It beats every run of both others: P = 1, interval [1, 1].
    assert rows['tcl-other-tasks'][5] == '1.00 [1.00, 1.00]'
    assert rows['tcl-other-tasks'][6].startswith('1.00 [1.00, 1.00]')
    assert rows['pearl'][5] == '-'  # no comparison with itself
    saved = json.loads((tmp_path / 'report' / 'results.json').read_text())
    assert [r['arm'] for r in saved] == list(dirs)
    assert (tmp_path / 'report' / 'curves.png').read_bytes()[:8] == PNG
    assert 'Seeds per arm to find a 10 % difference' in text
    # Training statistics over the last fifth (80k to 100k: the last three
    # epochs, 9, seed + 1, seed + 1), mean ± std over the 4 seeds; PEARL
    # logs no TCL loss; a seed without the column is left out, and said.
    qloss = (9 + 2 * np.arange(1., 5.)) / 3
    assert (f'| QLoss | {qloss.mean():.4g} ± {qloss.std():.2g} | '
            f'{qloss.mean():.4g} ± {qloss.std():.2g} | '
            f'{qloss[:3].mean():.4g} ± {qloss[:3].std():.2g} '
            '(3 of 4 seeds) |' in text)
    assert '| TCLLoss | - | 2 ± 0 | 2 ± 0 |' in text


def test_sweep_runs_arms_seed_by_seed_in_their_own_directories(tmp_path,
                                                               monkeypatch):
    from tcl_garage.experiment import sweep as sweep_module
    ran = []
    monkeypatch.setattr(sweep_module.subprocess, 'run',
                        lambda cmd, check: ran.append(cmd) or
                        type('Done', (), {'returncode': 0})())
    arms = [sweep_module.Arm('pearl', 'pearl'),
            sweep_module.Arm('tcl-neg', 'tcl-pearl',
                             ('--set', 'tcl_negatives=other-tasks'))]
    assert sweep_module.sweep(['cheetah-dir'], arms, [0, 1],
                              str(tmp_path), ['--quiet']) == []
    dirs = [cmd[cmd.index('--log-dir') + 1] for cmd in ran]
    assert dirs == [str(tmp_path / 'cheetah-dir' / arm / f'seed{seed}')
                    for seed in (0, 1) for arm in ('pearl', 'tcl-neg')]
    assert ran[1][-3:] == ['--quiet', '--set', 'tcl_negatives=other-tasks']
    assert ran[1][ran[1].index('--algo') + 1] == 'tcl-pearl'


def test_table_command_reports_intervals_and_improvement(tmp_path):
    steps = [100, 200, 300]
    runs = [fake_run(tmp_path, f'r{i}', 'cheetah-vel', algo, steps,
                     [i, i + 1, level + i])
            for i, (algo, level) in enumerate(
                [('pearl', 0), ('pearl', 0), ('tcl-pearl', 50),
                 ('tcl-pearl', 50)])]
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.analysis', 'table',
         *map(str, runs), '--out', str(tmp_path / 'res')],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / 'res.md').read_text()
    assert 'cheetah-vel: over seeds' in text
    tcl_row = next(line for line in text.splitlines()
                   if line.startswith('| tcl-pearl | 2 |'))
    assert tcl_row.split(' | ')[5] == '1.00 [1.00, 1.00]'  # P(> pearl)


def finished_fake_run(runs_dir, arm, seed, algo, returns, accuracy=None):
    """A run directory that rundir.status calls done: its config asks for as
    many epochs as progress.csv has, and a snapshot file is there."""
    run = runs_dir / 'cheetah-dir' / arm / f'seed{seed}'
    run.mkdir(parents=True)
    (run / 'variant.json').write_text(json.dumps(
        {'config': {'benchmark': 'cheetah-dir', 'algo': algo, 'seed': seed,
                    'epochs': len(returns)}}))
    (run / 'metadata.json').write_text(json.dumps({'githash': 'abcdef0' * 5}))
    rundir.append_machine(run, describe_machine())
    (run / 'params.pkl').write_bytes(b'snapshot')
    header = ['Epoch', 'TotalEnvSteps', 'MetaTest/Average/AverageReturn',
              'MetaTest/Average/StdReturn', 'Train/QfLoss'] + (
                  ['Train/TCLAccuracy'] if accuracy else [])
    lines = [','.join(header)] + [
        ','.join(str(v) for v in [i, 1000 * (i + 1), r, 1.5, 0.5 + i] +
                 ([accuracy] if accuracy else []))
        for i, r in enumerate(returns)]
    (run / 'progress.csv').write_text('\n'.join(lines) + '\n')
    return run


def test_a_record_keeps_what_the_report_reads_and_reads_back_as_a_run(
        tmp_path):
    from tcl_garage.analysis.records import (is_recorded, recorded_commit,
                                             write_record)
    run = finished_fake_run(tmp_path / 'runs', 'tcl-pearl', 0, 'tcl-pearl',
                            [1., 2., 3., 4., 5.], accuracy=0.7)
    record = tmp_path / 'record' / 'cheetah-dir' / 'tcl-pearl' / 'seed0'
    assert not is_recorded(record)
    write_record(run, record)
    assert is_recorded(record)
    assert sorted(p.name for p in record.iterdir()) == [
        'machine.json', 'metadata.json', 'record.csv',
        'variant.json']  # no snapshot, no log
    assert rundir.read_machines(record) == rundir.read_machines(run)
    assert rundir.read_machines(record)[0]['cpu'] == cpu_model()
    recorded, original = load_run(record), load_run(run)
    # Not read by reports: not kept.
    assert 'MetaTest/Average/StdReturn' not in recorded.columns
    with pytest.raises(ValueError, match=r'seed0/record\.csv has no column '
                       "'MetaTest/Average/StdReturn'"):
        recorded.column('MetaTest/Average/StdReturn')
    # The report's columns and every training statistic, value for value.
    for key in ('Epoch', 'TotalEnvSteps', 'MetaTest/Average/AverageReturn',
                'Train/TCLAccuracy', 'Train/QfLoss'):
        np.testing.assert_array_equal(recorded.column(key),
                                      original.column(key))
    assert recorded.config == original.config
    assert recorded_commit(record) == 'abcdef0'
    write_record(run, record)  # the same run again: allowed, unchanged
    assert load_run(record).columns.keys() == recorded.columns.keys()


def test_a_record_is_never_made_of_an_unfinished_run_nor_overwritten(
        tmp_path):
    from tcl_garage.analysis.records import write_record
    run = finished_fake_run(tmp_path / 'runs', 'pearl', 0, 'pearl', [1., 2.])
    other = finished_fake_run(tmp_path / 'runs', 'pearl', 1, 'pearl',
                              [7., 8.])
    record = tmp_path / 'record'
    write_record(run, record)
    before = (record / 'record.csv').read_text()
    with pytest.raises(ValueError, match='already records another run'):
        write_record(other, record)
    assert (record / 'record.csv').read_text() == before
    (other / 'params.pkl').unlink()  # no snapshot: not a finished run
    with pytest.raises(ValueError, match='is not a finished run'):
        write_record(other, tmp_path / 'record2')
    assert not (tmp_path / 'record2').exists()


def fake_embedding_metrics(intra: float, inter: float) -> dict:
    """What analyse_embeddings returns, with chosen values."""
    metrics = {'intra_task_distance': intra, 'inter_centroid_distance': inter}
    return {'latent': dict(metrics),
            'tsne': {k: 10 * v for k, v in metrics.items()},
            'num_tasks': 2, 'rollouts': 50, 'window_size': 32}


def test_embedding_metrics_are_kept_in_their_record_and_never_replaced(
        tmp_path):
    from tcl_garage.analysis.records import (record_embedding_metrics,
                                             recorded_embedding_metrics,
                                             write_record)
    run = finished_fake_run(tmp_path / 'runs', 'pearl', 0, 'pearl', [1., 2.])
    record = tmp_path / 'record'
    with pytest.raises(ValueError, match='holds no recorded run'):
        record_embedding_metrics(record, fake_embedding_metrics(1., 2.))
    assert not record.exists()
    write_record(run, record)
    assert recorded_embedding_metrics(record) is None
    record_embedding_metrics(record, fake_embedding_metrics(1.25, 2.5))
    assert recorded_embedding_metrics(record) == fake_embedding_metrics(
        1.25, 2.5)
    record_embedding_metrics(record, fake_embedding_metrics(1.25, 2.5))
    with pytest.raises(ValueError, match='already holds other embedding'):
        record_embedding_metrics(record, fake_embedding_metrics(9., 2.5))
    assert recorded_embedding_metrics(record)['latent'][
        'intra_task_distance'] == 1.25


def test_ablation_reports_the_cluster_metrics_of_seeds_measured_elsewhere(
        tmp_path):
    # Both seeds' runs and embedding metrics were recorded by machines that
    # are gone: --embeddings reads them from the record, measures nothing.
    from tcl_garage.analysis.records import (record_embedding_metrics,
                                             write_record)
    record = tmp_path / 'record'
    for seed, intra in ((0, 1.), (1, 3.)):
        for arm in ('pearl', 'tcl-pearl'):
            run = finished_fake_run(tmp_path / 'gone' / 'runs', arm, seed,
                                    arm, [seed + i for i in range(10)])
            kept = record / 'cheetah-dir' / arm / f'seed{seed}'
            write_record(run, kept)
            record_embedding_metrics(kept, fake_embedding_metrics(
                intra + (arm == 'tcl-pearl'), 4.))
    out = tmp_path / 'here'
    subprocess.run([sys.executable, str(ROOT / 'experiments' / 'ablation.py'),
                    '--env', 'cheetah-dir', '--seeds', '2', '--arms', 'pearl',
                    'tcl-pearl', '--record', str(record), '--out', str(out),
                    '--analyse-only', '--embeddings'],
                   check=True, capture_output=True, text=True)
    text = (out / 'cheetah-dir' / 'results.md').read_text()
    # pearl's latent intra distances 1 and 3: mean 2, population std 1.
    assert '| pearl | 2 | latent | 2.00 ± 1.00 | 4.00 ± 0.00 |' in text
    assert '| tcl-pearl | 2 | tsne | 30.00 ± 10.00 | 40.00 ± 0.00 |' in text
    saved = json.loads((out / 'cheetah-dir' / 'results.json').read_text())
    assert saved[1]['clusters']['latent']['intra_task_distance'] == [3., 1.]
    assert not (out / 'cheetah-dir' / 'embeddings').exists()


def test_an_arm_mixing_runs_of_two_settings_is_refused_in_one_line(
        tmp_path):
    # Seed 1 was recorded from a run with another window: one arm must not
    # average the two.
    record = tmp_path / 'record'
    for seed in (0, 1):
        run = finished_fake_run(tmp_path / 'runs', 'tcl-pearl', seed,
                                'tcl-pearl', [float(i) for i in range(10)])
        variant = json.loads((run / 'variant.json').read_text())
        variant['config']['window_size'] = 32 if seed == 0 else 64
        (run / 'variant.json').write_text(json.dumps(variant))
    done = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'ablation.py'), '--env',
         'cheetah-dir', '--seeds', '2', '--arms', 'tcl-pearl', '--record',
         str(record), '--out', str(tmp_path), '--analyse-only'],
        capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count('\n') == 1
    assert done.stderr.startswith('error: arm tcl-pearl mixes runs of '
                                  'different settings: window_size is 32')
    assert not (tmp_path / 'cheetah-dir' / 'results.md').exists()


def test_sweep_skips_the_runs_a_record_holds(tmp_path, monkeypatch):
    from tcl_garage.experiment import sweep as sweep_module
    ran = []
    monkeypatch.setattr(sweep_module.subprocess, 'run',
                        lambda cmd, check: ran.append(cmd) or
                        type('Done', (), {'returncode': 0})())
    arms = [sweep_module.Arm('pearl', 'pearl'),
            sweep_module.Arm('tcl-pearl', 'tcl-pearl')]
    sweep_module.sweep(['cheetah-dir'], arms, [0, 1], str(tmp_path),
                       skip={('cheetah-dir', 'pearl', 0),
                             ('cheetah-dir', 'tcl-pearl', 1)})
    dirs = [cmd[cmd.index('--log-dir') + 1] for cmd in ran]
    assert dirs == [str(tmp_path / 'cheetah-dir' / 'tcl-pearl' / 'seed0'),
                    str(tmp_path / 'cheetah-dir' / 'pearl' / 'seed1')]


def test_sweep_hands_over_each_finished_run_before_the_next_starts(
        tmp_path, monkeypatch):
    # A study cut short (a session's end) keeps what on_finished recorded:
    # each run that finished is handed over at once; a failed run and a run
    # that exits 0 without all its epochs are not.
    from tcl_garage.experiment import sweep as sweep_module
    events = []

    def fake_run(cmd, check):
        directory = pathlib.Path(cmd[cmd.index('--log-dir') + 1])
        events.append(('ran', directory.parent.name, directory.name))
        arm = directory.parent.name
        if arm != 'broken':
            finished_fake_run(tmp_path, arm, int(directory.name[4:]), arm,
                              [1., 2.] if arm == 'pearl' else [1.])
            if arm == 'stopped':  # asks for 5 epochs, logged 1
                variant = directory / 'variant.json'
                variant.write_text(variant.read_text().replace(
                    '"epochs": 1', '"epochs": 5'))
        return type('Done', (), {'returncode': 1 if arm == 'broken'
                                 else 0})()

    monkeypatch.setattr(sweep_module.subprocess, 'run', fake_run)
    arms = [sweep_module.Arm(name, 'pearl')
            for name in ('pearl', 'broken', 'stopped')]
    failed = sweep_module.sweep(
        ['cheetah-dir'], arms, [0, 1], str(tmp_path),
        on_finished=lambda d: events.append(('finished', d.parent.name,
                                             d.name)))
    assert failed == [str(tmp_path / 'cheetah-dir' / 'broken' / f'seed{s}')
                      for s in (0, 1)]
    assert events == [
        ('ran', 'pearl', 'seed0'), ('finished', 'pearl', 'seed0'),
        ('ran', 'broken', 'seed0'), ('ran', 'stopped', 'seed0'),
        ('ran', 'pearl', 'seed1'), ('finished', 'pearl', 'seed1'),
        ('ran', 'broken', 'seed1'), ('ran', 'stopped', 'seed1')]


def _ablation_script():
    """experiments/ablation.py as a module (it is a script, not a package
    module)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'ablation_script', ROOT / 'experiments' / 'ablation.py')
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_ablation_study_in_parts_adds_up_through_its_record(tmp_path):
    # Part 1 (a machine that is then lost) finished seed 0 of both arms;
    # part 2 (another machine) finished seed 1. The report of part 2 holds
    # all four runs, read from the record.
    out1, out2, record = tmp_path / 'part1', tmp_path / 'part2', \
        tmp_path / 'record'
    for out, seed in ((out1, 0), (out2, 1)):
        for arm, level in (('pearl', 0.), ('tcl-pearl', 10.)):
            finished_fake_run(out / 'runs', arm, seed, arm,
                              [level + seed + i for i in range(10)])
    script = [sys.executable, str(ROOT / 'experiments' / 'ablation.py'),
              '--env', 'cheetah-dir', '--seeds', '2', '--arms', 'pearl',
              'tcl-pearl', '--record', str(record), '--analyse-only']
    for out in (out1, out2):
        subprocess.run(script + ['--out', str(out)], check=True,
                       capture_output=True, text=True)
    for arm in ('pearl', 'tcl-pearl'):
        assert sorted(p.name for p in (record / 'cheetah-dir' / arm)
                      .iterdir()) == ['seed0', 'seed1']
    saved = json.loads((out2 / 'cheetah-dir' / 'results.json').read_text())
    assert {r['arm']: r['seeds'] for r in saved} == {'pearl': 2,
                                                     'tcl-pearl': 2}
    # last fifth of 10 epochs at 1000 steps each: epochs 8-10 (8000-10000).
    assert {r['arm']: r['returns'] for r in saved} == {
        'pearl': [8.0, 9.0], 'tcl-pearl': [18.0, 19.0]}
    text = (out2 / 'cheetah-dir' / 'results.md').read_text()
    assert 'Code: abcdef0 (4 runs).' in text
    # Without --analyse-only nothing is run again: every run is recorded.
    done = subprocess.run(script[:-1] + ['--out', str(tmp_path / 'part3')],
                          check=True, capture_output=True, text=True)
    assert 'nothing to run' in done.stdout


def test_ablation_records_each_run_as_soon_as_it_finishes(tmp_path,
                                                          monkeypatch):
    # The sweep is replaced by one that "runs" pearl then tcl-pearl of seed
    # 0; when tcl-pearl starts, pearl must already be in the record, with
    # its cluster metrics (--embeddings; measured by a stand-in here).
    from tcl_garage.analysis import embeddings
    from tcl_garage.analysis.records import recorded_embedding_metrics
    script = _ablation_script()
    record = tmp_path / 'record' / 'cheetah-dir'
    seen_by_second, measured = [], []

    def fake_sweep(benchmarks, arms, seeds, runs_dir, launcher_args,
                   parallel, skip, on_finished):
        for arm in arms:
            if arm.name == 'tcl-pearl':
                seen_by_second.extend(sorted(
                    str(p.relative_to(record)) for p in record.glob('*/*')))
                seen_by_second.append(recorded_embedding_metrics(
                    record / 'pearl' / 'seed0'))
            on_finished(finished_fake_run(pathlib.Path(runs_dir), arm.name,
                                          0, arm.algo, [1., 2., 3., 4., 5.]))
        return []

    def fake_analyse(run_dir, out_dir, num_tasks, rollouts):
        measured.append(pathlib.Path(run_dir).parent.name)
        return fake_embedding_metrics(2. if 'tcl' in run_dir else 1., 4.)

    monkeypatch.setattr(script, 'sweep', fake_sweep)
    monkeypatch.setattr(embeddings, 'analyse_embeddings', fake_analyse)
    monkeypatch.setattr(sys, 'argv', [
        'ablation.py', '--env', 'cheetah-dir', '--seeds', '1', '--arms',
        'pearl', 'tcl-pearl', '--out', str(tmp_path / 'out'), '--record',
        str(tmp_path / 'record'), '--embeddings'])
    script.main()
    assert seen_by_second == ['pearl/seed0', fake_embedding_metrics(1., 4.)]
    assert sorted(str(p.relative_to(record))
                  for p in record.glob('*/*')) == ['pearl/seed0',
                                                   'tcl-pearl/seed0']
    assert measured == ['pearl', 'tcl-pearl']  # once each, not at the end


def test_every_ablation_arm_resolves_to_a_valid_config_that_holds_its_settings():
    from tcl_garage.experiment import load_config
    from tcl_garage.experiment.config import parse_overrides
    script = _ablation_script()
    for arm in script.ARMS.values():
        pairs = arm.launcher_args[1::2]  # ('--set', 'k=v', '--set', ...)
        assert all(flag == '--set' for flag in arm.launcher_args[::2])
        overrides = parse_overrides(pairs)
        config = load_config('cheetah-vel', arm.algo, 'cpu-hour', overrides)
        assert config['algo'] == arm.algo
        for key, value in overrides.items():  # blocks come nested
            if isinstance(value, dict):
                assert {k: config[key][k] for k in value} == value
            else:
                assert config[key] == value
    assert script.ARMS['tcl-pearl-bf16'].launcher_args == (
        '--set', 'precision=bf16')
    assert script.ARMS['tcl-pearl-fused-adam'].launcher_args == (
        '--set', 'adam=fused')


def test_ablation_set_reaches_every_arms_runs_after_the_profile(tmp_path,
                                                                monkeypatch):
    script = _ablation_script()
    seen = {}

    def fake_sweep(benchmarks, arms, seeds, runs_dir, launcher_args,
                   parallel, skip, on_finished):
        seen['arms'] = [arm.name for arm in arms]
        seen['args'] = list(launcher_args)
        return ['stop here']  # nothing ran: the study ends with its error

    monkeypatch.setattr(script, 'sweep', fake_sweep)
    monkeypatch.setattr(sys, 'argv', [
        'ablation.py', '--env', 'point', '--profile', 'demo', '--seeds', '1',
        '--set', 'num_test_tasks=4', '--set', 'mql.history_length=6',
        '--arms', 'mql', 'td3-context', 'tcl-mql', '--out',
        str(tmp_path / 'out')])
    with pytest.raises(SystemExit):
        script.main()
    assert seen['arms'] == ['mql', 'td3-context', 'tcl-mql']
    assert seen['args'] == ['--quiet', '--profile', 'demo', '--set',
                            'num_test_tasks=4', '--set',
                            'mql.history_length=6']


@pytest.mark.parametrize('setting, message', [
    ('num_test_taks=4', 'num_test_taks=4: unknown config key'),
    ('mql.adapt=true', 'arm td3-context sets it itself'),
    ('mql.history_length=20', 'set mql.history_length <= 19'),
])
def test_ablation_refuses_a_bad_study_setting_before_any_run(
        tmp_path, setting, message):
    result = subprocess.run(
        [sys.executable, str(ROOT / 'experiments' / 'ablation.py'), '--env',
         'point', '--profile', 'demo', '--seeds', '1', '--arms', 'mql',
         'td3-context', 'tcl-mql', '--set', setting, '--out',
         str(tmp_path / 'out')],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / 'out').exists()


def test_class_success_summary_and_curves_of_sparse_per_class_columns(
        tmp_path):
    from tcl_garage.analysis.classes import (class_success_rows,
                                             plot_class_success,
                                             trailing_mean)
    nan = float('nan')
    extra = {'MetaTrain/push-v3/SuccessRate': [0.5, nan, 0.0, nan, 1.0],
             'MetaTrain/reach-v3/SuccessRate': [nan, 0.25, nan, nan, nan],
             'MetaTrain/Average/SuccessRate': [0.5, 0.25, 0.0, nan, 1.0],
             'MetaTest/door-close-v3/SuccessRate': [0, 1, 1, 0, 0],
             'MetaTest/Average/SuccessRate': [0, 1, 1, 0, 0]}
    run = load_run(fake_run(tmp_path, 'a', 'ml10', 'pearl',
                            [100, 200, 300, 400, 500], [1, 2, 3, 4, 5],
                            extra=extra))
    rows = {(row['group'], row['class']): row
            for row in class_success_rows([run])}
    push = rows['MetaTrain', 'push-v3']
    assert (push['epochs'], push['final'], push['best']) == (3, 1.0, 1.0)
    assert push['mean'] == pytest.approx(0.5)
    assert push['last'] == 1.0  # the last fifth: the last epoch
    reach = rows['MetaTrain', 'reach-v3']
    assert (reach['epochs'], reach['final']) == (1, 0.25)
    assert np.isnan(reach['last'])
    door = rows['MetaTest', 'door-close-v3']
    assert (door['final'], door['best'], door['mean']) == (0.0, 1.0, 0.4)
    assert list(rows)[:3] == [('MetaTrain', 'push-v3'),
                              ('MetaTrain', 'reach-v3'),
                              ('MetaTrain', 'Average')]
    # trailing means skip the empty epochs
    np.testing.assert_allclose(
        trailing_mean(np.array(extra['MetaTrain/push-v3/SuccessRate']), 2),
        [0.5, 0.5, 0.25, 0.25, 0.5])
    out = plot_class_success([run], str(tmp_path / 'classes.png'), window=2)
    assert pathlib.Path(out).read_bytes()[:8] == PNG
    plain = load_run(fake_run(tmp_path, 'b', 'cheetah-vel', 'pearl',
                              [100], [1.0]))
    with pytest.raises(ValueError, match='no <group>/<class>/SuccessRate'):
        class_success_rows([plain])


def test_classes_command_writes_the_png_and_csv_or_fails_in_one_line(
        tmp_path):
    extra = {'MetaTest/door-close-v3/SuccessRate': [0, 1],
             'MetaTest/Average/SuccessRate': [0, 1]}
    run = fake_run(tmp_path, 'a', 'ml10', 'tcl-pearl', [100, 200], [1, 2],
                   extra=extra)
    out = tmp_path / 'summary'
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.analysis', 'classes', str(run),
         '--out', str(out), '--window', '1'], capture_output=True,
        text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'summary.png').read_bytes()[:8] == PNG
    assert ('tcl-pearl,0,MetaTest,door-close-v3,2,1.000,1.000,1.000,0.500'
            in (tmp_path / 'summary.csv').read_text())
    plain = fake_run(tmp_path, 'b', 'cheetah-vel', 'pearl', [100], [1.0])
    result = subprocess.run(
        [sys.executable, '-m', 'tcl_garage.analysis', 'classes', str(plain),
         '--out', str(tmp_path / 'none')], capture_output=True, text=True,
        cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and 'error:' in result.stderr
    assert not (tmp_path / 'none.csv').exists()
