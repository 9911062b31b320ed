"""The TCL authors' own ML1 logs, PEARL against TCL-PEARL at matched steps.

The authors' garage fork keeps one folder a run under
``results/<algo>/<env>[_<k>]/`` (``progress.csv`` and ``variant.json``;
``_1``, ``_2`` are further runs of the environment). This module reads two
such algorithm folders, drops byte-identical copies of a run, and compares
the algorithms environment by environment over windows of environment steps
(``TotalEnvSteps``), so that both are judged after the same amount of data:

* per run, the mean of its meta-test evaluations whose step lies in the
  window ``(low, high]``; a run counts only if it reached ``high``;
* per environment and algorithm, the mean over its runs (and their number);
* the winner, the relative gain ``(tcl - pearl) / |pearl|`` and, where both
  sides have two runs or more, the gap in standard errors of the difference;
* over environments: wins, mean and median gain with 95 % bootstrap
  intervals over environments (seeded), and a two-sided sign test.

It also replays the authors' own scoring rule (:func:`authors_score`, after
``tests/integration_tests/simon_report.py`` of the fork) and lists the
settings in which the two algorithms' ``variant.json`` differ.

Command line (``RESULTS`` holds the two algorithm folders)::

    python -m tcl_garage.analysis.authors_logs RESULTS [--pearl pearl]
        [--tcl tcl-pearl] [--windows 0:0.5e6 0.5e6:1e6 1e6:1.5e6 last:0.5e6]
"""
import argparse
import collections
import dataclasses
import hashlib
import json
import math
import pathlib
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tcl_garage.analysis.statistics import BOOTSTRAP_SEED, Estimate, REPS

RETURN = 'MetaTest/Average/AverageReturn'
SUCCESS = 'MetaTest/Average/SuccessRate'
STEPS = 'TotalEnvSteps'
#: Settings that name a run rather than configure it.
RUN_NAMES = ('name', 'gpu_id', 'prefix')


@dataclasses.dataclass(frozen=True)
class LoggedRun:
    """One run folder of the authors' logs.

    Attributes:
        env (str): The environment (the folder name less ``_<k>``).
        folder (str): The folder's name.
        variant (dict): Its ``variant.json``.
        steps (np.ndarray): ``TotalEnvSteps`` of each evaluation, (E,).
        returns (np.ndarray): Meta-test average return, (E,).
        success (np.ndarray or None): Meta-test success rate, (E,), if
            logged.
        columns (tuple[str, ...]): Every column progress.csv holds.
        digest (str): SHA-256 of progress.csv (equal digests: one run
            uploaded twice).

    """

    env: str
    folder: str
    variant: Dict
    steps: np.ndarray
    returns: np.ndarray
    success: Optional[np.ndarray]
    columns: Tuple[str, ...]
    digest: str

    @property
    def seed(self):
        """int or None: The seed its variant names."""
        return self.variant.get('seed')


def env_of(folder: str) -> str:
    """``push-v1_2`` -> ``push-v1``: the environment a run folder is of.

    Args:
        folder (str): The folder's name.

    Returns:
        str: The environment.

    """
    head, _, tail = folder.rpartition('_')
    return head if head and tail.isdigit() else folder


def read_logged_run(run_dir) -> LoggedRun:
    """Read one run folder (progress.csv with ``\\r\\n`` or ``\\n`` lines).

    Args:
        run_dir (str or pathlib.Path): The folder.

    Returns:
        LoggedRun: The run.

    Raises:
        ValueError: If a file is missing, or progress.csv has no rows or no
            step or return column.

    """
    run_dir = pathlib.Path(run_dir)
    progress, variant = run_dir / 'progress.csv', run_dir / 'variant.json'
    for path in (progress, variant):
        if not path.is_file():
            raise ValueError(f'{path} is missing')
    raw = progress.read_bytes()
    lines = [line for line in raw.decode().splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError(f'{progress} has no rows')
    header = [name.strip() for name in lines[0].split(',')]
    rows = [line.split(',') for line in lines[1:]]
    columns = {}
    for i, name in enumerate(header):
        columns[name] = np.array([_number(row[i]) if i < len(row) else
                                  math.nan for row in rows])
    for key in (STEPS, RETURN):
        if key not in columns:
            raise ValueError(f'{progress} has no column {key!r}')
    return LoggedRun(env=env_of(run_dir.name), folder=run_dir.name,
                     variant=json.loads(variant.read_text()),
                     steps=columns[STEPS], returns=columns[RETURN],
                     success=columns.get(SUCCESS), columns=tuple(header),
                     digest=hashlib.sha256(raw).hexdigest())


def read_algorithm(folder) -> Tuple[Dict[str, List[LoggedRun]],
                                    List[Tuple[str, str]]]:
    """Every run of one algorithm folder, grouped by environment, with the
    byte-identical copies of a run dropped.

    Args:
        folder (str or pathlib.Path): ``results/<algo>``.

    Returns:
        tuple: ``{env: [runs]}`` (folders in name order) and the dropped
            copies as ``(copy, original)`` folder names.

    Raises:
        ValueError: If the folder holds no run.

    """
    folder = pathlib.Path(folder)
    runs = collections.defaultdict(list)
    seen, copies = {}, []
    run_dirs = sorted(d for d in folder.iterdir() if d.is_dir()) if (
        folder.is_dir()) else []
    for run_dir in run_dirs:
        run = read_logged_run(run_dir)
        if run.digest in seen:
            copies.append((run.folder, seen[run.digest]))
            continue
        seen[run.digest] = run.folder
        runs[run.env].append(run)
    if not runs:
        raise ValueError(f'{folder} holds no run folder (<env>/progress.csv '
                         'and variant.json): give the folder that holds '
                         'both algorithms\' folders, named by --pearl and '
                         '--tcl')
    return dict(runs), copies


def window_mean(run: LoggedRun, low: float, high: float,
                success: bool = False) -> Optional[float]:
    """Mean of a run's evaluations with ``low < step <= high``.

    Args:
        run (LoggedRun): The run.
        low (float): Start of the window (excluded).
        high (float): End of the window (included).
        success (bool): The success rate instead of the return.

    Returns:
        float or None: The mean; None if the run stopped before ``high``,
            holds no evaluation in the window, or did not log the column.

    """
    values = run.success if success else run.returns
    if values is None or run.steps[-1] < high:
        return None
    keep = (run.steps > low) & (run.steps <= high)
    if not keep.any():
        return None
    return float(np.nanmean(values[keep]))


@dataclasses.dataclass(frozen=True)
class Side:
    """One algorithm's runs on one environment in one window.

    Attributes:
        values (tuple[float, ...]): Each run's window mean (runs that
            reached the window's end).
        success (tuple[float, ...]): The same for the success rate.
        seeds (tuple): The seeds of those runs.

    """

    values: Tuple[float, ...]
    success: Tuple[float, ...]
    seeds: Tuple

    @property
    def mean(self) -> Optional[float]:
        """float or None: Mean over runs."""
        return float(np.mean(self.values)) if self.values else None

    @property
    def success_mean(self) -> Optional[float]:
        """float or None: Mean success rate over runs."""
        return float(np.mean(self.success)) if self.success else None

    @property
    def standard_error(self) -> Optional[float]:
        """float or None: Standard error of the mean (two runs or more)."""
        if len(self.values) < 2:
            return None
        return float(np.std(self.values, ddof=1) / math.sqrt(
            len(self.values)))


def side(runs: Sequence[LoggedRun], low: float, high: float) -> Side:
    """The runs' window means.

    Args:
        runs (Sequence[LoggedRun]): One algorithm's runs of one environment.
        low (float): Start of the window (excluded).
        high (float): End of the window (included).

    Returns:
        Side: Means of the runs that reached ``high``.

    """
    values, rates, seeds = [], [], []
    for run in runs:
        value = window_mean(run, low, high)
        if value is None:
            continue
        values.append(value)
        seeds.append(run.seed)
        rate = window_mean(run, low, high, success=True)
        if rate is not None:
            rates.append(rate)
    return Side(tuple(values), tuple(rates), tuple(seeds))


@dataclasses.dataclass(frozen=True)
class EnvRow:
    """One environment in one window.

    Attributes:
        env (str): The environment.
        pearl (Side): PEARL's runs.
        tcl (Side): TCL-PEARL's runs.

    """

    env: str
    pearl: Side
    tcl: Side

    @property
    def compared(self) -> bool:
        """bool: Both algorithms have a run that reached the window's end."""
        return bool(self.pearl.values and self.tcl.values)

    @property
    def gain(self) -> Optional[float]:
        """float or None: ``(tcl - pearl) / |pearl|``."""
        if not self.compared or self.pearl.mean == 0:
            return None
        return (self.tcl.mean - self.pearl.mean) / abs(self.pearl.mean)

    @property
    def gap_in_errors(self) -> Optional[float]:
        """float or None: ``(tcl - pearl)`` in standard errors of the
        difference of the two means (needs two runs a side)."""
        errors = (self.pearl.standard_error, self.tcl.standard_error)
        if not self.compared or None in errors:
            return None
        scale = math.hypot(*errors)
        if scale == 0:
            return None
        return (self.tcl.mean - self.pearl.mean) / scale


def compare(pearl: Dict[str, List[LoggedRun]],
            tcl: Dict[str, List[LoggedRun]], low: float, high: float,
            same_seeds: bool = False) -> List[EnvRow]:
    """Both algorithms on every environment either holds, in one window.

    Args:
        pearl (dict): PEARL's runs by environment.
        tcl (dict): TCL-PEARL's runs by environment.
        low (float): Start of the window (excluded).
        high (float): End of the window (included).
        same_seeds (bool): Keep only the runs of seeds that both algorithms
            ran on the environment.

    Returns:
        list[EnvRow]: One row an environment, in name order.

    """
    rows = []
    for env in sorted(set(pearl) | set(tcl)):
        ours, theirs = pearl.get(env, []), tcl.get(env, [])
        if same_seeds:
            common = ({run.seed for run in ours} &
                      {run.seed for run in theirs})
            ours = [run for run in ours if run.seed in common]
            theirs = [run for run in theirs if run.seed in common]
        rows.append(EnvRow(env, side(ours, low, high),
                           side(theirs, low, high)))
    return rows


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this
    uneven if each environment were a fair coin.

    Args:
        wins (int): Environments one side wins.
        losses (int): Environments it loses.

    Returns:
        float: The p-value (1 without environments).

    """
    n = wins + losses
    if n == 0:
        return 1.0
    low = min(wins, losses)
    tail = sum(math.comb(n, k) for k in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def _bootstrap(values: np.ndarray, func) -> Estimate:
    """``func`` of the values with its 95 % percentile interval over
    :data:`REPS` resamples of the values, seeded."""
    draws = np.random.default_rng(BOOTSTRAP_SEED).integers(
        values.size, size=(REPS, values.size))
    low, high = np.percentile(func(values[draws], axis=1), [2.5, 97.5])
    return Estimate(float(func(values)), float(low), float(high))


def summarise(rows: Sequence[EnvRow]) -> Dict:
    """Wins, relative gains and their spread over the compared environments.

    Args:
        rows (Sequence[EnvRow]): One window's rows.

    Returns:
        dict: ``compared`` (environments with runs of both), ``tcl_wins``,
            ``pearl_wins``, ``sign_p``, ``tcl_clear`` and ``pearl_clear``
            (the leader ahead by more than two standard errors of the
            difference), ``mean_gain`` and ``median_gain`` (Estimate, over
            environments; None without gains), ``single_run`` (environments
            where a side has one run), ``success_tcl`` and ``success_pearl``
            (environments where that side's mean success rate is higher),
            ``success_none`` (environments where neither side ever
            succeeded) and ``success_means`` (each side's mean success rate
            over environments, TCL-PEARL first; None without rates).

    """
    compared = [row for row in rows if row.compared]
    tcl_wins = sum(row.tcl.mean > row.pearl.mean for row in compared)
    pearl_wins = sum(row.tcl.mean < row.pearl.mean for row in compared)
    rates = [(row.tcl.success_mean, row.pearl.success_mean)
             for row in compared if row.tcl.success and row.pearl.success]
    gaps = [row.gap_in_errors for row in compared]
    gains = np.array([row.gain for row in compared if row.gain is not None])
    return {
        'compared': len(compared),
        'tcl_wins': tcl_wins,
        'pearl_wins': pearl_wins,
        'sign_p': sign_test(tcl_wins, pearl_wins),
        'tcl_clear': sum(g is not None and g > 2 for g in gaps),
        'pearl_clear': sum(g is not None and g < -2 for g in gaps),
        'mean_gain': _bootstrap(gains, np.mean) if gains.size else None,
        'median_gain': _bootstrap(gains, np.median) if gains.size else None,
        'single_run': sum(len(row.pearl.values) < 2 or len(row.tcl.values)
                          < 2 for row in compared),
        'success_tcl': sum(t > p for t, p in rates),
        'success_pearl': sum(t < p for t, p in rates),
        'success_none': sum(t == p == 0 for t, p in rates),
        'success_means': (tuple(float(m) for m in np.mean(rates, axis=0))
                          if rates else None),
    }


def launcher_gap(runs: Dict[str, List[LoggedRun]], low: float,
                 high: float) -> Optional[Tuple[str, str, int, int, float]]:
    """How one algorithm's two launchers (``prefix`` in ``variant.json``)
    compare with each other in one window.

    Args:
        runs (dict): One algorithm's runs by environment.
        low (float): Start of the window (excluded).
        high (float): End of the window (included).

    Returns:
        tuple or None: ``(first, second, above, environments, median)``:
            the launchers' prefixes (``(no prefix)`` first), on how many
            of the environments both ran the first's mean is above the
            second's, of how many, and the median of ``(first - second) /
            |second|``; None unless there are exactly two launchers.

    """
    names = sorted({_launcher(run) for group in runs.values()
                    for run in group})
    if len(names) != 2:
        return None
    above, gaps = 0, []
    for group in runs.values():
        sides = [side([r for r in group if _launcher(r) == name], low, high)
                 for name in names]
        if not (sides[0].values and sides[1].values):
            continue
        above += sides[0].mean > sides[1].mean
        if sides[1].mean != 0:
            gaps.append((sides[0].mean - sides[1].mean) / abs(sides[1].mean))
    return (names[0], names[1], above, len(gaps),
            float(np.median(gaps)) if gaps else math.nan)


def _launcher(run: LoggedRun) -> str:
    return run.variant.get('prefix', '(no prefix)')


def authors_score(runs: Sequence[LoggedRun], limit: float,
                  window: int = 2) -> float:
    """The score the authors' report script gives an algorithm on one
    environment (``print_hyper_tests`` and ``plot_curve_avg`` of the fork's
    ``tests/integration_tests/simon_display_helper.py``).

    Their rule: the runs' curves are cut to the shortest run's length and
    averaged over runs evaluation by evaluation; ``i`` is the last
    evaluation at or before ``limit`` steps; the score is the mean of the
    averaged curve at evaluations ``i - window`` to ``i - 1`` (the slice
    ``y[i - window:i]``, which leaves out evaluation ``i`` itself).

    Args:
        runs (Sequence[LoggedRun]): One algorithm's runs of one environment,
            copies included if the authors' folder held them.
        limit (float): Step limit (their ``env_step_limit``).
        window (int): Their ``backward_smooth_window``.

    Returns:
        float: The score.

    Raises:
        ValueError: Without runs, or if no evaluation precedes ``limit``.

    """
    if not runs:
        raise ValueError('authors_score needs at least one run')
    length = min(len(run.returns) for run in runs)
    curve = np.mean([run.returns[:length] for run in runs], axis=0)
    steps = runs[0].steps[:length]
    before = np.flatnonzero(steps <= limit)
    if before.size == 0:
        raise ValueError(f'no evaluation at or before {limit:g} steps')
    last = int(before[-1])
    return float(np.mean(curve[max(0, last - window):last]))


def authors_winner(scores: Sequence[float]) -> int:
    """Their ``make_report``'s winner: the first of the highest scores
    above 0; 0 (the first algorithm) if none is above 0.

    Args:
        scores (Sequence[float]): One score per algorithm, in their order.

    Returns:
        int: The winner's index.

    """
    best, winner = 0.0, 0
    for i, score in enumerate(scores):
        if score > best:
            best, winner = score, i
    return winner


def variant_differences(groups: Dict[str, Sequence[LoggedRun]]
                        ) -> List[Tuple[str, Dict[str, str]]]:
    """Settings whose values differ between groups of runs (or that some
    group does not log), the run's name, GPU and prefix left out.

    Args:
        groups (dict): Runs by group name (e.g. launcher).

    Returns:
        list: ``(setting, {group: values})`` in setting order; values are
            the distinct JSON values joined by ``/``, or ``not logged``.

    """
    keys = sorted({key for runs in groups.values() for run in runs
                   for key in run.variant} - set(RUN_NAMES))
    differences = []
    for key in keys:
        cells = {}
        for group, runs in groups.items():
            values = sorted({json.dumps(run.variant[key]) for run in runs
                             if key in run.variant}, key=_natural)
            missing = any(key not in run.variant for run in runs)
            cells[group] = ('not logged' if not values else '/'.join(values)
                            + (' (some not logged)' if missing else ''))
        if len(set(cells.values())) > 1:
            differences.append((key, cells))
    return differences


def _natural(text: str):
    """Numbers in numeric order, before other values."""
    try:
        return (0, float(text), '')
    except ValueError:
        return (1, 0.0, text)


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _cell(s: Side, digits: int = 1) -> str:
    if not s.values:
        return '-'
    rate = (f' ({s.success_mean:.2f})' if s.success_mean is not None
            else '')
    return f'{s.mean:.{digits}f}{rate} [{len(s.values)}]'


def _gain(value: Optional[float]) -> str:
    return '-' if value is None else f'{100 * value:+.1f} %'


def window_table(rows: Sequence[EnvRow]) -> str:
    """One window as Markdown: per environment each side's mean return
    (mean success rate) [runs], the leader, the gain and the gap in
    standard errors; then the summary line.

    Args:
        rows (Sequence[EnvRow]): One window's rows.

    Returns:
        str: Markdown.

    """
    lines = ['| environment | PEARL | TCL-PEARL | higher | relative gain | '
             'gap (SE) |', '| --- | --- | --- | --- | --- | --- |']
    for row in rows:
        higher = ('-' if not row.compared else 'TCL-PEARL' if
                  row.tcl.mean > row.pearl.mean else 'PEARL' if
                  row.tcl.mean < row.pearl.mean else 'tie')
        gap = row.gap_in_errors
        lines.append(f'| {row.env} | {_cell(row.pearl)} | {_cell(row.tcl)} '
                     f'| {higher} | {_gain(row.gain)} | '
                     f'{"-" if gap is None else f"{gap:+.1f}"} |')
    lines.append('')
    lines.append(summary_line(summarise(rows)))
    return '\n'.join(lines) + '\n'


def summary_line(s: Dict) -> str:
    """A window's summary in one sentence.

    Args:
        s (dict): :func:`summarise`'s result.

    Returns:
        str: The sentence.

    """
    text = (f'TCL-PEARL higher on {s["tcl_wins"]} of {s["compared"]} '
            f'environments, PEARL on {s["pearl_wins"]} (sign test p = '
            f'{s["sign_p"]:.2g}); ahead by more than 2 standard errors: '
            f'TCL-PEARL {s["tcl_clear"]}, PEARL {s["pearl_clear"]}; '
            f'success rate higher: TCL-PEARL {s["success_tcl"]}, PEARL '
            f'{s["success_pearl"]}, neither succeeded once: '
            f'{s["success_none"]}')
    if s['success_means'] is not None:
        text += (f'; mean success rate TCL-PEARL '
                 f'{s["success_means"][0]:.2f}, PEARL '
                 f'{s["success_means"][1]:.2f}')
    if s['mean_gain'] is not None:
        text += (f'; relative gain mean {_gain(s["mean_gain"].value)} '
                 f'[{_gain(s["mean_gain"].low)}, '
                 f'{_gain(s["mean_gain"].high)}], median '
                 f'{_gain(s["median_gain"].value)} '
                 f'[{_gain(s["median_gain"].low)}, '
                 f'{_gain(s["median_gain"].high)}]')
    return text + '.'


def parse_window(text: str, last_step: float) -> Tuple[float, float]:
    """``LOW:HIGH`` in steps, or ``last:WIDTH`` (the last WIDTH steps of
    the TCL-PEARL runs).

    Args:
        text (str): The window.
        last_step (float): TCL-PEARL's last logged step.

    Returns:
        tuple[float, float]: ``(low, high)``.

    Raises:
        ValueError: If the text is not a window.

    """
    try:
        low, high = text.split(':')
        if low == 'last':
            return last_step - float(high), last_step
        low, high = float(low), float(high)
    except ValueError:
        raise ValueError(f'window {text!r}: write LOW:HIGH in steps '
                         '(0:0.5e6) or last:WIDTH (last:0.5e6)') from None
    if not high > low:
        raise ValueError(f'window {text!r}: HIGH must exceed LOW')
    return low, high


def report(results_dir, pearl: str = 'pearl', tcl: str = 'tcl-pearl',
           windows: Sequence[str] = ('0:0.5e6', '0.5e6:1e6', '1e6:1.5e6',
                                     'last:0.5e6'),
           authors_limits: Sequence[float] = (1e6, 1.5e6)) -> str:
    """The whole comparison as Markdown.

    Args:
        results_dir (str or pathlib.Path): Folder holding both algorithms'
            folders.
        pearl (str): PEARL's folder name.
        tcl (str): TCL-PEARL's folder name.
        windows (Sequence[str]): Step windows (:func:`parse_window`).
        authors_limits (Sequence[float]): Step limits of the authors' rule.

    Returns:
        str: Markdown.

    """
    results_dir = pathlib.Path(results_dir)
    pearl_runs, pearl_copies = read_algorithm(results_dir / pearl)
    tcl_runs, tcl_copies = read_algorithm(results_dir / tcl)
    last_step = max(run.steps[-1] for runs in tcl_runs.values()
                    for run in runs)
    out = ['# PEARL against TCL-PEARL in the authors\' logs', '']
    for name, runs, copies in ((pearl, pearl_runs, pearl_copies),
                               (tcl, tcl_runs, tcl_copies)):
        every = [run for group in runs.values() for run in group]
        lengths = collections.Counter(int(run.steps[-1]) for run in every)
        out.append(f'- {name}: {len(runs)} environments, {len(every)} '
                   f'distinct runs; last step of a run: ' + ', '.join(
                       f'{step:,} ({count})' for step, count in
                       sorted(lengths.items())) + '; seeds: ' + ', '.join(
                           f'{seed} ({count})' for seed, count in sorted(
                               collections.Counter(r.seed for r in every)
                               .items(), key=lambda kv: str(kv[0]))))
        for copy, original in copies:
            out.append(f'  - {copy}: a byte-identical copy of {original}, '
                       'dropped')
    out.append('')
    for text in windows:
        low, high = parse_window(text, last_step)
        out.append(f'## Steps ({low:,.0f}, {high:,.0f}]')
        out.append('')
        out.append(window_table(compare(pearl_runs, tcl_runs, low, high)))
        out.append('Seeds both ran only: ' + summary_line(summarise(
            compare(pearl_runs, tcl_runs, low, high, same_seeds=True))))
        out.append('')
        for name, runs in ((pearl, pearl_runs), (tcl, tcl_runs)):
            gap = launcher_gap(runs, low, high)
            if gap is not None:
                out.append(f'{name}\'s launchers: {gap[0]} above {gap[1]} '
                           f'on {gap[2]} of {gap[3]} environments, median '
                           f'{_gain(gap[4])}.')
                out.append('')
    out.append('## The authors\' rule (copies kept, as their folders held '
               'them)')
    out.append('')
    pearl_all = _with_copies(results_dir / pearl)
    tcl_all = _with_copies(results_dir / tcl)
    for limit in authors_limits:
        wins, higher, unscored = collections.Counter(), 0, []
        for env in sorted(set(pearl_all) & set(tcl_all)):
            if any(run.steps[0] > limit
                   for run in pearl_all[env] + tcl_all[env]):
                continue  # a run without an evaluation to score yet
            scores = (authors_score(tcl_all[env], limit),
                      authors_score(pearl_all[env], limit))
            wins[authors_winner(scores)] += 1
            higher += scores[0] > scores[1]
            if max(scores) <= 0:
                unscored.append(env)
        out.append(f'- {limit:,.0f} steps: TCL-PEARL {wins[0]}, PEARL '
                   f'{wins[1]}; {len(unscored)} of TCL-PEARL\'s by default '
                   f'(no score above 0: {", ".join(unscored) or "none"}); '
                   f'by the higher score: TCL-PEARL {higher}, PEARL '
                   f'{sum(wins.values()) - higher}')
    out.append('')
    out.append('## variant.json: settings that differ')
    out.append('')
    groups = collections.defaultdict(list)
    for name, runs in ((pearl, pearl_runs), (tcl, tcl_runs)):
        for group in runs.values():
            for run in group:
                groups[f'{name} {_launcher(run)}'].append(run)
    names = sorted(groups)
    out.append('| setting | ' + ' | '.join(names) + ' |')
    out.append('| --- |' + ' --- |' * len(names))
    for key, cells in variant_differences(groups):
        out.append(f'| {key} | ' + ' | '.join(cells[n] for n in names) +
                   ' |')
    return '\n'.join(out) + '\n'


def _with_copies(folder: pathlib.Path) -> Dict[str, List[LoggedRun]]:
    """Every run folder, copies included, by environment."""
    runs = collections.defaultdict(list)
    for run_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        run = read_logged_run(run_dir)
        runs[run.env].append(run)
    return dict(runs)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog='python -m tcl_garage.analysis.authors_logs',
        description='PEARL against TCL-PEARL in the authors\' logs, '
        'environment by environment at matched environment steps.')
    parser.add_argument('results', help='folder holding both algorithms\' '
                        'run folders (results/ of the authors\' fork)')
    parser.add_argument('--pearl', default='pearl',
                        help='PEARL\'s folder in RESULTS')
    parser.add_argument('--tcl', default='tcl-pearl',
                        help='TCL-PEARL\'s folder in RESULTS')
    parser.add_argument('--windows', nargs='+', metavar='LOW:HIGH',
                        default=['0:0.5e6', '0.5e6:1e6', '1e6:1.5e6',
                                 'last:0.5e6'],
                        help='step windows (LOW, HIGH], or last:WIDTH for '
                        'the last WIDTH steps of the TCL-PEARL runs')
    args = parser.parse_args(argv)
    try:
        print(report(args.results, args.pearl, args.tcl, args.windows),
              end='')
    except (ValueError, OSError) as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
