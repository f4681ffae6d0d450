"""The shared readers: line numbers, gzip detection, skipping, parsing helpers."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from llmemb_utils.data.readers import (
    LineReader,
    delimited,
    first_line,
    iso_seconds,
    json_object,
    python_literal_object,
)
from llmemb_utils.data.schema import DataFormatError


def test_line_reader_numbers_lines_and_skips_blank_ones(write_lines):
    path = write_lines("data.txt", ["a|1", "", "  ", "b|2\r"])
    assert list(LineReader(path, delimited("|", 2), expects="x")) == [
        (1, ["a", "1"]), (4, ["b", "2"])]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "renamed.json"
    path.write_bytes(gzip.compress(b'{"a": 1}\n'))
    assert list(LineReader(path, json_object, expects="x")) == [(1, {"a": 1})]
    assert first_line(path, "x") == '{"a": 1}'


def test_skip_malformed_counts_lines(write_lines):
    path = write_lines("data.txt", ["a|1", "b", "c|3|x", "d|4"])
    reader = LineReader(path, delimited("|", 2), expects="name|value", skip_malformed=True)
    assert [fields for _, fields in reader] == [["a", "1"], ["d", "4"]]
    assert reader.skipped == 2
    with pytest.raises(DataFormatError, match=re.escape(
            f"{path}:2: ValueError: expected 2 '|'-separated fields, got 1 (expected name|value; "
            "set skip_malformed to skip such lines)")):
        list(LineReader(path, delimited("|", 2), expects="name|value"))


def test_missing_file_names_path_and_expectation(tmp_path):
    with pytest.raises(DataFormatError, match=re.escape(
            f"{tmp_path / 'u.data'}: file not found (expected MovieLens ratings)")):
        list(LineReader(tmp_path / "u.data", str, expects="MovieLens ratings"))


def test_missing_field_is_named(write_lines):
    path = write_lines("data.jsonl", ['{"user": 1}'])
    with pytest.raises(DataFormatError, match=re.escape(f"{path}:1: missing field 'item'")):
        list(LineReader(path, lambda line: json_object(line)["item"], expects="x"))


def test_python_literal_object_accepts_literals_only():
    assert python_literal_object("{'a': [['x']], 'b': 1.5, 'c': None}") == {
        "a": [["x"]], "b": 1.5, "c": None}
    with pytest.raises(ValueError, match="malformed node"):
        python_literal_object("{'a': open('/etc/passwd').read()}")
    with pytest.raises(ValueError, match="expected an object, got list"):
        python_literal_object("[1, 2]")


@pytest.mark.parametrize(("text", "seconds"), [
    ("2011-01-26", 1296000000),
    ("2018-07-07 22:09:11", 1531001351),
    ("2018-07-07T23:09:11+01:00", 1531001351),
])
def test_iso_seconds(text, seconds):
    assert iso_seconds(text) == seconds


def test_relative_source_path_falls_back_to_the_kits_root(tmp_path, monkeypatch):
    from llmemb_utils.config import SourceConfig
    from llmemb_utils.data.loaders import resolve_path
    from llmemb_utils.layout import repo_root

    monkeypatch.chdir(tmp_path)  # as a notebook kernel started in notebooks/
    source = SourceConfig(asset=None, path="configs/ml100k_smollm2.yaml")
    assert resolve_path(source) == repo_root() / "configs/ml100k_smollm2.yaml"
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs/ml100k_smollm2.yaml").write_text("local")
    assert resolve_path(source).resolve() == tmp_path / "configs/ml100k_smollm2.yaml"  # cwd first
    missing = SourceConfig(asset=None, path="data/raw/nowhere")
    assert resolve_path(missing) == Path("data/raw/nowhere")  # left as given for the error
