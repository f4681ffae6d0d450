"""Typed experiment configuration, loaded from YAML and overridable from notebooks or the CLI.

Every stage reads its own section (``data``, ``llm``, ``scft``, ``embed``, ``srs``, ``rat``).
Defaults are the paper's hyper-parameters (``docs/method.md``); the YAML files in ``configs/``
only state what differs from them. Every choice is a ``Literal`` type and every number has a
range (:mod:`llmemb_utils.config_ranges`), both checked when the config loads, so a misspelt
or impossible value fails at once with the file, the field and what it allows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from .config_ranges import (
    COUNT,
    DROP_RATE,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    PROPER_FRACTION,
    Interval,
    range_problem,
    within,
)

# ``rat`` fields added after the first runs were recorded, with their defaults. While at the
# default they are left out of a config's dict, so that the run folders, identities and
# settings hashes of every earlier run stay what they were; a run that sets one records it.
LATER_RAT_FIELDS: dict[str, Any] = {"adapter_output": "linear", "table_learning_rate": None,
                                    "id_embedding": False, "variant": None,
                                    "scft_recipe": None, "adapter_width": None}


# The same for fields added later to the data section's subsections.
LATER_DATA_FIELDS: dict[str, dict[str, Any]] = {
    "source": {"sha256": {}},
    "thresholds": {"fixed_item_head_min": None},
}


def recorded_settings(rat: dict[str, Any],
                      later: dict[str, Any] = LATER_RAT_FIELDS) -> dict[str, Any]:
    """``rat`` (or another section's) settings as runs record them: ``later`` fields at their
    defaults left out."""
    return {key: value for key, value in rat.items()
            if key not in later or value != later[key]}


def recorded_data_settings(data: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` section as prepared datasets and runs record it (later fields at their
    defaults left out)."""
    return {**data, **{section: recorded_settings(data[section], later)
                       for section, later in LATER_DATA_FIELDS.items()}}


class ConfigError(ValueError):
    """A configuration file or override is invalid; the message names the field."""


SourceFormat = Literal["movielens", "amazon", "yelp", "generic", "sequences-json"]
Domain = Literal["movielens", "beauty", "fashion", "amazon", "yelp", "generic"]  # prompt templates
FilterRule = Literal["one-pass", "kcore"]
ThresholdRule = Literal["pareto", "fixed"]
FourBit = Literal["auto", "always", "never"]
Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Pooling = Literal["mean", "last"]
SCFTLoss = Literal["soft-target", "infonce"]
Backbone = Literal["sasrec", "bert4rec", "gru4rec", "caser"]
SRSLoss = Literal["bce", "ce"]
AlignForm = Literal["official", "cosine"]
AdapterOutput = Literal["linear", "normalized"]
TableKind = Literal["scft", "raw"]
AblationName = Literal["no-scft", "no-align", "trainable-table", "no-adapter"]
Budget = Literal["convergence", "demo"]  # demo: a short fixed budget, labelled as such


DEFAULT_ASSET = "ml-100k"
PAIRS = Interval(low=2)  # an SCFT batch: each pair's negatives are the other pairs
SPLITTABLE = Interval(low=3)  # a sequence with a training, a validation and a test item


@dataclass
class SourceConfig:
    """Where the raw data comes from: a named asset, or files on disk in a known format.

    A ``path`` replaces the default asset; naming an asset and a path both is an error
    (:func:`load_config`), so a config never reads other data than the folder it names.
    """

    format: SourceFormat = "movielens"
    asset: str | None = DEFAULT_ASSET  # a name from llmemb_utils.assets, or None to use `path`
    path: str | None = None  # folder or file with the raw data
    reviews: str | None = None  # amazon: reviews file name inside `path` (auto-detected if None)
    meta: str | None = None  # amazon: metadata file name inside `path` (auto-detected if None)
    columns: dict[str, str] = field(default_factory=dict)  # generic: schema name -> file column
    item_file: str | None = None  # generic: optional item-attribute table
    skip_malformed: bool = False  # skip unparsable lines (counted in stats) instead of failing
    version: str | None = None  # raw layout: 100k|1m|latest, 2014|2018|2023, 2013|academic
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> expected SHA-256

    def __post_init__(self) -> None:
        if self.path is not None and self.asset == DEFAULT_ASSET:
            self.asset = None


@dataclass
class ThresholdConfig:
    """How items are split into tail/head and users into short/long (training data only)."""

    rule: ThresholdRule = "pareto"  # pareto: the `head_fraction` top items / longest users are head
    head_fraction: float = within(PROPER_FRACTION, 0.2)
    # rule "fixed": items with >= this many training interactions
    item_head_min: int | None = within(COUNT, None)
    # rule "fixed": users with >= this many training items
    user_long_min: int | None = within(COUNT, None)
    # A second item split reported beside the rule's (groups item_tail_fixed / item_head_fixed):
    # items with >= this many training interactions are head; the official code's long-tail
    # split of the Amazon datasets is 5 (tail: at most 4). None: no second split.
    fixed_item_head_min: int | None = within(COUNT, None)


@dataclass
class DataConfig:
    """Raw source, filtering and preprocessing (docs/method.md §2.2, §2.3, §2.4)."""

    source: SourceConfig = field(default_factory=SourceConfig)
    domain: Domain = "movielens"  # prompt template
    min_rating: float | None = 0.0  # keep interactions with rating > min_rating (None: keep all)
    filter: FilterRule = "one-pass"  # one-pass (the paper's) | kcore (iterative)
    user_core: int = within(COUNT, 3)
    item_core: int = within(COUNT, 3)
    dedupe: bool = False  # drop repeated (user, item) pairs, keeping the first
    min_sequence_length: int = within(SPLITTABLE, 3)  # users with fewer mapped items are dropped
    date_range: tuple[str, str] | None = None  # Yelp: keep interactions inside [start, end]
    # keep only the first N users of the raw file (fast mode)
    max_users: int | None = within(COUNT, None)
    max_value_chars: int | None = within(COUNT, 100)  # prompt values cut to this many characters
    thresholds: ThresholdConfig = field(default_factory=ThresholdConfig)


@dataclass
class LLMConfig:
    """The language model that produces item embeddings (docs/method.md §3.1, §3.4)."""

    model: str = "smollm2-135m-instruct"  # asset name, hub id, local folder or .gguf file
    load_in_4bit: FourBit = "auto"  # auto: on CUDA
    dtype: Dtype = "auto"  # auto: bfloat16 on CUDA (float16 without bf16), float32 on CPU
    pooling: Pooling = "mean"
    max_tokens: int = within(COUNT, 1024)
    gradient_checkpointing: bool = True  # recompute activations in backward (official recipe)


@dataclass
class SCFTConfig:
    """Supervised contrastive fine-tuning with LoRA (docs/method.md §3.2, §3.3, §3.5, §3.6)."""

    steps: int = within(COUNT, 4000)
    batch_size: int = within(PAIRS, 64)
    grad_accumulation: int = within(COUNT, 1)
    learning_rate: float = within(POSITIVE, 2e-4)
    max_grad_norm: float = within(POSITIVE, 1.0)
    drop_ratio: float = within(DROP_RATE, 0.4)
    resample_views: bool = False  # the official code fixes each item's two views once per run
    loss: SCFTLoss = "soft-target"  # soft-target (official) | infonce (cosine)
    # soft-target: initial value of the learnable temperature
    temperature: float = within(POSITIVE, 3.0)
    # infonce: fixed temperature on cosine similarities
    infonce_temperature: float = within(POSITIVE, 0.05)
    cache_trunk: bool = True  # fixed views + lora_layers: run the frozen lower layers once
    lora_r: int = within(COUNT, 8)
    lora_alpha: int = within(COUNT, 32)
    lora_dropout: float = within(DROP_RATE, 0.1)
    lora_targets: list[str] = field(
        default_factory=lambda: [
            "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
        ]
    )
    lora_layers: int | None = within(COUNT, None)  # adapt only the top N decoder layers (None: all)
    save_every: int = within(COUNT, 100)


@dataclass
class EmbedConfig:
    """Final embedding extraction and dimension reduction (docs/method.md §3.7)."""

    batch_size: int = within(COUNT, 32)
    # None keeps the LLM's width (centred by PCA all the same)
    pca_dim: int | None = within(COUNT, None)


@dataclass
class SRSConfig:
    """Sequential recommender training (docs/method.md §4.3, §4.5)."""

    backbone: Backbone = "sasrec"
    hidden: int = within(COUNT, 128)
    blocks: int = within(COUNT, 2)
    heads: int = within(COUNT, 1)
    dropout: float = within(DROP_RATE, 0.5)
    max_length: int = within(COUNT, 200)
    mask_prob: float = within(PROBABILITY, 0.6)  # Bert4Rec Cloze masking
    loss: SRSLoss = "bce"  # bce (one sampled negative, the paper's) | ce (full softmax)
    learning_rate: float = within(POSITIVE, 1e-3)
    weight_decay: float = within(NON_NEGATIVE, 0.0)
    batch_size: int = within(COUNT, 128)
    # the cap: training runs until early stopping, at most this many epochs
    epochs: int = within(COUNT, 200)
    # epochs without a better smoothed NDCG@10 (paper: 20, raw value)
    patience: int = within(COUNT, 40)
    # trailing mean of validation NDCG@10 (1: the paper's raw value)
    early_stop_window: int = within(COUNT, 5)
    budget: Budget = "convergence"
    paper_compat: bool = False  # SASRec without causal / padding mask, as the official code
    exclude_history: bool = True  # full ranking (validation and test) leaves out each user's
    # earlier items; False: the with-history variant, every item a candidate

    def joint_problem(self) -> str | None:
        """Attention splits the width evenly over its heads."""
        if self.hidden % self.heads:
            return (f"hidden = {self.hidden} is not divisible by heads = {self.heads}; "
                    "attention splits the width evenly over the heads")
        return None


@dataclass
class RATConfig:
    """Recommendation adaptation training (docs/method.md §4.2, §4.4)."""

    # weight of the alignment loss (0: no alignment, no teacher needed)
    alpha: float = within(NON_NEGATIVE, 0.01)
    # official form: temperature of the dot-product logits and soft targets
    tau: float = within(POSITIVE, 2.0)
    align_form: AlignForm = "official"  # cosine: InfoNCE on cosine similarities
    cosine_tau: float = within(POSITIVE, 0.1)  # cosine form: its temperature
    freeze_table: bool = True
    adapter: bool = True  # False: the PCA'd table (srs.hidden wide) is the item vector itself
    adapter_activation: bool = False  # ReLU between the adapter's two linear maps
    # the adapter's intermediate width (None: half the PCA'd table's, as the official code)
    adapter_width: int | None = within(COUNT, None)
    # LLM table width after PCA (None: full width, centred)
    pca_dim: int | None = within(COUNT, None)
    whiten: bool = False  # scale every PCA component to unit variance
    unit_norm: bool = True  # rescale the PCA'd table to mean row norm 1 (an ID table's scale)
    embeddings: TableKind = "scft"  # what the LLM table must hold (checked, manifest)
    # the scft table from the SCFT run of this seed, in its own folders (scft-seed<S>,
    # embeddings/scft-seed<S>.npy); None: the one run of `seed`
    scft_seed: int | None = within(NON_NEGATIVE, None)
    scft_recipe: str | None = None  # the scft table from an SCFT run with other `scft`
    # settings, named so (scft-<recipe>, embeddings/scft-<recipe>.npy); set by a study variant
    # that changes `scft` (docs/method.md §4.7); None: the experiment's own SCFT settings
    llm_emb: str | None = None  # .npy from `llmemb embed` (None: the run's embeddings/<kind>.npy)
    teacher: str | None = None  # run folder of an ID-SASRec: its item table is the target
    ablation: AblationName | None = None  # llmemb_utils.rat.ablations
    adapter_output: AdapterOutput = "linear"  # normalized: every item vector on a sphere whose
    # radius is learned, so the adapter cannot crowd the items together (docs/method.md §4.7)
    # with freeze_table: false, the LLM table's own learning rate (None: srs.learning_rate),
    # so that it can move slower than the adapter
    table_learning_rate: float | None = within(POSITIVE, None)
    id_embedding: bool = False  # add a trainable ID vector, zero at first, to each adapted
    # item vector: the LLM vector is the prior, the ID part learns what the text leaves out
    variant: str | None = None  # the name of a study.variants entry these settings come from;
    # names the encoder llmemb-<variant> in runs and records


@dataclass
class StudyConfig:
    """The grid of runs that notebook 05 and ``llmemb study`` compare, all with the same
    ``srs`` budget: every backbone with an ID and an LLMEmb encoder, the LLMEmb ablations on
    SASRec and the variants on ``variant_backbones``."""

    seeds: dict[str, list[int]] = within(NON_NEGATIVE, default_factory=lambda: {
        "sasrec": [42, 43, 44], "gru4rec": [42], "bert4rec": [42]})
    ablations: list[AblationName] = field(default_factory=list)
    ablation_seeds: list[int] = within(NON_NEGATIVE, default_factory=lambda: [42])
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> rat settings
    # that differ from the recipe's, e.g. {cosine-align: {align_form: cosine, alpha: 0.1}}:
    # each an LLMEmb model of its own, compared with LLMEmb and with ID on its backbone
    variant_backbones: list[str] = field(default_factory=lambda: ["sasrec"])  # those of
    # `seeds` the variants train on
    # None: each variant backbone's seeds in `seeds`
    variant_seeds: list[int] | None = within(NON_NEGATIVE, None)
    scft_per_seed: bool = False  # each LLMEmb seed on its own SCFT run (its seed), so that the
    # spread over seeds includes SCFT's; False: one SCFT run (the config's seed) for all


@dataclass
class ExperimentConfig:
    """One experiment: the data, the LLM stages and the recommender stages."""

    name: str = "ml100k_smollm2"
    seed: int = within(NON_NEGATIVE, 42)
    artifacts: str = "artifacts"
    data: DataConfig = field(default_factory=DataConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    scft: SCFTConfig = field(default_factory=SCFTConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    srs: SRSConfig = field(default_factory=SRSConfig)
    rat: RATConfig = field(default_factory=RATConfig)
    study: StudyConfig = field(default_factory=StudyConfig)
    fast: dict[str, Any] = field(default_factory=dict)  # dotted overrides for fast mode
    gpu: dict[str, Any] = field(default_factory=dict)  # the paper-size overrides (--gpu, paper)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible values (tuples become lists), as written in manifests; fields
        added after runs were first recorded are left out while at their defaults
        (:func:`recorded_settings`)."""
        values = json.loads(json.dumps(dataclasses.asdict(self)))
        return {**values, "data": recorded_data_settings(values["data"]),
                "rat": recorded_settings(values["rat"])}

    def identity(self, *sections: str) -> dict[str, Any]:
        """The seed and the named sections: what a stage's output depends on, so that a
        change elsewhere (say ``srs.epochs``) never invalidates an SCFT checkpoint."""
        values = self.to_dict()
        return {"seed": self.seed, **{name: values[name] for name in sections}}


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config``, ``--gpu`` and ``--fast``: every command reads its settings from a config
    file (the built-in defaults without one), with these overlays and its own flags on top."""
    parser.add_argument("--config", type=Path,
                        help="experiment YAML, e.g. configs/*.yaml (default: built-in defaults)")
    parser.add_argument("--gpu", action="store_true",
                        help="apply the config's gpu overlay (paper-size settings for CUDA)")
    parser.add_argument("--fast", action="store_true",
                        help="apply the config's fast overlay (a data slice, few steps)")


def given_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dotted overrides among ``values`` that are set: a CLI flag or notebook parameter left
    at None keeps the config's value."""
    return {key: value for key, value in values.items() if value is not None}


def load_cli_config(args: argparse.Namespace, **overrides: Any) -> ExperimentConfig:
    """``args.config`` with the overlays that ``add_config_arguments``' flags select, then
    ``overrides``."""
    return load_config(args.config, fast=args.fast, gpu=args.gpu, **overrides)


def load_config(path: str | os.PathLike | None = None, fast: bool = False, gpu: bool = False,
                **overrides: Any) -> ExperimentConfig:
    """Read a YAML config (or the built-in defaults) and apply dotted overrides.

    ``load_config("configs/ml100k_smollm2.yaml", **{"srs.epochs": 5, "seed": 43})``. With
    ``gpu=True`` the file's ``gpu`` overrides (paper-size settings) apply first, then with
    ``fast=True`` its ``fast`` ones (a data slice, few steps), then ``overrides``.
    """
    raw: dict[str, Any] = {} if path is None else _read_yaml(Path(path))
    layers = [overlay for overlay, wanted in (("gpu", gpu), ("fast", fast)) if wanted]
    for overlay in layers:
        if not isinstance(raw.get(overlay, {}), dict):
            raise ConfigError(f"{path}: {overlay} must be a mapping of dotted overrides")
    merged = {k: v for overlay in layers for k, v in raw.get(overlay, {}).items()}
    for dotted, value in {**merged, **overrides}.items():
        _set_dotted(raw, dotted.split("."), value)
    where = str(path) if path is not None else "<defaults>"
    _check_source(raw, where)
    config = build_section(ExperimentConfig, raw, where)
    for name, changes in config.study.variants.items():
        variant_settings(config, name, changes, where)
    return config


def variant_settings(config: ExperimentConfig, name: str, changes: Any,
                     source: str | None = None) -> tuple[RATConfig, SCFTConfig]:
    """The ``rat`` and ``scft`` sections of study variant ``name``: ``changes`` holds ``rat``
    fields and, under ``scft``, SCFT fields; checked as config fields are, when the config
    loads (errors then name its file, ``source``). A variant that changes SCFT reads a table
    of its own (``rat.scft_recipe``: its name)."""
    where = f"study.variants.{name}" if source is None else f"{source}: study.variants.{name}"
    if not isinstance(changes, dict):
        raise ConfigError(f"{where}: expected a mapping of rat settings, got {changes!r}")
    changes = dict(changes)
    scft_changes = changes.pop("scft", None) or {}
    fixed = sorted(set(changes) & {"variant", "ablation", "llm_emb", "teacher", "scft_recipe"})
    if fixed:
        raise ConfigError(f"{where}: {fixed} cannot vary: a variant changes how LLMEmb trains, "
                          "not its name or inputs")
    if not isinstance(scft_changes, dict):
        raise ConfigError(f"{where}.scft: expected a mapping of scft settings, "
                          f"got {scft_changes!r}")
    recipe = name if scft_changes else None
    rat = build_section(RATConfig, {**dataclasses.asdict(config.rat), **changes,
                                    "variant": name, "scft_recipe": recipe}, where)
    if recipe and rat.embeddings != "scft":
        raise ConfigError(f"{where}: changes scft but its runs read the {rat.embeddings} table")
    scft = build_section(SCFTConfig, {**dataclasses.asdict(config.scft), **scft_changes},
                         f"{where}.scft")
    return rat, scft


def _read_yaml(path: Path, extended_by: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The mapping of ``path``; with ``extends: <file>`` (relative to ``path``'s folder) that
    file's mapping first, this one merged over it key by key, so that a variant of an
    experiment states only what it changes."""
    if not path.is_file():
        where = f" (extended by {extended_by[-1]})" if extended_by else ""
        raise ConfigError(f"config file not found: {path}{where}")
    raw = _parsed_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(raw).__name__}")
    base = raw.pop("extends", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ConfigError(f"{path}: extends must be a file name, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in extended_by or base_path == path.resolve():
        raise ConfigError(f"{path}: extends {base} leads back to itself")
    return _merged(_read_yaml(base_path, (*extended_by, path.resolve())), raw)


def _parsed_yaml(path: Path) -> Any:
    """The YAML document in ``path``; a syntax error names the file, line and column."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{path}: {place}invalid YAML: {error.problem or error.context}"
                          ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from None


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` on top: mappings merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in changes.items():
        both_mappings = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merged(merged[key], value) if both_mappings else value
    return merged


def _check_source(raw: dict[str, Any], where: str) -> None:
    """Refuse a source that names an asset and a path: which data it means is unclear."""
    data = raw.get("data")
    source = data.get("source") if isinstance(data, dict) else None
    if isinstance(source, dict) and None not in (source.get("asset"), source.get("path")):
        raise ConfigError(f"{where}: data: source: asset {source['asset']!r} and path "
                          f"{source['path']!r} are both given; keep one of them")


def _set_dotted(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value


def build_section(cls: type, values: dict[str, Any], where: str,
                  path: tuple[str, ...] = ()) -> Any:
    """Instantiate dataclass ``cls`` from a mapping, checking names, types and ranges
    recursively; errors name ``where`` (the file) and the field, ``path`` being the section's
    own place in the config."""
    label = ": ".join((where, *path))
    if not isinstance(values, dict):
        raise ConfigError(f"{label}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{label}: unknown field(s) {unknown}; known: {sorted(fields)}")
    kwargs = {name: _coerce(hints[name], value, where, (*path, name))
              for name, value in values.items()}
    for name, value in kwargs.items():
        problem = range_problem(fields[name], hints[name], value, ".".join((*path, name)))
        if problem:
            raise ConfigError(f"{where}: {problem}")
    section = cls(**kwargs)
    joint = getattr(section, "joint_problem", None)  # a rule over several fields at once
    problem = joint() if joint else None
    if problem:
        raise ConfigError(f"{label}: {problem}")
    return section


def _coerce(hint: Any, value: Any, where: str, path: tuple[str, ...]) -> Any:
    label = ": ".join((where, *path))
    if dataclasses.is_dataclass(hint):
        return build_section(hint, value, where, path)
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if not any(value == option and type(value) is type(option) for option in allowed):
            raise ConfigError(f"{label}: {value!r} is not one of "
                              f"{', '.join(repr(option) for option in allowed)}")
        return value
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, where, path)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if errors else f"{label}: invalid value {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{label}: expected a list, got {value!r}")
        if origin is list:
            (item,) = typing.get_args(hint)
            return [_coerce(item, entry, where, path) for entry in value]
        return origin(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{label}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{label}: expected {hint.__name__}, got {value!r}")
    return value
