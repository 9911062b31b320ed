"""The report of a study of arms (``experiments/ablation.py``).

For each arm (an algorithm with settings of its own, run over seeds on one
benchmark): the last-fifth meta-test return (and success rate, where
logged) as mean and interquartile mean with 95 % stratified-bootstrap
intervals (:mod:`tcl_garage.analysis.statistics`), the probability that a
run of the arm beats a run of PEARL and of TCL-PEARL, the first and last 3
epochs, TCL's top-1 accuracy and the training statistics (losses,
posterior width) over the last fifth, optionally the paper's Table 2
cluster metrics of every seed, and how many seeds a 10 % difference from
PEARL would need at the measured spread.
"""
import collections
import json
import pathlib
from typing import Dict, List, Optional, Sequence

import numpy as np

from tcl_garage.analysis.records import recorded_commit
from tcl_garage.analysis.runs import (ACCURACY_KEY, first_and_last_mean,
                                      load_run, RETURN_KEY, Run, SUCCESS_KEY)
from tcl_garage.analysis.statistics import (mean_and_iqm,
                                            probability_of_improvement,
                                            seeds_for_difference)
from tcl_garage.analysis.table import last_fifth
from tcl_garage.analysis.training import training_spread

#: The arms others are compared with, when the study has them.
BASELINES = ('pearl', 'tcl-pearl', 'mql')


def check_one_setting_per_arm(runs: Dict[str, List[Run]]) -> None:
    """Refuse an arm whose runs differ in anything but the seed.

    A study made in parts (:mod:`tcl_garage.analysis.records`) could
    otherwise mix, say, a profile's runs with another's under one arm.
    Settings a run's config lacks (added by later code) are not compared.

    Args:
        runs (dict[str, list[Run]]): Each arm's runs.

    Raises:
        ValueError: Naming the arm, the setting and the two runs.

    """
    def flat(config: Dict, prefix: str = '') -> Dict:
        items = {}
        for key, value in config.items():
            if isinstance(value, dict):
                items.update(flat(value, f'{prefix}{key}.'))
            else:
                items[prefix + key] = value
        return items

    for arm, arm_runs in runs.items():
        if not arm_runs:
            continue
        first = flat(arm_runs[0].config)
        for run in arm_runs[1:]:
            for key, value in flat(run.config).items():
                if key != 'seed' and key in first and first[key] != value:
                    raise ValueError(
                        f'arm {arm} mixes runs of different settings: '
                        f'{key} is {first[key]!r} in {arm_runs[0].path} but '
                        f'{value!r} in {run.path}; record or run each '
                        'setting under its own folder or arm')


def arm_rows(runs: Dict[str, List[Run]]) -> List[Dict]:
    """One row of statistics per arm.

    Args:
        runs (dict[str, list[Run]]): Each arm's runs (one per seed).

    Returns:
        list[dict]: ``arm``, ``seeds``, ``returns`` (per seed), ``mean``,
            ``iqm`` (Estimates), ``std``, ``success`` (mean, IQM or None),
            ``first``/``last`` (mean ± std of the first and last 3 epochs;
            None when a run has fewer than 6),
            ``accuracy`` (mean, std or None), ``training`` (each training
            statistic's mean, std and runs: :func:`training_spread`) and
            ``improvement`` (``{baseline: Estimate}``).

    """
    scores = {arm: [last_fifth(r) for r in arm_runs]
              for arm, arm_runs in runs.items() if arm_runs}
    rows = []
    for arm, arm_runs in runs.items():
        if not arm_runs:
            continue
        returns = scores[arm]
        mean, iqm = mean_and_iqm(returns)
        success = None
        if all(SUCCESS_KEY in r.columns for r in arm_runs):
            success = mean_and_iqm([last_fifth(r, SUCCESS_KEY)
                                    for r in arm_runs])
        ends = None  # first vs last 3 epochs, when every run has 6
        if all(len(r.column(RETURN_KEY)) >= 6 for r in arm_runs):
            ends = np.array([first_and_last_mean(r) for r in arm_runs])
        accuracy = None
        if all(ACCURACY_KEY in r.columns for r in arm_runs):
            values = [last_fifth(r, ACCURACY_KEY) for r in arm_runs]
            accuracy = (float(np.mean(values)), float(np.std(values)))
        rows.append(dict(
            arm=arm, seeds=len(returns), returns=returns, mean=mean, iqm=iqm,
            std=float(np.std(returns)), success=success,
            first=None if ends is None else (float(ends[:, 0].mean()),
                                             float(ends[:, 0].std())),
            last=None if ends is None else (float(ends[:, 1].mean()),
                                            float(ends[:, 1].std())),
            accuracy=accuracy,
            training=training_spread(arm_runs),
            improvement={base: probability_of_improvement(returns,
                                                          scores[base])
                         for base in BASELINES
                         if base in scores and base != arm}))
    return rows


def to_markdown(rows: Sequence[Dict],
                clusters: Optional[Dict[str, Dict]] = None) -> str:
    """The rows as Markdown tables.

    Args:
        rows (Sequence[dict]): From :func:`arm_rows`.
        clusters (dict or None): Each arm's :func:`cluster_spread`.

    Returns:
        str: Markdown.

    """
    bases = [b for b in BASELINES if any(b in r['improvement']
                                         for r in rows)]
    head = ['arm', 'seeds', 'return mean [95% CI]', 'IQM [95% CI]',
            'std over seeds', *[f'P(arm > {b}) [95% CI]' for b in bases]]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    for r in rows:
        poi = [str(r['improvement'][b]) if b in r['improvement'] else '-'
               for b in bases]
        lines.append(f'| {r["arm"]} | {r["seeds"]} | {r["mean"]} | '
                     f'{r["iqm"]} | {r["std"]:.2f} | ' + ' | '.join(poi) +
                     ' |')
    lines += ['', '| arm | first 3 epochs | last 3 epochs | success mean '
              '[95% CI] | TCL accuracy (last fifth) |',
              '| --- | --- | --- | --- | --- |']
    for r in rows:
        success = str(r['success'][0]) if r['success'] else '-'
        accuracy = (f'{r["accuracy"][0]:.3f} ± {r["accuracy"][1]:.3f}'
                    if r['accuracy'] else '-')
        first, last = (f'{r[end][0]:.1f} ± {r[end][1]:.1f}' if r[end] else
                       '-' for end in ('first', 'last'))
        lines.append(f'| {r["arm"]} | {first} | {last} | {success} | '
                     f'{accuracy} |')
    # TCL's accuracy has its column above; runs recorded before records
    # kept the training statistics have none, so a statistic may be over
    # fewer of an arm's seeds (its cell says how many).
    statistics = sorted({name for r in rows for name in r['training']} -
                        {ACCURACY_KEY.split('/', 1)[1]})
    if statistics:
        lines += ['', '| training statistic (last fifth) | ' +
                  ' | '.join(r['arm'] for r in rows) + ' |',
                  '|' + ' --- |' * (len(rows) + 1)]
        for name in statistics:
            cells = [_spread_cell(r['training'][name], r['seeds'])
                     if name in r['training'] else '-' for r in rows]
            lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    by_arm = {r['arm']: r for r in rows}
    if 'pearl' in by_arm and all(r['seeds'] >= 2 for r in rows):
        pearl = by_arm['pearl']
        spread = float(np.sqrt(np.mean([r['std']**2 for r in rows])))
        difference = 0.1 * abs(pearl['mean'].value)
        if difference > 0:
            lines += ['', f'Seeds per arm to find a 10 % difference from '
                      f'PEARL ({difference:.1f}) with 80 % power at the 5 % '
                      f'level, at the arms\' mean seed-to-seed spread '
                      f'({spread:.1f}): '
                      f'{seeds_for_difference(spread, difference)}.']
    if clusters:
        lines += ['', '| arm | seeds | space | intra-task distance | '
                  'inter-centroid distance |', '| --- | --- | --- | --- | '
                  '--- |']
        for arm, spread in clusters.items():
            for space in ('latent', 'tsne'):
                intra, inter = (spread[space]['intra_task_distance'],
                                spread[space]['inter_centroid_distance'])
                lines.append(f'| {arm} | {spread["seeds"]} | {space} | '
                             f'{intra[0]:.2f} ± {intra[1]:.2f} | '
                             f'{inter[0]:.2f} ± {inter[1]:.2f} |')
    return '\n'.join(lines) + '\n'


def _spread_cell(spread: Sequence, seeds: int) -> str:
    """``mean ± std`` of a training statistic, with ``(k of n seeds)``
    when it is over fewer than the arm's ``n`` seeds."""
    mean, std, runs = spread
    cell = f'{mean:.4g} ± {std:.2g}'
    return cell if runs == seeds else f'{cell} ({runs} of {seeds} seeds)'


def cluster_spread(metrics: Sequence[Dict]) -> Dict:
    """The mean and spread over seeds of one arm's cluster metrics.

    Args:
        metrics (Sequence[dict]): One entry per seed, from
            :func:`tcl_garage.analysis.embeddings.analyse_embeddings` (or
            :func:`tcl_garage.analysis.records.recorded_embedding_metrics`).

    Returns:
        dict: ``{'seeds': n, space: {metric: (mean, std)}}`` for the spaces
            ``latent`` and ``tsne``.

    Raises:
        ValueError: If metrics is empty.

    """
    if not metrics:
        raise ValueError('no seed\'s embedding metrics to summarise')
    spread: Dict = {'seeds': len(metrics)}
    for space in ('latent', 'tsne'):
        spread[space] = {
            name: (float(np.mean([m[space][name] for m in metrics])),
                   float(np.std([m[space][name] for m in metrics])))
            for name in metrics[0][space]}
    return spread


def code_line(run_dirs: Dict[str, Sequence[pathlib.Path]]) -> str:
    """Which commits of the code the runs ran with, and how many each.

    Args:
        run_dirs (dict[str, Sequence[pathlib.Path]]): Each arm's runs.

    Returns:
        str: A sentence and a blank line (Markdown).

    """
    commits = collections.Counter(recorded_commit(d) for dirs in
                                  run_dirs.values() for d in dirs)
    return ('Code: ' + ', '.join(f'{c} ({n} run{"s" * (n != 1)})'
                                 for c, n in sorted(commits.items())) +
            '.\n\n')


def write_ablation_report(run_dirs: Dict[str, Sequence[pathlib.Path]],
                          out: pathlib.Path, command: str,
                          train_seconds: Optional[float] = None,
                          cluster_metrics: Optional[
                              Dict[str, Sequence[Dict]]] = None) -> str:
    """Write ``results.md``, ``results.json`` and ``curves.png`` into out.

    Args:
        run_dirs (dict[str, Sequence[pathlib.Path]]): Each arm's finished
            run directories, or their records
            (:mod:`tcl_garage.analysis.records`).
        out (pathlib.Path): The report's folder.
        command (str): The command that made the study.
        train_seconds (float or None): Wall-clock of this invocation.
        cluster_metrics (dict or None): Each arm's embedding cluster
            metrics, one entry per seed measured (the Table 2 table, mean ±
            std over those seeds); None: no such table.

    Returns:
        str: The Markdown report.

    Raises:
        ValueError: If no arm has a finished run, or an arm's runs differ in
            a setting other than the seed.

    """
    from tcl_garage.analysis.curves import plot_curves
    runs = {arm: [load_run(d, label=arm) for d in dirs]
            for arm, dirs in run_dirs.items()}
    if not any(runs.values()):
        raise ValueError('no finished runs to report on; run the study '
                         '(without --analyse-only) first')
    check_one_setting_per_arm(runs)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = arm_rows(runs)
    clusters = ({arm: cluster_spread(metrics)
                 for arm, metrics in cluster_metrics.items() if metrics}
                if cluster_metrics else None)
    plot_curves([r for arm_runs in runs.values() for r in arm_runs],
                str(out / 'curves.png'))
    benchmark = next(r for arm_runs in runs.values()
                     for r in arm_runs).benchmark
    text = (f'# Ablation on {benchmark}\n\n`{command}`\n\n' +
            (f'This invocation took {train_seconds / 60:.0f} min.\n\n'
             if train_seconds is not None else '') +
            code_line(run_dirs) +
            'Meta-test return over the last fifth of each run\'s '
            'environment steps; intervals: 95 % stratified bootstrap '
            '(rliable, 2,000 resamples, seeded).\n\n' +
            to_markdown(rows, clusters))
    (out / 'results.md').write_text(text)
    (out / 'results.json').write_text(json.dumps(
        [dict(arm=r['arm'], seeds=r['seeds'], returns=r['returns'],
              mean=vars(r['mean']), iqm=vars(r['iqm']),
              improvement={b: vars(e) for b, e in r['improvement'].items()},
              clusters=(clusters or {}).get(r['arm']))
         for r in rows], indent=2))
    return text
