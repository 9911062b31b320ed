"""TCL's open design choices (issue 27): where a query's positive key comes
from (``positive``) and which keys are its negatives (``negatives``), on
hand-built buffers and against a loop-by-loop recomputation."""
import itertools
import math

import numpy as np
import pytest
import torch

from tcl_garage import (Episodes, sample_window_pairs,
                        trajectory_contrastive_loss)
from tcl_garage.tcl.loss import excluded_keys, NEGATIVES
from tcl_garage.tcl.windows import POSITIVES


def episode(task, episode_id, length):
    """Transitions whose observation tells task, episode and step."""
    step = np.arange(length, dtype=np.float64)
    ident = np.stack([np.full(length, task, float),
                      np.full(length, episode_id, float), step], axis=1)
    return {'observations': ident, 'rewards': step[:, None]}


def buffer_of(task, lengths):
    return Episodes.concatenated([episode(task, e, length)
                                  for e, length in enumerate(lengths)])


def hand_built_batch():
    """Task 0 twice in the meta-batch (4 episodes), task 1 with short
    episodes, task 2 with a single episode long enough."""
    task0 = buffer_of(0, [30, 30, 30, 30])
    task1 = buffer_of(1, [12, 4, 15, 3])
    task2 = buffer_of(2, [40, 5])
    return [task0, task1, task0, task2]


@pytest.mark.parametrize('seed', range(5))
def test_task_positives_come_from_another_episode_of_the_same_task(seed):
    pairs = sample_window_pairs(hand_built_batch(), window_size=10,
                                windows_per_buffer=2,
                                rng=np.random.default_rng(seed),
                                positive='task')
    q, k = pairs.query['observations'], pairs.key['observations']
    np.testing.assert_array_equal(q[:, 0, 0], k[:, 0, 0])  # same task
    fallback = pairs.same_episode_keys
    # Task 2 (rows 6, 7) holds one episode of >= 11 steps: its keys are cut
    # from the query's episode, at another start, and flagged.
    np.testing.assert_array_equal(fallback, [False] * 6 + [True] * 2)
    other = ~fallback
    assert (q[other, 0, 1] != k[other, 0, 1]).all()  # another episode
    assert (q[fallback, 0, 1] == k[fallback, 0, 1]).all()
    assert (pairs.query_starts[fallback] != pairs.key_starts[fallback]).all()
    # Never an episode too short for a window (task 1's 4 and 3 steps).
    assert (k[:, :, 2] >= 0).all() and (np.diff(k[:, :, 2], axis=1) == 1).all()
    assert not np.isin(k[2:4, 0, 1], [1, 3]).any()
    # The ids say the same: the key's trajectory, the row's task.
    np.testing.assert_array_equal(pairs.task_ids, [0, 0, 1, 1, 0, 0, 3, 3])
    assert ((pairs.key_trajectory_ids != pairs.trajectory_ids) == other).all()
    np.testing.assert_array_equal(pairs.key_trajectory_ids % (1 << 32),
                                  k[:, 0, 1])


def test_trajectory_positives_are_unchanged_by_the_new_argument():
    """The default draws exactly what it drew before the setting existed."""
    buffers = hand_built_batch()
    np.random.seed(3)
    default = sample_window_pairs(buffers, window_size=10,
                                  windows_per_buffer=2)
    np.random.seed(3)
    explicit = sample_window_pairs(buffers, window_size=10,
                                   windows_per_buffer=2,
                                   positive='trajectory')
    for a, b in ((default.query, explicit.query), (default.key, explicit.key)):
        np.testing.assert_array_equal(a['observations'], b['observations'])
    np.testing.assert_array_equal(default.key_trajectory_ids,
                                  default.trajectory_ids)
    assert not default.same_episode_keys.any()


def test_task_keys_are_uniform_over_the_other_episodes():
    buffer = buffer_of(0, [20, 20, 20, 20])
    rng = np.random.default_rng(0)
    counts = np.zeros((4, 4))
    for _ in range(2000):
        pairs = sample_window_pairs([buffer], window_size=5, rng=rng,
                                    positive='task')
        counts[int(pairs.query['observations'][0, 0, 1]),
               int(pairs.key['observations'][0, 0, 1])] += 1
    assert np.diag(counts).sum() == 0
    off = counts[~np.eye(4, dtype=bool)]
    assert off.min() > 0.6 * off.mean()  # about 167 each


def loop_excluded(query_traj, key_traj, task, negatives):
    n = len(query_traj)
    return [[j != i and (key_traj[j] == query_traj[i] or
                         key_traj[j] == key_traj[i] or
                         (negatives == 'other-tasks' and task[j] == task[i]))
             for j in range(n)] for i in range(n)]


def test_mask_of_a_hand_built_batch():
    # Rows: task 0 episodes 0, 0 (a repeated trajectory), 1; task 1 episode 5
    # (its key from episode 6); task 2 episode 7.
    query = torch.tensor([0, 0, 1, 5, 7])
    key = torch.tensor([0, 0, 1, 6, 7])
    task = torch.tensor([0, 0, 0, 1, 2])
    every = excluded_keys(query, key, task, 'all')
    assert every.tolist() == [
        [False, True, False, False, False],
        [True, False, False, False, False],
        [False, False, False, False, False],
        [False, False, False, False, False],
        [False, False, False, False, False],
    ]
    other_tasks = excluded_keys(query, key, task, 'other-tasks')
    assert other_tasks.tolist() == [
        [False, True, True, False, False],
        [True, False, True, False, False],
        [True, True, False, False, False],
        [False, False, False, False, False],
        [False, False, False, False, False],
    ]
    # A key cut from another query's trajectory is masked for that query:
    # row 1's positive is from trajectory 5, row 0's query.
    crossed = excluded_keys(torch.tensor([5, 6]), torch.tensor([6, 5]),
                            torch.tensor([1, 1]), 'all')
    assert crossed.tolist() == [[False, True], [True, False]]


def loop_loss(qm, qs, km, ks, excluded, temperature):
    n = qm.shape[0]
    total = 0.0
    for i in range(n):
        sims = {}
        for j in range(n):
            if excluded[i][j]:
                continue
            d = sum((float(qm[i, c]) - float(km[j, c]))**2 +
                    (float(qs[i, c]) - float(ks[j, c]))**2
                    for c in range(qm.shape[1]))
            sims[j] = -d / temperature
        top = max(sims.values())
        log_denominator = top + math.log(sum(math.exp(s - top)
                                             for s in sims.values()))
        total -= sims[i] - log_denominator
    return total / n


@pytest.mark.parametrize('positive,negatives',
                         itertools.product(POSITIVES, NEGATIVES))
def test_loss_equals_loop_recomputation_for_each_choice(positive, negatives):
    pairs = sample_window_pairs(hand_built_batch(), window_size=10,
                                windows_per_buffer=2,
                                rng=np.random.default_rng(11),
                                positive=positive)
    g = torch.Generator().manual_seed(4)
    n = len(pairs.trajectory_ids)
    qm, km = (torch.randn(n, 3, generator=g, dtype=torch.float64)
              for _ in range(2))
    qs, ks = (torch.rand(n, 3, generator=g, dtype=torch.float64)
              for _ in range(2))
    ids = {name: torch.as_tensor(getattr(pairs, name))
           for name in ('trajectory_ids', 'key_trajectory_ids', 'task_ids')}
    loss = trajectory_contrastive_loss(qm, qs, km, ks, 0.5,
                                       negatives=negatives, **ids)
    excluded = loop_excluded(pairs.trajectory_ids.tolist(),
                             pairs.key_trajectory_ids.tolist(),
                             pairs.task_ids.tolist(), negatives)
    assert loss.item() == pytest.approx(
        loop_loss(qm, qs, km, ks, excluded, 0.5), rel=1e-9)
    if negatives == 'other-tasks':
        # Rows of task 0 (rows 0-1 and 4-5) see no key of task 0 but their
        # own positive.
        for i in (0, 1, 4, 5):
            assert [j for j in (0, 1, 4, 5) if not excluded[i][j]] == [i]


def test_other_tasks_without_task_ids_and_unknown_choices_are_errors():
    z = torch.zeros(3, 2)
    ids = torch.arange(3)
    with pytest.raises(ValueError, match='needs task_ids'):
        trajectory_contrastive_loss(z, z, z, z, trajectory_ids=ids,
                                    negatives='other-tasks')
    with pytest.raises(ValueError, match='choose one of all, other-tasks'):
        trajectory_contrastive_loss(z, z, z, z, trajectory_ids=ids,
                                    negatives='same-task')
    with pytest.raises(ValueError, match='choose one of trajectory, task'):
        sample_window_pairs([buffer_of(0, [20])], window_size=4,
                            positive='episode')
