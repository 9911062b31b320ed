"""Training statistics of runs (the ``Train/`` columns: losses, posterior
width, TCL accuracy): where two settings of one algorithm part.

A return curve says whether a setting changes learning; the losses say
where. Two views:

* :func:`training_spread`: each arm's statistics over the last fifth of its
  runs, mean and standard deviation over seeds (a study's report,
  :mod:`tcl_garage.analysis.ablation`);
* :func:`training_gap_report`: two runs epoch by epoch, with each
  statistic's relative gap (``python -m tcl_garage.analysis training A B``;
  e.g. the same seed in ``precision=fp32`` and ``bf16``).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tcl_garage.analysis.runs import Run
from tcl_garage.analysis.table import last_fifth

#: What a training statistic's column is called: ``Train/<name>``.
TRAIN_PREFIX = 'Train/'
#: Logged diagnostics that are not learnt quantities (the window length
#: and the share of shortened windows): left out of the comparisons.
SETTINGS_STATISTICS = ('Train/TCLWindowSize', 'Train/TCLShortWindowFraction')


def training_keys(runs: Sequence[Run]) -> List[str]:
    """The training statistics every run logged.

    Args:
        runs (Sequence[Run]): Runs (or their records).

    Returns:
        list[str]: ``Train/`` columns common to all, sorted, without
            :data:`SETTINGS_STATISTICS`; empty if there are no runs.

    """
    if not runs:
        return []
    common = set.intersection(*(set(r.columns) for r in runs))
    return sorted(k for k in common if k.startswith(TRAIN_PREFIX) and
                  k not in SETTINGS_STATISTICS)


def training_spread(runs: Sequence[Run]
                    ) -> Dict[str, Tuple[float, float, int]]:
    """One arm's training statistics over the last fifth of each run's
    environment steps, mean and standard deviation over the runs that
    logged each (records written before they kept the training statistics
    have none).

    Args:
        runs (Sequence[Run]): The arm's runs, one per seed.

    Returns:
        dict[str, tuple[float, float, int]]: ``name -> (mean, std, runs)``
            for each ``Train/`` column any run logged (``name`` without the
            prefix; without :data:`SETTINGS_STATISTICS`), ``runs`` the
            number of runs it is over.

    """
    logged = sorted({k for r in runs for k in r.columns
                     if k.startswith(TRAIN_PREFIX) and
                     k not in SETTINGS_STATISTICS})
    spread = {}
    for key in logged:
        values = [last_fifth(r, key) for r in runs if key in r.columns]
        spread[key[len(TRAIN_PREFIX):]] = (float(np.mean(values)),
                                           float(np.std(values)),
                                           len(values))
    return spread


def relative_gaps(run_a: Run, run_b: Run,
                  keys: Optional[Sequence[str]] = None
                  ) -> Dict[str, np.ndarray]:
    """Each statistic's epoch-by-epoch relative gap between two runs,
    ``|b - a| / |a|``, over the epochs both logged.

    Args:
        run_a (Run): The reference run.
        run_b (Run): The run compared with it.
        keys (Sequence[str] or None): ``Train/`` columns; None: every one
            both logged (:func:`training_keys`).

    Returns:
        dict[str, np.ndarray]: ``column -> (epochs,)`` gaps (NaN where the
            reference is 0 or a value is missing).

    Raises:
        ValueError: If the runs share no training statistic, or a run did
            not log one of ``keys``.

    """
    keys = list(keys) if keys is not None else training_keys([run_a, run_b])
    if not keys:
        raise ValueError(f'{run_a.path} and {run_b.path} share no Train/ '
                         'column; compare two runs of algorithms that log '
                         'training statistics')
    gaps = {}
    for key in keys:
        a, b = run_a.column(key), run_b.column(key)
        n = min(len(a), len(b))
        with np.errstate(divide='ignore', invalid='ignore'):
            gap = np.abs(b[:n] - a[:n]) / np.abs(a[:n])
        gaps[key] = np.where(np.isfinite(gap), gap, np.nan)
    return gaps


def training_gap_report(run_a: Run, run_b: Run,
                        keys: Optional[Sequence[str]] = None) -> str:
    """Two runs' training statistics side by side, epoch by epoch, and
    each statistic's median relative gap.

    Args:
        run_a (Run): The reference run (e.g. fp32).
        run_b (Run): The run compared with it (e.g. bf16 from the same
            seed).
        keys (Sequence[str] or None): ``Train/`` columns; None: every one
            both logged.

    Returns:
        str: Markdown: one row per epoch, ``a / b`` per statistic, then the
            median (and largest) relative gap per statistic, in per cent
            to two significant figures.

    Raises:
        ValueError: If the runs share no training statistic, or a run did
            not log one of ``keys``.

    """
    gaps = relative_gaps(run_a, run_b, keys)
    names = [k[len(TRAIN_PREFIX):] for k in gaps]
    epochs = min(len(g) for g in gaps.values())
    lines = [f'A: {run_a.path}', f'B: {run_b.path}', '',
             '| epoch | ' + ' | '.join(f'{n} (A / B)' for n in names) + ' |',
             '|' + ' --- |' * (len(names) + 1)]
    for epoch in range(epochs):
        cells = [f'{run_a.column(k)[epoch]:.4g} / '
                 f'{run_b.column(k)[epoch]:.4g}' for k in gaps]
        lines.append(f'| {epoch} | ' + ' | '.join(cells) + ' |')
    lines += ['', '| statistic | median relative gap | largest | epochs |',
              '| --- | --- | --- | --- |']
    for name, gap in zip(names, gaps.values()):
        finite = gap[np.isfinite(gap)]
        median, largest = ((_percent(np.median(finite)),
                            _percent(finite.max()))
                           if len(finite) else ('-', '-'))
        lines.append(f'| {name} | {median} | {largest} | {len(finite)} |')
    return '\n'.join(lines) + '\n'


def _percent(fraction: float) -> str:
    """A fraction as a percentage to two significant figures (a gap of
    0.012 % stays visible)."""
    return f'{100 * fraction:.2g} %'
