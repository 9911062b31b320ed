"""PEARL and TCL-PEARL train one tiny epoch on real benchmarks."""
import csv

import numpy as np
import pytest
from dowel import CsvOutput, logger

from conftest import TINY, train
from garage.experiment.deterministic import set_seed

from tcl_garage.experiment.build import build_pearl
from tcl_garage.envs import make_benchmark


@pytest.mark.parametrize('benchmark_name', ['cheetah-vel', 'ml1/reach-v3'])
@pytest.mark.parametrize('algo', ['tcl-pearl', 'pearl'])
def test_one_tiny_epoch(tmp_path, benchmark_name, algo):
    set_seed(0)
    benchmark = make_benchmark(benchmark_name, seed=0,
                               max_episode_length=50)
    sizes = dict(TINY, num_initial_steps=50, num_steps_prior=50,
                 num_extra_rl_steps_posterior=50, num_steps_posterior=50)
    if algo == 'tcl-pearl':
        sizes.update(window_size=16, windows_per_task=1)
    else:
        sizes.update(embedding_batch_size=16, embedding_mini_batch_size=16)
    algorithm, env = build_pearl(algo, benchmark.train_envs()[:4],
                                 benchmark.test_sampler, num_test_tasks=2,
                                 **sizes)
    logger.add_output(CsvOutput(str(tmp_path / 'progress.csv')))
    try:
        train(algorithm, env, tmp_path, n_epochs=1)
    finally:
        logger.remove_output_type(CsvOutput)
    with open(tmp_path / 'progress.csv', newline='') as f:
        row = list(csv.DictReader(f))[-1]
    assert np.isfinite(float(row['MetaTest/Average/AverageReturn']))
    assert np.isfinite(float(row['Train/QLoss']))
    if benchmark_name.startswith('ml1/'):
        assert 0.0 <= float(row['MetaTest/Average/SuccessRate']) <= 1.0
    if algo == 'tcl-pearl':
        assert np.isfinite(float(row['Train/TCLLoss']))
