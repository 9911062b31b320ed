#!/usr/bin/env python3
"""A short TCL-PEARL run on 2-D point-goal tasks: `make demo`.

Trains TCL-PEARL for a few epochs on garage's point-goal tasks (small
networks, CPU, about a minute on 2 cores) and prints where its logs went:
progress.csv, debug.log, TensorBoard events, variant.json and the last
snapshot (params.pkl).
"""
import argparse
import os
import time

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from garage import wrap_experiment
from garage.experiment.deterministic import set_seed
from garage.trainer import Trainer

from tcl_garage.build import build_pearl
from tcl_garage.envs import make_benchmark


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--algo', default='tcl-pearl',
                        choices=['tcl-pearl', 'pearl'])
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--device', default='cpu',
                        help='cpu, cuda or cuda:<index>')
    parser.add_argument('--log-dir', default=None,
                        help='run directory (never overwritten: a suffix '
                        'is added if it exists); default data/local/...')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.epochs < 1:
        raise SystemExit('--epochs must be >= 1')
    log_dir = args.log_dir or os.path.join(
        'data', 'local', 'point_demo', f'{args.algo}_seed{args.seed}')

    @wrap_experiment(log_dir=os.path.abspath(log_dir),
                     snapshot_mode='last',
                     archive_launch_repo=False)
    def point_demo(ctxt, algo, seed, epochs, device):
        set_seed(seed)
        benchmark = make_benchmark('point', seed=seed)
        sizes = dict(latent_dim=5,
                     net_sizes=(64, 64),
                     encoder_hidden_sizes=(64, 64),
                     meta_batch_size=8,
                     batch_size=128,
                     num_steps_per_epoch=100,
                     num_initial_steps=100,
                     num_tasks_sample=5,
                     num_steps_prior=40,
                     num_steps_posterior=0,
                     num_extra_rl_steps_posterior=40,
                     num_exploration_episodes=2,
                     reward_scale=5.)
        if algo == 'tcl-pearl':
            sizes.update(window_size=10, windows_per_task=2)
        else:
            sizes.update(embedding_batch_size=20, embedding_mini_batch_size=20)
        algorithm, env = build_pearl(algo, benchmark.train_envs(),
                                     benchmark.test_sampler,
                                     num_test_tasks=benchmark.num_test_tasks,
                                     device=device,
                                     **sizes)
        trainer = Trainer(ctxt)
        trainer.setup(algo=algorithm, env=env)
        trainer.train(n_epochs=epochs, batch_size=sizes['batch_size'])
        print(f'\nDone: outputs (progress.csv, debug.log, TensorBoard, '
              f'params.pkl) in {ctxt.snapshot_dir}')

    start = time.time()
    point_demo(algo=args.algo, seed=args.seed, epochs=args.epochs,
               device=args.device)
    print(f'Wall time: {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
