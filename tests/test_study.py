"""The study grid: which runs, in which order, with which settings, and the parallel
scheduler that starts an LLMEmb run only after its teacher."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from llmemb_utils import pipeline
from llmemb_utils.config import ConfigError, RATConfig, StudyConfig, load_config
from llmemb_utils.layout import RunLayout
from llmemb_utils.study import RunSpec, grid_overrides, plan, spec_config, table_key
from llmemb_utils.study.scheduling import schedule

ROOT = Path(__file__).resolve().parent.parent


def test_plan_puts_id_runs_and_teachers_before_llmemb_runs() -> None:
    specs = plan(StudyConfig(seeds={"gru4rec": [7], "sasrec": [42]}, ablations=["no-align"],
                             ablation_seeds=[42, 43]))
    assert [str(s) for s in specs] == [
        "ID-gru4rec, seed 7", "ID-sasrec, seed 42",
        "ID-sasrec, seed 7", "ID-sasrec, seed 43",  # teachers the grid lacked
        "LLMEmb-gru4rec, seed 7", "LLMEmb-sasrec, seed 42",
        "LLMEmb-sasrec (no-align), seed 42", "LLMEmb-sasrec (no-align), seed 43"]


def test_a_config_may_name_caser_in_its_grid_and_as_its_backbone(tmp_path: Path) -> None:
    path = tmp_path / "caser.yaml"
    path.write_text("srs: {backbone: caser}\nstudy: {seeds: {caser: [5]}, ablations: []}\n")
    config = load_config(path)
    assert config.srs.backbone == "caser"
    specs = plan(config.study)
    assert [str(s) for s in specs] == ["ID-caser, seed 5", "ID-sasrec, seed 5",
                                       "LLMEmb-caser, seed 5"]
    assert spec_config(config, specs[2]).srs.backbone == "caser"


@pytest.mark.parametrize(("study", "message"), [
    (StudyConfig(seeds={"sasrek": [42]}), r"study.seeds: unknown backbone\(s\) \['sasrek'\]"),
    (StudyConfig(seeds={"sasrec": []}), "study.seeds.sasrec: expected a non-empty list of "
                                        "integer seeds, got \\[\\]"),
])
def test_plan_names_the_bad_field(study: StudyConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(study)


def test_spec_config_sets_seed_backbone_ablation_and_pins_the_table() -> None:
    config = load_config(ROOT / "configs/ml100k_smollm2.yaml")
    tables = {("scft", None, None): Path("/t/scft.npy"), ("raw", None, None): Path("/t/raw.npy")}
    run = spec_config(config, RunSpec("gru4rec", "llmemb", 43, "no-scft"), tables)
    assert (run.seed, run.srs.backbone, run.rat.ablation) == (43, "gru4rec", "no-scft")
    assert run.rat.llm_emb == "/t/raw.npy"  # no-scft reads the raw table
    assert spec_config(config, RunSpec("sasrec", "llmemb", 42), tables).rat.llm_emb == \
        "/t/scft.npy"
    assert spec_config(config, RunSpec("sasrec", "id", 42), tables).rat.llm_emb is None
    assert config.seed == 42 and config.rat.ablation is None  # the input is not changed
    assert spec_config(config, RunSpec("sasrec", "llmemb", 43), tables).rat.scft_seed is None


def test_scft_per_seed_gives_each_llmemb_seed_its_own_scft_table() -> None:
    config = load_config(ROOT / "configs/ml100k_smollm2.yaml", **{"study.scft_per_seed": True})
    tables = {("scft", None, None): Path("/t/scft.npy"),
              ("scft", 43, None): Path("/t/scft-seed43.npy"),
              ("raw", None, None): Path("/t/raw.npy")}

    def rat(spec: RunSpec) -> RATConfig:
        return spec_config(config, spec, tables).rat

    assert (rat(RunSpec("sasrec", "llmemb", 43)).scft_seed,
            rat(RunSpec("sasrec", "llmemb", 43)).llm_emb) == (43, "/t/scft-seed43.npy")
    assert rat(RunSpec("sasrec", "llmemb", 42)).llm_emb == "/t/scft.npy"  # the config's seed
    assert rat(RunSpec("sasrec", "llmemb", 43, "no-scft")).llm_emb == "/t/raw.npy"
    assert rat(RunSpec("sasrec", "llmemb", 43, "no-scft")).scft_seed is None
    assert rat(RunSpec("sasrec", "id", 43)).scft_seed is None
    assert table_key(RATConfig(scft_seed=44)) == ("scft", 44, None)
    assert table_key(RATConfig(scft_seed=44, ablation="no-scft")) == ("raw", None, None)


def test_scft_seeds_have_their_own_files_and_run_folders() -> None:
    config = load_config(ROOT / "configs/ml100k_smollm2.yaml")
    layout = RunLayout(config)
    assert layout.llm_table("scft") == layout.root / "embeddings" / "scft.npy"
    assert layout.llm_table("scft", 43) == layout.root / "embeddings" / "scft-seed43.npy"
    assert layout.llm_table("raw", 43) == layout.root / "embeddings" / "raw.npy"
    assert (layout.scft_run(), layout.scft_run(43)) == (layout.root / "scft",
                                                       layout.root / "scft-seed43")
    own = dataclasses.replace(config, rat=dataclasses.replace(config.rat, scft_seed=43))
    assert pipeline._srs_folder(own, "llmemb") != pipeline._srs_folder(config, "llmemb")
    assert pipeline._srs_folder(own, "id") == pipeline._srs_folder(config, "id")
    assert layout.scft_run(43, "l4") == layout.root / "scft-l4-seed43"
    assert layout.llm_table("scft", None, "l4") == layout.root / "embeddings" / "scft-l4.npy"
    assert layout.llm_table("raw", None, "l4") == layout.root / "embeddings" / "raw.npy"


def test_a_variant_that_changes_scft_reads_a_table_of_its_own() -> None:
    config = load_config(ROOT / "configs/ml100k_smollm2.yaml", **{
        "study.scft_per_seed": True,
        "study.variants": {"l4": {"scft": {"lora_layers": 4, "steps": 800}, "alpha": 0.1}}})
    tables = {("scft", None, None): Path("/t/scft.npy"), ("scft", None, "l4"): Path("/t/l4.npy"),
              ("scft", 43, "l4"): Path("/t/l4-43.npy")}
    run = spec_config(config, RunSpec("sasrec", "llmemb", 42, variant="l4"), tables)
    assert (run.scft.lora_layers, run.scft.steps, run.scft.batch_size) == (4, 800, 32)
    assert (run.rat.alpha, run.rat.variant, run.rat.scft_recipe) == (0.1, "l4", "l4")
    assert run.rat.llm_emb == "/t/l4.npy"
    assert spec_config(config, RunSpec("sasrec", "llmemb", 43, variant="l4"),
                       tables).rat.llm_emb == "/t/l4-43.npy"
    plain = spec_config(config, RunSpec("sasrec", "llmemb", 42), tables)
    assert (plain.scft, plain.rat.scft_recipe) == (config.scft, None)
    assert run.rat.teacher == str(pipeline.teacher_folder(plain))  # one teacher for all
    assert plain.rat.teacher is None
    assert pipeline._srs_folder(run, "llmemb") != pipeline._srs_folder(plain, "llmemb")


@pytest.mark.parametrize(("changes", "message"), [
    ({"scft": {"lora_layer": 4}}, r"study.variants.v.scft: unknown field\(s\) \['lora_layer'\]"),
    ({"scft": 4}, r"study.variants.v.scft: expected a mapping"),
    ({"scft": {"steps": 10}, "ablation": "no-scft"},
     r"study.variants.v: \['ablation'\] cannot vary"),
    ({"scft": {"steps": 10}, "embeddings": "raw"},
     r"study.variants.v: changes scft but its runs read the raw"),
])
def test_a_bad_scft_variant_names_its_file_and_field(changes: dict, message: str) -> None:
    path = ROOT / "configs/ml100k_smollm2.yaml"
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: {message}"):
        load_config(path, **{"study.variants": {"v": changes}})


def record_run(folder: Path, seconds: dict[RunSpec, float], spec: RunSpec) -> Path:
    """A stand-in for training: sleeps ``seconds[spec]``, then records when it ran."""
    started = time.time()
    time.sleep(seconds[spec])
    out = folder / f"{spec.backbone}-{spec.encoder}-{spec.seed}.json"
    out.write_text(json.dumps([started, time.time()]))
    return out


def test_parallel_schedule_starts_a_run_only_after_what_it_needs(tmp_path: Path) -> None:
    import functools

    teacher, other = RunSpec("sasrec", "id", 42), RunSpec("bert4rec", "id", 42)
    student = RunSpec("sasrec", "llmemb", 42)
    needs = {teacher: set(), other: set(), student: {teacher}}
    seconds = {teacher: 2.0, other: 2.0, student: 0.05}  # both workers start within 2 s
    done = dict(schedule(functools.partial(record_run, tmp_path, seconds),
                         [teacher, other, student], needs, workers=2))
    assert set(done) == {teacher, other, student}
    times = {spec: json.loads(path.read_text()) for spec, path in done.items()}
    assert times[student][0] >= times[teacher][1]
    assert times[other][0] < times[teacher][1]  # the independent run overlapped the teacher


def test_stopping_the_schedule_terminates_the_running_workers(tmp_path: Path) -> None:
    import functools

    quick, slow = RunSpec("bert4rec", "id", 42), RunSpec("sasrec", "id", 42)
    seconds = {slow: 6.0, quick: 0.05}
    runs = schedule(functools.partial(record_run, tmp_path, seconds), [slow, quick],
                    {slow: set(), quick: set()}, workers=2)
    assert next(runs)[0] == quick
    closing = time.time()
    runs.close()  # what an interrupted notebook cell does to the generator
    assert time.time() - closing < 3.0
    time.sleep(6.0)
    assert not (tmp_path / "sasrec-id-42.json").exists()  # the slow run never finished


def test_cli_study_refuses_backbones_outside_the_grid(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from llmemb_utils.cli import main

    config = tmp_path / "c.yaml"
    config.write_text("study: {seeds: {sasrec: [1], gru4rec: [1]}}\n")
    assert main(["study", "--config", str(config), "--backbones", "bert4rec"]) == 2
    assert capsys.readouterr().err.strip() == (
        "llmemb study: error: --backbones bert4rec: none of them is in the config's "
        "study.seeds (sasrec, gru4rec)")


def test_grid_overrides_widen_and_narrow_the_grid() -> None:
    study = StudyConfig(seeds={"sasrec": [42, 43], "gru4rec": [42]})
    assert grid_overrides(study) == {"study.seeds": {"sasrec": [42, 43], "gru4rec": [42]}}
    assert grid_overrides(study, seeds=[1, 2], backbones=["gru4rec"]) == {
        "study.seeds": {"gru4rec": [1, 2]}, "study.ablations": []}
    assert grid_overrides(study, ablations=["all"])["study.ablations"] == [
        "no-adapter", "no-align", "no-scft", "trainable-table"]


def test_a_terminated_study_stops_its_workers(tmp_path: Path) -> None:
    """``kill`` of the study (SIGTERM) ends the runs in its workers too."""
    import functools

    quick, slow = RunSpec("bert4rec", "id", 42), RunSpec("sasrec", "id", 42)
    seconds = {slow: 6.0, quick: 0.05}
    handler = signal.getsignal(signal.SIGTERM)
    runs = schedule(functools.partial(record_run, tmp_path, seconds), [slow, quick],
                    {slow: set(), quick: set()}, workers=2)
    assert next(runs)[0] == quick
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with pytest.raises(SystemExit):
        next(runs)
    assert signal.getsignal(signal.SIGTERM) == handler  # restored
    time.sleep(6.0)
    assert not (tmp_path / "sasrec-id-42.json").exists()  # the slow run never finished


def test_a_grid_without_sasrec_leaves_out_the_sasrec_ablations_and_variants() -> None:
    study = StudyConfig(seeds={"sasrec": [1, 2], "gru4rec": [1]}, ablations=["no-align"],
                        variants={"cosine-align": {"align_form": "cosine"}})
    overrides = grid_overrides(study, backbones=["gru4rec"])
    assert overrides == {"study.seeds": {"gru4rec": [1]}, "study.ablations": [],
                         "study.variants": {}}
    narrowed = load_config(None, **{"study.seeds": study.seeds, "study.variants":
                                    study.variants, **overrides}).study
    assert {spec.backbone for spec in plan(narrowed)} == {"gru4rec", "sasrec"}  # + teacher
    assert not any(spec.variant or spec.ablation for spec in plan(narrowed))
    assert grid_overrides(study, backbones=["sasrec"]) == {"study.seeds": {"sasrec": [1, 2]}}


def test_variants_given_no_name_leave_every_variant_out_and_the_rest_of_the_grid_as_is(
        ) -> None:
    study = StudyConfig(seeds={"sasrec": [1], "gru4rec": [2]}, ablations=["no-align"],
                        ablation_seeds=[1], variants={"v": {"id_embedding": True}},
                        variant_backbones=["sasrec", "gru4rec"])
    overrides = grid_overrides(study, variants=[])
    assert overrides == {"study.seeds": {"sasrec": [1], "gru4rec": [2]}, "study.variants": {}}
    narrowed = load_config(None, **{"study.seeds": study.seeds, "study.ablations":
                                    study.ablations, "study.ablation_seeds": [1],
                                    "study.variants": study.variants,
                                    "study.variant_backbones": study.variant_backbones,
                                    **overrides}).study
    assert set(plan(narrowed)) == {
        RunSpec("gru4rec", "id", 2), RunSpec("gru4rec", "llmemb", 2), RunSpec("sasrec", "id", 1),
        RunSpec("sasrec", "id", 2),  # the teacher of gru4rec's LLMEmb run
        RunSpec("sasrec", "llmemb", 1), RunSpec("sasrec", "llmemb", 1, "no-align")}


def test_variants_train_on_every_variant_backbone_with_its_own_seeds() -> None:
    study = StudyConfig(seeds={"sasrec": [1, 2], "gru4rec": [3], "bert4rec": [4]},
                        variants={"v": {"id_embedding": True}},
                        variant_backbones=["gru4rec", "bert4rec"])
    assert [(s.backbone, s.seed) for s in plan(study) if s.variant] == [("gru4rec", 3),
                                                                         ("bert4rec", 4)]
    fixed = dataclasses.replace(study, variant_seeds=[7])
    assert [(s.backbone, s.seed) for s in plan(fixed) if s.variant] == [("gru4rec", 7),
                                                                         ("bert4rec", 7)]
    assert RunSpec("bert4rec", "llmemb", 7) in plan(fixed)  # each variant beside its baseline
    narrowed = grid_overrides(study, backbones=["gru4rec"])
    assert "study.variants" not in narrowed  # gru4rec is a variant backbone: they stay
    two = dataclasses.replace(study, variants={"v": {}, "w": {"alpha": 0.1}})
    assert grid_overrides(two, variants=["w"])["study.variants"] == {"w": {"alpha": 0.1}}
    with pytest.raises(ValueError, match=r"--variants x: not in the config's study.variants "
                                         r"\(v, w\)"):
        grid_overrides(two, variants=["w", "x"])
    assert grid_overrides(study, backbones=["sasrec"])["study.variants"] == {}
    with pytest.raises(ValueError, match=r"study.variant_backbones: unknown backbone\(s\) "
                                         r"\['lstm'\]"):
        plan(dataclasses.replace(study, variant_backbones=["lstm"]))
