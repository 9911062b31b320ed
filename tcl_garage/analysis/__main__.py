"""``python -m tcl_garage.analysis COMMAND``: embeddings, curves, classes,
table, learning, training."""
import argparse
import json
import pathlib
import sys

import tcl_garage  # noqa: F401  (adapts garage before it is imported)
from tcl_garage.analysis.runs import check_distinct, load_run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog='python -m tcl_garage.analysis',
                                     description=__doc__)
    commands = parser.add_subparsers(dest='command', required=True)
    runs_help = 'run directories (or study records)'
    emb = commands.add_parser('embeddings', help='t-SNE of context '
                              'embeddings and the cluster metrics')
    emb.add_argument('run_dir', help='the run whose last snapshot encodes')
    emb.add_argument('--tasks', type=int, default=8,
                     help='test tasks to embed (default: %(default)s)')
    emb.add_argument('--rollouts', type=int, default=200,
                     help='episodes per task (default: %(default)s)')
    emb.add_argument('--window-size', type=int,
                     help="transitions a window embeds (default: the run's "
                     'window_size)')
    emb.add_argument('--seed', type=int, default=0,
                     help='seed of the episodes, the windows and the t-SNE '
                     '(default: %(default)s)')
    emb.add_argument('--out', help='output folder, made if missing '
                     '(default: the run)')
    cur = commands.add_parser('curves', help='learning curves of many runs')
    cur.add_argument('run_dirs', nargs='+', help=runs_help)
    cur.add_argument('--out', default='curves.png',
                     help='the PNG to write; its folder is made if missing '
                     '(default: %(default)s)')
    tab = commands.add_parser('table', help='returns over the last 100k '
                              'steps, winners, relative gains; mean, IQM, '
                              'bootstrap intervals and probability of '
                              'improvement over seeds')
    tab.add_argument('run_dirs', nargs='+', help=runs_help)
    tab.add_argument('--out', default='results',
                     help='writes OUT.md and OUT.csv; the folder is made if '
                     'missing (default: %(default)s)')
    tab.add_argument('--last-steps', type=int, default=100_000,
                     help="the window of environment steps, at each run's "
                     'end, that its return is averaged over (default: '
                     '%(default)s)')
    cls = commands.add_parser('classes', help='success rate per task '
                              'class (ML10/ML45), meta-train and meta-test: '
                              'curves (OUT.png) and a summary (OUT.csv)')
    cls.add_argument('run_dirs', nargs='+', help=runs_help)
    cls.add_argument('--out', default='classes',
                     help='writes OUT.png and OUT.csv; the folder is made if '
                     'missing (default: %(default)s)')
    cls.add_argument('--window', type=int, default=10,
                     help='epochs with a value in each trailing mean '
                     '(default: %(default)s)')
    gain = commands.add_parser('learning', help='meta-test return of the '
                               'first vs the last epochs, per run and per '
                               'algorithm (mean ± std over seeds)')
    gain.add_argument('run_dirs', nargs='+', help=runs_help)
    gain.add_argument('--epochs', type=int, default=3,
                      help='epochs averaged at each end (default: '
                      '%(default)s)')
    train = commands.add_parser('training', help='two runs\' training '
                                'statistics (losses) epoch by epoch and '
                                'their relative gaps')
    train.add_argument('run_a', help='the reference run (e.g. fp32)')
    train.add_argument('run_b', help='the run compared with it')
    train.add_argument('--keys', nargs='+', metavar='NAME',
                       help='statistics, e.g. QLoss KLLoss (default: every '
                       'one both logged)')
    args = parser.parse_args(argv)
    try:
        if args.command == 'embeddings':
            from tcl_garage.analysis.embeddings import analyse_embeddings
            result = analyse_embeddings(args.run_dir, args.out, args.tasks,
                                        args.rollouts, args.window_size,
                                        args.seed)
            print(json.dumps(result, indent=2))
        elif args.command == 'learning':
            from tcl_garage.analysis.runs import learning_report
            runs = [load_run(d) for d in args.run_dirs]
            check_distinct(runs)
            print(learning_report(runs, args.epochs))
        elif args.command == 'training':
            from tcl_garage.analysis.training import (TRAIN_PREFIX,
                                                      training_gap_report)
            keys = ([TRAIN_PREFIX + k for k in args.keys] if args.keys
                    else None)
            print(training_gap_report(load_run(args.run_a),
                                      load_run(args.run_b), keys))
        elif args.command == 'classes':
            from tcl_garage.analysis.classes import (class_success_rows,
                                                     plot_class_success,
                                                     to_csv as class_csv)
            runs = [load_run(d) for d in args.run_dirs]
            check_distinct(runs)
            rows = class_success_rows(runs)
            pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            plot_class_success(runs, f'{args.out}.png', args.window)
            text = class_csv(rows)
            pathlib.Path(f'{args.out}.csv').write_text(text)
            print(text + f'wrote {args.out}.png and {args.out}.csv')
        elif args.command == 'curves':
            from tcl_garage.analysis.curves import plot_curves
            runs = [load_run(d) for d in args.run_dirs]
            check_distinct(runs)
            print(f'wrote {plot_curves(runs, args.out)}')
        else:
            from tcl_garage.analysis.table import (results_table, to_csv,
                                                   to_markdown)
            from tcl_garage.analysis.ablation import (arm_rows,
                                                      to_markdown as robust)
            runs = [load_run(d) for d in args.run_dirs]
            check_distinct(runs)
            rows, summary = results_table(runs, args.last_steps)
            markdown = to_markdown(rows, summary)
            # Per benchmark: mean and IQM with bootstrap intervals and the
            # probability of improvement over the last fifth of each run.
            for benchmark in sorted({run.benchmark for run in runs}):
                by_algo = {}
                for run in runs:
                    if run.benchmark == benchmark:
                        by_algo.setdefault(run.name, []).append(run)
                markdown += (f'\n## {benchmark}: over seeds, last fifth of '
                             'each run (95 % bootstrap intervals)\n\n' +
                             robust(arm_rows(by_algo)))
            pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            pathlib.Path(f'{args.out}.md').write_text(markdown)
            pathlib.Path(f'{args.out}.csv').write_text(to_csv(rows))
            print(markdown)
    except ValueError as error:  # a bad run directory or argument
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # an output that cannot be written
        print(f'error: {error.filename or ""}: {error.strerror or error}; '
              'give another --out', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
