"""Statistics over seeds that a comparison of a few runs can stand on.

Thin, seeded wrappers of ``rliable`` (Agarwal et al., 2021, "Deep RL at the
edge of the statistical precipice"): the mean and interquartile mean (IQM)
of a score over seeds with 95 % stratified-bootstrap confidence intervals,
and the probability of improvement of one arm over another (the chance that
a run of X scores above a run of Y, Mann-Whitney) with its interval. One
benchmark at a time: a score array is ``(seeds,)``. The bootstrap draws are
seeded here, never from OS entropy: rliable 1.2's stratified bootstraps draw
their indices from the GLOBAL ``np.random`` whatever ``random_state`` says,
so the global stream is seeded for each interval and restored after it.

Also the speed claim's statistic: :func:`paired_ratio`, the median of a
benchmark's per-round time ratios with its bootstrap interval over rounds
(``benchmarks/step_time.py``).
"""
import dataclasses
import math
import warnings
from typing import Sequence, Tuple

import numpy as np

#: Bootstrap replications of every interval.
REPS = 2000
#: Seed of the bootstrap draws.
BOOTSTRAP_SEED = 0


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95 % confidence interval.

    Attributes:
        value (float): The estimate.
        low (float): Lower end of the interval.
        high (float): Upper end of the interval.

    """

    value: float
    low: float
    high: float

    def text(self, digits: int = 2, unit: str = '') -> str:
        """``1.23x [1.20, 1.25]``: the estimate, its unit and its interval.

        Args:
            digits (int): Decimals of each number.
            unit (str): Written after the estimate (e.g. ``x``).

        Returns:
            str: The text.

        """
        return (f'{self.value:.{digits}f}{unit} [{self.low:.{digits}f}, '
                f'{self.high:.{digits}f}]')

    def __str__(self) -> str:
        return self.text()


def _interval(scores, func) -> Tuple[np.ndarray, np.ndarray]:
    """rliable's point estimates and percentile intervals of ``func``."""
    from rliable import library as rly
    caller_state = np.random.get_state()
    np.random.seed(BOOTSTRAP_SEED)  # rliable's indices come from np.random
    try:
        with warnings.catch_warnings():
            # arch's notice that RandomState will give way to Generator.
            warnings.simplefilter('ignore', FutureWarning)
            points, intervals = rly.get_interval_estimates(
                {'x': scores}, func, reps=REPS,
                random_state=np.random.RandomState(BOOTSTRAP_SEED))
    finally:
        np.random.set_state(caller_state)
    return points['x'], intervals['x']


def _as_runs(scores: Sequence[float]) -> np.ndarray:
    """Scores over seeds as rliable's ``(runs, tasks)`` matrix."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
    if scores.shape[0] < 1:
        raise ValueError('statistics need at least one seed')
    return scores


def mean_and_iqm(scores: Sequence[float]) -> Tuple[Estimate, Estimate]:
    """Mean and interquartile mean over seeds, each with its 95 % interval.

    Args:
        scores (Sequence[float]): One score per seed.

    Returns:
        tuple[Estimate, Estimate]: The mean and the IQM.

    """
    from rliable import metrics
    runs = _as_runs(scores)
    points, intervals = _interval(runs, lambda x: np.array(
        [metrics.aggregate_mean(x), metrics.aggregate_iqm(x)]))
    return tuple(Estimate(float(points[i]), float(intervals[0, i]),
                          float(intervals[1, i])) for i in range(2))


def probability_of_improvement(x: Sequence[float],
                               y: Sequence[float]) -> Estimate:
    """P(a run of X scores above a run of Y), ties counting half, with its
    95 % interval (X and Y bootstrapped independently).

    Args:
        x (Sequence[float]): X's score per seed.
        y (Sequence[float]): Y's score per seed.

    Returns:
        Estimate: In [0, 1]; 0.5 is a tie.

    """
    from rliable import metrics
    points, intervals = _interval(
        [_as_runs(x), _as_runs(y)],
        lambda a, b: np.array([metrics.probability_of_improvement(a, b)]))
    return Estimate(float(points[0]), float(intervals[0, 0]),
                    float(intervals[1, 0]))


def seeds_for_difference(spread: float, difference: float,
                         z_alpha: float = 1.96, z_power: float = 0.84) -> int:
    """Seeds per arm for a two-sided test at 5 % to find a difference of
    means with 80 % power, from the seed-to-seed standard deviation
    (normal approximation: ``2 (z_a + z_b)^2 spread^2 / difference^2``).

    Args:
        spread (float): Standard deviation of a run's score over seeds.
        difference (float): The difference of means to detect, > 0.

    Returns:
        int: Seeds per arm (at least 2).

    Raises:
        ValueError: If difference is not positive.

    """
    if not difference > 0:
        raise ValueError(f'difference must be > 0, got {difference}')
    return max(2, math.ceil(2 * (z_alpha + z_power)**2 * spread**2 /
                            difference**2))


def paired_ratio(numerator: Sequence[float],
                 denominator: Sequence[float]) -> Estimate:
    """The median over rounds of ``numerator / denominator``, with its 95 %
    bootstrap interval over rounds.

    For timings taken round-robin (``benchmarks/step_time.py``: one step of
    each variant in turn): element i of both sequences comes from round i,
    so each round's ratio cancels a drift of the machine's speed that hits
    both of its steps, and a bootstrap draw resamples whole rounds.
    Percentile interval over :data:`REPS` draws, seeded by
    :data:`BOOTSTRAP_SEED`.

    Args:
        numerator (Sequence[float]): One positive measurement a round,
            :math:`(R,)`.
        denominator (Sequence[float]): Its pair in each round, :math:`(R,)`.

    Returns:
        Estimate: The median ratio; with one round its interval is the
            point.

    Raises:
        ValueError: If the sequences differ in length, are empty, or hold
            a value that is not positive.

    """
    top = np.asarray(numerator, dtype=np.float64)
    bottom = np.asarray(denominator, dtype=np.float64)
    if top.ndim != 1 or top.shape != bottom.shape or top.size == 0:
        raise ValueError('paired_ratio needs two equally long, non-empty '
                         f'sequences, got shapes {top.shape} and '
                         f'{bottom.shape}')
    if not (np.all(top > 0) and np.all(bottom > 0)):
        raise ValueError('paired_ratio needs positive measurements')
    ratios = top / bottom
    rounds = np.random.default_rng(BOOTSTRAP_SEED).integers(
        ratios.size, size=(REPS, ratios.size))
    low, high = np.percentile(np.median(ratios[rounds], axis=1), [2.5, 97.5])
    return Estimate(float(np.median(ratios)), float(low), float(high))
