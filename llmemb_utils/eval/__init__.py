"""Ranking evaluation: full and paper-compatible sampled protocols, tie-aware expected metrics,
long-tail groups, beyond-accuracy measures of the top-K lists, ``metrics.json`` bodies and
reports over seeds."""

from .beyond import beyond_accuracy
from .evaluate import evaluate, per_user_metrics, top_k_lists
from .metrics import KS, expected_metrics
from .protocol import Protocol
from .ranking import full_rank_counts, full_top_k, sample_negatives, sampled_rank_counts
from .results import load_results, report_runs, summarize

__all__ = [
    "KS",
    "Protocol",
    "beyond_accuracy",
    "evaluate",
    "expected_metrics",
    "full_rank_counts",
    "full_top_k",
    "load_results",
    "per_user_metrics",
    "report_runs",
    "sample_negatives",
    "sampled_rank_counts",
    "summarize",
    "top_k_lists",
]
