"""The recipe and cost of the SCFT run behind an LLMEmb run's table, as its run record keeps
them (read by :mod:`.scft_gain`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..io import MANIFEST, read_json

SCFT_SUMMARY = "summary.json"  # written by llmemb_utils.llm.scft beside the adapter


def scft_record(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The recipe and cost of the SCFT run whose adapter made a run's LLM table, from the
    run's ``metrics.json``; None for ID runs, raw tables, or an SCFT folder not on this
    machine (records written elsewhere keep what they had)."""
    table = (metrics["inputs"].get("encoder") or {}).get("llm_table") or {}
    adapter = table.get("manifest", {}).get("config", {}).get("lora")
    if not adapter:
        return None
    folder = Path(adapter).parent
    if not (folder / SCFT_SUMMARY).is_file() or not (folder / MANIFEST).is_file():
        return None
    summary, scft = read_json(folder / SCFT_SUMMARY), read_json(folder / MANIFEST)["config"]["scft"]
    return {"lora_layers": scft["lora_layers"], "steps": scft["steps"],
            "seconds": round(summary["seconds"], 1),
            "cpu_seconds": round(summary["cpu_seconds"], 1)}
