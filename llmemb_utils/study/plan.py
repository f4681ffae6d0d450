"""The study's grid: which runs it holds (every backbone with an ID and an LLMEmb item
encoder over the configured seeds, the LLMEmb ablations on SASRec, the variants on their
backbones) and the config of each."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..config import (
    ExperimentConfig,
    RATConfig,
    StudyConfig,
    variant_settings,
)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of the study: a backbone, an item encoder, a seed and an optional ablation."""

    backbone: str
    encoder: str
    seed: int
    ablation: str | None = None
    variant: str | None = None  # a name of study.variants

    @property
    def model(self) -> str:
        """The model this run is one seed of: ``LLMEmb-sasrec (no-scft)``."""
        encoder = "ID" if self.encoder == "id" else "LLMEmb"
        named = self.ablation or self.variant
        return f"{encoder}-{self.backbone}{f' ({named})' if named else ''}"

    def __str__(self) -> str:
        return f"{self.model}, seed {self.seed}"


def plan(study: StudyConfig) -> list[RunSpec]:
    """The runs of ``study``: ID runs first (the LLMEmb runs' teachers are the ID-SASRec runs
    of their seeds, added when the grid lacks them), then LLMEmb runs, then ablations, then
    variants (each with the plain LLMEmb run of its seeds, its baseline)."""
    from ..srs.backbones import BACKBONES

    unknown = sorted(set(study.seeds) - set(BACKBONES))
    if unknown:
        raise ValueError(f"study.seeds: unknown backbone(s) {unknown}; known: {sorted(BACKBONES)}")
    for backbone, seeds in study.seeds.items():
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise ValueError(f"study.seeds.{backbone}: expected a non-empty list of integer "
                             f"seeds, got {seeds!r}")
    grid = [(backbone, seed) for backbone, seeds in study.seeds.items() for seed in seeds]
    ablations = [RunSpec("sasrec", "llmemb", seed, ablation)
                 for ablation in study.ablations for seed in study.ablation_seeds]
    unknown = sorted(set(study.variant_backbones) - set(BACKBONES))
    if unknown:
        raise ValueError(f"study.variant_backbones: unknown backbone(s) {unknown}; "
                         f"known: {sorted(BACKBONES)}")
    variant_grid = [(backbone, seed) for backbone in study.variant_backbones
                    if backbone in study.seeds
                    for seed in study.variant_seeds or study.seeds[backbone]]
    if study.variants and not variant_grid:
        raise ValueError("study.variants: no seeds to train them on; none of "
                         f"study.variant_backbones {study.variant_backbones} is in study.seeds")
    variants = [spec for variant in study.variants for backbone, seed in variant_grid
                for spec in (RunSpec(backbone, "llmemb", seed),
                             RunSpec(backbone, "llmemb", seed, variant=variant))]
    llmemb = [RunSpec(backbone, "llmemb", seed) for backbone, seed in grid] + ablations + variants
    ids = [RunSpec(backbone, "id", seed) for backbone, seed in grid]
    teachers = [RunSpec("sasrec", "id", seed) for seed in dict.fromkeys(s.seed for s in llmemb)]
    return list(dict.fromkeys(ids + teachers + llmemb))


def grid_overrides(study: StudyConfig, seeds: list[int] | None = None,
                   ablations: list[str] | None = None,
                   backbones: list[str] | None = None,
                   variants: list[str] | None = None) -> dict[str, Any]:
    """Dotted ``load_config`` overrides that change ``study``'s grid: the same ``seeds`` for
    every backbone, only ``backbones`` (without SASRec, none of the SASRec ablations; the
    variants on the chosen ones only), other ``ablations`` (``["all"]``: every one), only
    the named ``variants`` of ``study.variants`` (none for an empty list)."""
    from ..rat import ABLATIONS

    grid = {backbone: list(seeds or chosen) for backbone, chosen in study.seeds.items()
            if not backbones or backbone in backbones}
    if not grid:
        raise ValueError(f"--backbones {' '.join(backbones)}: none of them is in the "
                         f"config's study.seeds ({', '.join(study.seeds)})")
    overrides: dict[str, Any] = {"study.seeds": grid}
    if "sasrec" not in grid:  # the ablations train on SASRec: not asked for
        overrides["study.ablations"] = []
    if variants is not None:
        unknown = sorted(set(variants) - set(study.variants))
        if unknown:
            raise ValueError(f"--variants {' '.join(unknown)}: not in the config's "
                             f"study.variants ({', '.join(study.variants) or 'none'})")
        overrides["study.variants"] = {name: study.variants[name] for name in variants}
    if study.variants and not set(study.variant_backbones) & set(grid):
        overrides["study.variants"] = {}
    if ablations is not None:
        overrides["study.ablations"] = sorted(ABLATIONS) if "all" in ablations else ablations
    return overrides


TableKey = tuple[str, int | None, str | None]  # the LLM table's kind, its SCFT seed and SCFT
# recipe (None: the config's)


def spec_config(config: ExperimentConfig, spec: RunSpec,
                tables: dict[TableKey, Path] | None = None) -> ExperimentConfig:
    """``config`` with the run's seed, backbone, ablation and variant. An SCFT table comes from
    the config's own seed, or with ``study.scft_per_seed`` from an SCFT run on the run's seed,
    trained with the variant's ``scft`` settings when it has any; ``tables``
    (:func:`table_key` -> file) pins the file."""
    from ..rat import effective_settings

    rat, scft = dataclasses.replace(config.rat, ablation=spec.ablation), config.scft
    if spec.variant is not None:
        rat, scft = variant_settings(config, spec.variant, config.study.variants[spec.variant])
    if (spec.encoder == "llmemb" and config.study.scft_per_seed and spec.seed != config.seed
            and effective_settings(rat).embeddings == "scft"):
        rat.scft_seed = spec.seed
    if tables and spec.encoder == "llmemb":
        rat.llm_emb = str(tables[table_key(rat)])
    if rat.scft_recipe and rat.teacher is None and rat.alpha > 0:  # the experiment's own
        from .. import pipeline  # teacher, not one trained anew for each SCFT recipe

        rat.teacher = str(pipeline.teacher_folder(dataclasses.replace(config, seed=spec.seed)))
    return dataclasses.replace(
        config, seed=spec.seed, srs=dataclasses.replace(config.srs, backbone=spec.backbone),
        rat=rat, scft=scft)


def table_key(rat: RATConfig) -> TableKey:
    """The LLM table an LLMEmb run's settings read: its kind, SCFT seed and SCFT recipe."""
    from ..rat import effective_settings

    kind = effective_settings(rat).embeddings
    return (kind, rat.scft_seed, rat.scft_recipe) if kind == "scft" else (kind, None, None)
