"""Statistics over seeds (rliable, seeded)."""
import numpy as np
import pytest

from tcl_garage.analysis.statistics import (mean_and_iqm,
                                            probability_of_improvement,
                                            seeds_for_difference)


def test_mean_and_iqm_with_intervals_that_hold_them():
    scores = [1., 2., 3., 4., 100.]
    mean, iqm = mean_and_iqm(scores)
    assert mean.value == pytest.approx(22.0)
    # IQM: the middle half (2, 3, 4, with the quartiles' share) resists 100.
    assert iqm.value == pytest.approx(3.0)
    for estimate in (mean, iqm):
        assert estimate.low <= estimate.value <= estimate.high


def test_intervals_repeat_exactly_and_leave_the_global_stream_alone():
    scores = np.random.default_rng(0).normal(size=7)
    np.random.seed(3)
    before = np.random.get_state()[1].copy()
    first = mean_and_iqm(scores)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.random.seed(4)  # another global state: the same intervals
    assert mean_and_iqm(scores) == first
    assert (probability_of_improvement(scores, scores + 0.1) ==
            probability_of_improvement(scores, scores + 0.1))


def test_probability_of_improvement_of_separated_and_equal_arms():
    high, low = [10., 11., 12.], [1., 2., 3.]
    assert probability_of_improvement(high, low).value == 1.0
    assert probability_of_improvement(low, high).value == 0.0
    tie = probability_of_improvement([1., 2., 3.], [1., 2., 3.])
    assert tie.value == pytest.approx(0.5)
    assert tie.low < 0.5 < tie.high


def test_seeds_for_a_difference_follow_the_normal_approximation():
    # 2 * 2.8^2 * (1 / 0.5)^2 = 62.7 -> 63 seeds.
    assert seeds_for_difference(1.0, 0.5) == 63
    assert seeds_for_difference(0.01, 10.0) == 2
    with pytest.raises(ValueError):
        seeds_for_difference(1.0, 0.0)
