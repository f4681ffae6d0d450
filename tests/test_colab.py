"""The Colab set-up the notebooks' first cell runs: against a local clone of the kit, with pip
left out (no network)."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from llmemb_utils import colab
from llmemb_utils.notebook import repo_root


@pytest.fixture
def clone(tmp_path, monkeypatch):
    """A fresh git clone of this checkout; the working folder and sys.path are restored."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    target = tmp_path / "llmemb-kit"
    subprocess.run(["git", "clone", "-q", str(repo_root()), str(target)], check=True)
    return target


def test_run_as_the_first_cell_does_enters_the_clone(clone, monkeypatch):
    # the cell runs `%run <clone>/llmemb_utils/colab.py <clone>`: the clone's own committed
    # script, inside the kernel's process
    script = clone / "llmemb_utils" / "colab.py"
    monkeypatch.setattr(sys, "argv", [str(script), str(clone), "--dry-run"])
    runpy.run_path(str(script), run_name="__main__")
    assert Path.cwd() == clone.resolve()
    assert sys.path[0] == str(clone.resolve())
    assert (Path("configs") / "ml100k_smollm2.yaml").is_file()  # relative paths now resolve


def test_install_commands_use_the_clones_requirement_files(clone):
    commands = colab.enter(clone, dry_run=True)
    files = [Path(c[-1]) for c in commands]
    assert [f.name for f in files] == ["requirements-colab.txt", "llmemb-kit",
                                      "requirements-assets.txt"]
    assert all(f.exists() and f.is_relative_to(clone.resolve()) for f in files)
    assert [c[:4] for c in commands] == [[sys.executable, "-m", "pip", "install"]] * 3
    assert "--no-deps" not in commands[0] and "--no-deps" in commands[1] + commands[2]


def test_running_it_again_adds_nothing(clone):
    colab.enter(clone, dry_run=True)
    colab.enter(clone, dry_run=True)
    assert sys.path.count(str(clone.resolve())) == 1


def test_a_folder_that_is_not_the_kit_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a clone of the kit"):
        colab.enter(tmp_path, dry_run=True)
    assert Path.cwd() == tmp_path and os.listdir(tmp_path) == []
