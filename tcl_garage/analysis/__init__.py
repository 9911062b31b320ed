"""Analysis of runs: context embeddings (t-SNE and cluster metrics),
learning curves, paper-style result tables and training statistics.

Command line: ``python -m tcl_garage.analysis {embeddings,curves,table,
learning,training}``.
"""
from tcl_garage.analysis.metrics import cluster_metrics
from tcl_garage.analysis.runs import load_run, Run
from tcl_garage.analysis.table import results_table

__all__ = ['cluster_metrics', 'load_run', 'results_table', 'Run']
