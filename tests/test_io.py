"""Atomic writes and manifests."""

import hashlib

import pytest

from llmemb_utils.io import (
    KIT_ROOT,
    atomic_directory,
    fingerprint,
    kit_relative,
    make_manifest,
    read_json,
    sha256_file,
    write_json,
)


def test_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 100_000)
    assert sha256_file(path, chunk_size=1000) == hashlib.sha256(b"abc" * 100_000).hexdigest()


def test_atomic_directory_replaces_only_on_success(tmp_path):
    target = tmp_path / "out"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"

    with pytest.raises(RuntimeError, match="crash"):
        with atomic_directory(target) as staging:
            (staging / "a.txt").write_text("half-written")
            raise RuntimeError("crash")
    assert (target / "a.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left behind


def test_write_json_sorted_and_read_back(tmp_path):
    path = tmp_path / "sub" / "x.json"
    write_json(path, {"b": 1, "a": [1.5, 2]})
    assert path.read_text().startswith('{\n  "a"')
    assert read_json(path) == {"a": [1.5, 2], "b": 1}


def test_read_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n"a": \n}')
    with pytest.raises(ValueError, match=r"bad.json: invalid JSON at line 3"):
        read_json(path)


def test_fingerprint_depends_on_files_only():
    one = make_manifest("k", {"x": 1}, files={"a": "00"})
    two = make_manifest("k", {"x": 2}, files={"a": "00"})
    three = make_manifest("k", {"x": 1}, files={"a": "01"})
    assert fingerprint(one) == fingerprint(two) != fingerprint(three)


def test_kit_relative_hides_the_machines_folders_inside_the_kit(tmp_path):
    assert kit_relative(KIT_ROOT / "artifacts" / "x" / "data") == "artifacts/x/data"
    assert kit_relative(str(tmp_path / "data")) == str(tmp_path / "data")  # outside: as given


def test_manifest_survives_a_json_round_trip(tmp_path):
    manifest = make_manifest("k", {"x": [1, 2]}, seed=7, files={"a": "00"},
                             inputs={"data": {"files": {"b": "01"}}})
    write_json(tmp_path / "manifest.json", manifest)
    assert read_json(tmp_path / "manifest.json") == manifest
    assert {k: manifest[k] for k in ("kind", "seed", "config", "files", "inputs")} == {
        "kind": "k", "seed": 7, "config": {"x": [1, 2]}, "files": {"a": "00"},
        "inputs": {"data": {"files": {"b": "01"}}}}
