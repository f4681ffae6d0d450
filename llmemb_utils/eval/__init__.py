"""Ranking evaluation: full and paper-compatible sampled protocols, tie-aware expected metrics,
long-tail groups, ``metrics.json`` bodies and reports over seeds."""

from .evaluate import evaluate, per_user_metrics
from .metrics import KS, expected_metrics
from .protocol import Protocol
from .ranking import full_rank_counts, sample_negatives, sampled_rank_counts
from .results import load_results, report_runs, summarize

__all__ = [
    "KS",
    "Protocol",
    "evaluate",
    "expected_metrics",
    "full_rank_counts",
    "load_results",
    "per_user_metrics",
    "report_runs",
    "sample_negatives",
    "sampled_rank_counts",
    "summarize",
]
