"""Ranking evaluation: full and paper-compatible sampled protocols, tie-aware expected metrics,
long-tail groups, ``metrics.json`` bodies and reports over seeds."""

from .evaluate import evaluate, per_user_metrics
from .metrics import KS, expected_metrics
from .protocol import Protocol
from .ranking import full_rank_counts, sample_negatives, sampled_rank_counts
from .report import aggregate_runs, format_table, report_runs

__all__ = [
    "KS",
    "Protocol",
    "aggregate_runs",
    "evaluate",
    "expected_metrics",
    "format_table",
    "full_rank_counts",
    "per_user_metrics",
    "report_runs",
    "sample_negatives",
    "sampled_rank_counts",
]
