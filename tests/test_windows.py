"""Query/key windows cut from whole trajectories (per-task arrays and
episode boundaries), and garage's PathBuffer adapted to them."""
import numpy as np
import pytest

from tcl_garage import Episodes, sample_window_pairs


def episode(buffer_id, episode_id, length):
    """Transitions whose value tells buffer, episode and step."""
    step = np.arange(length, dtype=np.float64)
    ident = np.stack([np.full(length, buffer_id, float),
                      np.full(length, episode_id, float), step], axis=1)
    return {'observations': ident, 'rewards': step[:, None]}


def filled_buffer(buffer_id, lengths):
    return Episodes.concatenated([episode(buffer_id, e, length)
                                  for e, length in enumerate(lengths)])


def test_pairs_come_from_the_same_trajectory_and_are_contiguous():
    buffers = [filled_buffer(b, [30, 25, 40, 8]) for b in range(5)]
    pairs = sample_window_pairs(buffers, window_size=10, windows_per_buffer=3,
                                rng=np.random.default_rng(0))
    q, k = pairs.query['observations'], pairs.key['observations']
    assert q.shape == k.shape == (15, 10, 3)
    # Same buffer and episode in every step of a query and its key.
    np.testing.assert_array_equal(q[:, :, :2], k[:, :, :2])
    assert (q[:, :, :2] == q[:, :1, :2]).all()
    # Row groups follow the buffers.
    np.testing.assert_array_equal(q[:, 0, 0], np.repeat(np.arange(5), 3))
    # Consecutive steps.
    assert (np.diff(q[:, :, 2], axis=1) == 1).all()
    assert (np.diff(k[:, :, 2], axis=1) == 1).all()
    np.testing.assert_array_equal(q[:, 0, 2], pairs.query_starts)
    np.testing.assert_array_equal(k[:, 0, 2], pairs.key_starts)
    # Starts differ (every episode used is longer than the window).
    assert (pairs.query_starts != pairs.key_starts).all()
    # Never the episode shorter than the window (episode 3, 8 steps).
    assert (q[:, :, 1] != 3).all()


def test_a_key_never_repeats_its_query():
    """With keys, an episode needs W + 1 steps (two starts): one of exactly
    W steps (episode 1) would make the key a copy of the query."""
    buffer = filled_buffer(0, [5, 8, 3, 9])
    pairs = sample_window_pairs([buffer], window_size=8, windows_per_buffer=4,
                                rng=np.random.default_rng(1))
    assert (pairs.query['observations'][:, :, 1] == 3).all()
    assert set(pairs.query_starts) | set(pairs.key_starts) <= {0, 1}
    assert (pairs.query_starts != pairs.key_starts).all()
    # Queries alone may use the episode of exactly W steps.
    queries = sample_window_pairs([filled_buffer(0, [5, 8])], window_size=8,
                                  with_keys=False)
    assert (queries.query['observations'][:, :, 1] == 1).all()
    with pytest.raises(ValueError, match='at least 9 steps'):
        sample_window_pairs([filled_buffer(0, [5, 8])], window_size=8)


def test_distinct_trajectories_within_a_buffer_and_repeated_buffers_share_ids():
    buffer = filled_buffer(0, [20] * 6)
    pairs = sample_window_pairs([buffer, buffer], window_size=5,
                                windows_per_buffer=3,
                                rng=np.random.default_rng(2))
    episodes = pairs.query['observations'][:, 0, 1]
    assert len(set(episodes[:3])) == 3 and len(set(episodes[3:])) == 3
    ids = pairs.trajectory_ids
    for i in range(6):
        for j in range(6):
            assert (ids[i] == ids[j]) == (episodes[i] == episodes[j])


def test_wrapping_episodes_in_a_ring_buffer_stay_contiguous():
    from garage.replay_buffer import PathBuffer
    from tcl_garage.algos.path_buffers import episodes_of
    buffer = PathBuffer(50)
    for e in range(4):  # 4 * 17 = 68 > 50: episode 2 wraps around the end.
        buffer.add_path(episode(0, e, 17))
    episodes = episodes_of(buffer)
    assert (episodes.lengths == 17).all() and episodes.capacity == 50
    # PathBuffer keeps the episodes not overwritten: 2 (slots 34-49, 0)
    # and 3 (slots 1-17).
    np.testing.assert_array_equal(episodes.starts, [34, 1])
    pairs = sample_window_pairs([episodes], window_size=17,
                                windows_per_buffer=2, with_keys=False,
                                rng=np.random.default_rng(3))
    steps = pairs.query['observations'][:, :, 2]
    np.testing.assert_array_equal(steps, np.tile(np.arange(17), (2, 1)))
    np.testing.assert_array_equal(
        np.sort(pairs.query['observations'][:, 0, 1]), [2, 3])
    # Some fields only (a host's context): the same windows of those fields
    # (the draws do not depend on the fields), the storage not copied.
    some = episodes_of(buffer, ('observations', ))
    assert list(some.fields) == ['observations'] != list(episodes.fields)
    assert some.fields['observations'] is episodes.fields['observations']
    again = sample_window_pairs([some], window_size=17, windows_per_buffer=2,
                                with_keys=False,
                                rng=np.random.default_rng(3))
    assert list(again.query) == ['observations']
    np.testing.assert_array_equal(again.query['observations'],
                                  pairs.query['observations'])


def test_window_longer_than_every_episode_is_a_clear_error():
    buffer = filled_buffer(0, [10, 12])
    with pytest.raises(ValueError, match='longest has 12'):
        sample_window_pairs([buffer], window_size=64)


def test_empty_buffer_and_bad_sizes_are_errors():
    with pytest.raises(ValueError, match='no episode'):
        sample_window_pairs([Episodes({}, np.zeros(0, np.int64),
                                      np.zeros(0, np.int64), 100)],
                            window_size=4)
    with pytest.raises(ValueError, match='>= 1'):
        sample_window_pairs([filled_buffer(0, [10])], window_size=0)


def test_queries_only():
    pairs = sample_window_pairs([filled_buffer(0, [10])], window_size=4,
                                with_keys=False)
    assert pairs.key is None and pairs.key_starts is None
    assert pairs.query['rewards'].shape == (1, 4, 1)


def test_seeded_global_numpy_reproduces():
    buffers = [filled_buffer(b, [30, 40]) for b in range(3)]
    np.random.seed(5)
    a = sample_window_pairs(buffers, window_size=7)
    np.random.seed(5)
    b = sample_window_pairs(buffers, window_size=7)
    np.testing.assert_array_equal(a.query['observations'],
                                  b.query['observations'])
    np.testing.assert_array_equal(a.key_starts, b.key_starts)
