"""Statistics over seeds (rliable, seeded), and over timing rounds."""
import numpy as np
import pytest

from tcl_garage.analysis.statistics import (Estimate, mean_and_iqm,
                                            paired_ratio,
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


def test_a_paired_ratio_is_exact_for_proportional_rounds():
    denominator = [0.3, 0.5, 0.2, 0.4]
    ratio = paired_ratio([2 * d for d in denominator], denominator)
    assert ratio.value == pytest.approx(2.0)
    assert ratio.low == pytest.approx(2.0) and ratio.high == pytest.approx(2.0)
    single = paired_ratio([3.0], [1.5])
    assert (single.value, single.low, single.high) == (2.0, 2.0, 2.0)


def test_a_ratio_interval_keeps_rounds_paired_through_a_drift():
    rng = np.random.default_rng(0)
    drift = rng.uniform(0.5, 2.0, size=40)  # the machine's speed, by round
    bf16 = drift * 0.2 * (1 + 0.01 * rng.normal(size=40))
    fp32 = drift * 0.4 * (1 + 0.01 * rng.normal(size=40))
    ratio = paired_ratio(fp32, bf16)
    # Each variant's times spread fourfold; the rounds' ratios do not.
    assert 1.98 < ratio.low <= ratio.value <= ratio.high < 2.02
    # Unpaired (the rounds of one side shuffled) the interval widens.
    shuffled = paired_ratio(fp32, rng.permutation(bf16))
    assert shuffled.high - shuffled.low > 5 * (ratio.high - ratio.low)
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    assert paired_ratio(fp32, bf16) == ratio  # seeded: it repeats
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize('numerator, denominator', [
    ([1.0, 2.0], [1.0]), ([], []), ([1.0, 0.0], [1.0, 1.0])])
def test_a_paired_ratio_refuses_unpaired_or_non_positive_times(
        numerator, denominator):
    with pytest.raises(ValueError, match='paired_ratio needs'):
        paired_ratio(numerator, denominator)


def test_an_estimate_writes_its_value_unit_and_interval():
    assert Estimate(1.0, 0.95, 1.054).text(3) == '1.000 [0.950, 1.054]'
    assert Estimate(2.1, 2.0, 2.2).text(unit='x') == '2.10x [2.00, 2.20]'
    assert str(Estimate(2.1, 2.0, 2.2)) == '2.10 [2.00, 2.20]'
