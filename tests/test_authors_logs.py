"""Reading the TCL authors' ML1 logs and comparing PEARL with TCL-PEARL at
matched environment steps (tcl_garage.analysis.authors_logs), on tiny
fabricated run folders laid out as in the authors' fork."""
import json

import pytest

from tcl_garage.analysis import authors_logs
from tcl_garage.analysis.authors_logs import (authors_score, authors_winner,
                                              compare, env_of, launcher_gap,
                                              parse_window,
                                              read_algorithm,
                                              read_logged_run, sign_test,
                                              summarise, variant_differences)

STEP = 100


def _run(folder, returns, success=None, first=STEP, **variant):
    """A run folder as the fork writes it: CRLF lines, the environment's own
    columns beside the averages, variant.json."""
    folder.mkdir(parents=True)
    env = env_of(folder.name)
    header = [f'MetaTest/{env}/AverageReturn', 'TotalEnvSteps',
              'MetaTest/Average/AverageReturn']
    if success is not None:
        header.append('MetaTest/Average/SuccessRate')
    lines = [','.join(header)]
    for i, value in enumerate(returns):
        row = [value, first + i * STEP, value]
        if success is not None:
            row.append(success[i])
        lines.append(','.join(str(x) for x in row))
    (folder / 'progress.csv').write_bytes('\r\n'.join(lines).encode() +
                                          b'\r\n')
    (folder / 'variant.json').write_text(json.dumps(
        dict({'name': env, 'gpu_id': 0}, **variant)))
    return folder


def _results(tmp_path):
    """PEARL: two runs of push-v1 (one stopped after 3 evaluations) and one
    of reach-v1; TCL-PEARL: two of push-v1, one of reach-v1 and a copy."""
    root = tmp_path / 'results'
    _run(root / 'pearl/push-v1', [1, 2, 3, 4], [0, 0, 0, 1], seed=0,
         embedding_batch_size=64)
    _run(root / 'pearl/push-v1_1', [3, 4, 5], [0, 0, 1], seed=31,
         embedding_batch_size=64, prefix='suit')
    _run(root / 'pearl/reach-v1', [10, 10, 10, 10], [1, 1, 1, 1], seed=31,
         embedding_batch_size=64, prefix='suit')
    _run(root / 'tcl-pearl/push-v1', [2, 4, 6, 8], [0, 1, 1, 1], seed=31,
         embedding_batch_size=128, reward_scale=10, prefix='tcl')
    _run(root / 'tcl-pearl/push-v1_1', [2, 4, 6, 10], [0, 1, 1, 1],
         seed=32, embedding_batch_size=128, reward_scale=10, prefix='tcl')
    _run(root / 'tcl-pearl/reach-v1', [5, 5, 5, 5], [1, 1, 1, 1], seed=31,
         embedding_batch_size=128, reward_scale=10, prefix='tcl')
    copy = root / 'tcl-pearl/reach-v1_1'
    copy.mkdir()
    for name in ('progress.csv', 'variant.json'):
        (copy / name).write_bytes((root / 'tcl-pearl/reach-v1' /
                                   name).read_bytes())
    return root


def test_a_run_folder_reads_with_crlf_lines_and_its_environment_from_the_name(
        tmp_path):
    run = read_logged_run(_run(tmp_path / 'push-v1_2', [1.5, 2.5],
                               [0, 1], seed=7))
    assert run.env == 'push-v1' and run.folder == 'push-v1_2'
    assert run.seed == 7
    assert run.steps.tolist() == [100, 200]
    assert run.returns.tolist() == [1.5, 2.5]
    assert run.success.tolist() == [0, 1]
    assert 'MetaTest/push-v1/AverageReturn' in run.columns
    assert env_of('button-press-topdown-v1') == 'button-press-topdown-v1'


def test_a_byte_identical_copy_is_dropped_and_named(tmp_path):
    runs, copies = read_algorithm(_results(tmp_path) / 'tcl-pearl')
    assert copies == [('reach-v1_1', 'reach-v1')]
    assert [r.folder for r in runs['reach-v1']] == ['reach-v1']
    assert [r.folder for r in runs['push-v1']] == ['push-v1', 'push-v1_1']


def test_window_means_count_only_the_runs_that_reached_the_window_end(
        tmp_path):
    root = _results(tmp_path)
    pearl, _ = read_algorithm(root / 'pearl')
    tcl, _ = read_algorithm(root / 'tcl-pearl')
    # Steps 100..400; window (100, 300]: evaluations at 200 and 300.
    early = {row.env: row for row in compare(pearl, tcl, 100, 300)}
    assert early['push-v1'].pearl.values == (2.5, 4.5)
    assert early['push-v1'].tcl.values == (5.0, 5.0)
    assert early['push-v1'].tcl.success == (1.0, 1.0)
    # Window (300, 400]: the run stopped at 300 no longer counts.
    late = {row.env: row for row in compare(pearl, tcl, 300, 400)}
    assert late['push-v1'].pearl.values == (4.0,)
    assert late['push-v1'].pearl.seeds == (0,)
    assert late['push-v1'].tcl.mean == pytest.approx(9.0)
    assert late['push-v1'].gain == pytest.approx((9 - 4) / 4)
    assert late['push-v1'].gap_in_errors is None  # one PEARL run
    assert late['reach-v1'].gain == pytest.approx(-0.5)
    # Seeds both ran: PEARL's seed-0 run and TCL's seed-32 run leave.
    same = {row.env: row for row in compare(pearl, tcl, 100, 300,
                                            same_seeds=True)}
    assert same['push-v1'].pearl.values == (4.5,)
    assert same['push-v1'].tcl.seeds == (31,)


def test_the_summary_counts_wins_gains_and_separated_gaps(tmp_path):
    root = _results(tmp_path)
    pearl, _ = read_algorithm(root / 'pearl')
    tcl, _ = read_algorithm(root / 'tcl-pearl')
    rows = compare(pearl, tcl, 100, 300)
    summary = summarise(rows)
    assert summary['compared'] == 2
    assert (summary['tcl_wins'], summary['pearl_wins']) == (1, 1)
    assert summary['sign_p'] == 1.0
    # push-v1: TCL 5.0 +- 0 against PEARL 3.5 +- 1 (SE): 1.5 SE, not clear.
    push = [row for row in rows if row.env == 'push-v1'][0]
    assert push.gap_in_errors == pytest.approx(1.5)
    assert (summary['tcl_clear'], summary['pearl_clear']) == (0, 0)
    gains = [(5 - 3.5) / 3.5, -0.5]
    assert summary['mean_gain'].value == pytest.approx(sum(gains) / 2)
    assert summary['median_gain'].value == pytest.approx(sum(gains) / 2)
    assert summary['mean_gain'].low <= summary['mean_gain'].value
    assert summary['single_run'] == 1  # reach-v1 has one run a side
    assert (summary['success_tcl'], summary['success_pearl']) == (1, 0)
    assert summary['success_none'] == 0
    assert summary['success_means'] == pytest.approx((1.0, 0.625))


def test_an_algorithms_two_launchers_are_compared_where_both_ran(tmp_path):
    pearl, _ = read_algorithm(_results(tmp_path) / 'pearl')
    # push-v1: the run without a prefix 2.5, the 'suit' run 4.5 over
    # (100, 300]; reach-v1 has only a 'suit' run.
    first, second, above, envs, median = launcher_gap(pearl, 100, 300)
    assert (first, second, above, envs) == ('(no prefix)', 'suit', 0, 1)
    assert median == pytest.approx((2.5 - 4.5) / 4.5)
    tcl, _ = read_algorithm(_results(tmp_path / 'again') / 'tcl-pearl')
    assert launcher_gap(tcl, 100, 300) is None  # one launcher


def test_the_sign_test_is_the_exact_two_sided_binomial():
    assert sign_test(3, 0) == pytest.approx(0.25)
    assert sign_test(0, 5) == pytest.approx(0.0625)
    assert sign_test(2, 2) == 1.0
    assert sign_test(0, 0) == 1.0
    # 19 of 25: 2 * P(X <= 6), X ~ Bin(25, 1/2).
    assert sign_test(19, 6) == pytest.approx(0.014633, abs=1e-6)


def test_the_authors_rule_cuts_to_the_shortest_run_and_skips_the_last_point(
        tmp_path):
    long_run = read_logged_run(_run(tmp_path / 'a', [0, 2, 4, 6, 8]))
    short_run = read_logged_run(_run(tmp_path / 'b', [2, 4, 6]))
    # Averaged curve over the first 3 evaluations: 1, 3, 5 at 100..300.
    # Limit 300: last index 2; score = mean(curve[0:2]) = 2.
    assert authors_score([long_run, short_run], 300) == pytest.approx(2.0)
    assert authors_score([long_run, short_run], 250, window=1) == (
        pytest.approx(1.0))
    with pytest.raises(ValueError, match='no evaluation'):
        authors_score([long_run], 50)


def test_the_authors_winner_gives_ties_and_scores_below_zero_to_the_first():
    assert authors_winner([-5.0, -1.0]) == 0
    assert authors_winner([0.0, 0.0]) == 0
    assert authors_winner([3.0, 3.0]) == 0
    assert authors_winner([1.0, 2.0]) == 1
    assert authors_winner([-1.0, 0.5]) == 1


def test_variant_differences_name_values_and_unlogged_settings_only(
        tmp_path):
    root = _results(tmp_path)
    pearl, _ = read_algorithm(root / 'pearl')
    tcl, _ = read_algorithm(root / 'tcl-pearl')
    groups = {'pearl': [r for rs in pearl.values() for r in rs],
              'tcl': [r for rs in tcl.values() for r in rs]}
    differences = dict(variant_differences(groups))
    assert differences['embedding_batch_size'] == {'pearl': '64',
                                                   'tcl': '128'}
    assert differences['reward_scale'] == {'pearl': 'not logged',
                                           'tcl': '10'}
    assert differences['seed'] == {'pearl': '0/31', 'tcl': '31/32'}
    assert not {'name', 'gpu_id', 'prefix'} & set(differences)


def test_windows_parse_and_a_bad_window_is_a_clear_error():
    assert parse_window('0:0.5e6', 2.6e6) == (0.0, 5e5)
    assert parse_window('last:0.5e6', 2.6e6) == (2.1e6, 2.6e6)
    with pytest.raises(ValueError, match='LOW:HIGH'):
        parse_window('half', 1.0)
    with pytest.raises(ValueError, match='HIGH must exceed'):
        parse_window('5:1', 1.0)


def test_the_command_prints_every_window_and_fails_in_one_line(
        tmp_path, capsys):
    root = _results(tmp_path)
    authors_logs.main([str(root), '--windows', '100:300', 'last:100'])
    out = capsys.readouterr().out
    assert '## Steps (100, 300]' in out and '## Steps (300, 400]' in out
    assert 'reach-v1_1: a byte-identical copy of reach-v1' in out
    assert '| push-v1 | 3.5 (0.25) [2] | 5.0 (1.00) [2] | TCL-PEARL |' in out
    assert '| embedding_batch_size |' in out
    before = sorted(p.name for p in tmp_path.rglob('*'))
    with pytest.raises(SystemExit) as stop:
        authors_logs.main([str(tmp_path / 'nowhere')])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: ')
    assert '--pearl and --tcl' in err[0]
    assert sorted(p.name for p in tmp_path.rglob('*')) == before
