"""Per-rule conda envs, checked statically (conda channels are unreachable on the build machines).

For every rule: the env it names exists; every third-party module its script and the package code
the script reaches import is provided by that env; the `code=code_inputs(...)` input names exactly
the `dlwf` files the script reaches, relative to the working directory. For every env: its pins
equal requirements.txt's.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml

from dlwf.plan.code import script_reach
from tests.rule_analysis import load_rules
from tests.workflow import REPO

# The one documented difference between the pip and the conda names of a pin: PyPI's CPU-only
# TensorFlow wheel is `tensorflow-cpu`; conda-forge's `tensorflow` picks a CUDA or CPU build by host.
PIP_TO_CONDA = {"tensorflow-cpu": "tensorflow"}
# Conda-only entries of an env that are not Python dependencies of the project.
CONDA_TOOLING = {"python", "pip"}


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path = REPO / "requirements.txt") -> dict[str, str]:
    """{normalized pip name: version} of the `name==version` lines."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", line)
        assert match, f"requirements.txt: {line!r} is not pinned as name==version"
        pins[normalize(match.group(1))] = match.group(3)
    return pins


def read_env(path: Path) -> dict:
    """{"channels": [...], "conda": {name: version|None}, "pip": {name: version|None}} of a conda env file."""
    spec = yaml.safe_load(path.read_text())
    conda, pip = {}, {}
    for dep in spec.get("dependencies") or []:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{path.name}: unexpected dependency entry {dep}"
            for line in dep["pip"]:
                match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?(?:==(\S+))?", line.strip())
                assert match, f"{path.name}: pip entry {line!r} is not name==version"
                pip[normalize(match.group(1))] = match.group(3)
            continue
        match = re.fullmatch(
            r"(?:conda-forge::)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:(?:==?|\s)\s*([^\s=<>!,*]+))?", dep.strip()
        )
        assert match, f"{path.name}: conda dependency {dep!r} is not 'name =version'"
        conda[normalize(match.group(1))] = match.group(2)
    return {"channels": spec.get("channels") or [], "conda": conda, "pip": pip}


def provided_names(env: dict) -> set[str]:
    """Normalized pip names an env provides (conda names mapped back through PIP_TO_CONDA)."""
    conda_to_pip = {conda: pip for pip, conda in PIP_TO_CONDA.items()}
    names = set(env["pip"])
    for name in env["conda"]:
        names |= {name, conda_to_pip.get(name, name)}
    return names


@functools.cache
def distribution_of(module: str) -> frozenset[str]:
    """Normalized names of the installed distributions that provide the import name ``module``."""
    return frozenset(normalize(d) for d in _distributions().get(module, []))


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return packages_distributions()


ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_rules(tmp_path_factory.mktemp("rules"))


@pytest.fixture(scope="module")
def script_rules(rules):
    return {name: info for name, info in rules.items() if info.script is not None}


def test_every_rule_names_an_existing_env_and_script(rules):
    problems = []
    for name, info in rules.items():
        if info.norun:
            continue
        if info.conda_env is None or not info.conda_env.is_file():
            problems.append(f"rule {name} ({info.smk.name}): conda env {info.conda_env} missing")
        if info.script is None:
            problems.append(f"rule {name} ({info.smk.name}): no script: (the checks below need one)")
        elif not info.script.is_file():
            problems.append(f"rule {name} ({info.smk.name}): script {info.script} missing")
    assert not problems, "\n".join(problems)


def test_scripts_imports_are_provided_by_the_rule_env(script_rules):
    problems = []
    for name, info in script_rules.items():
        env = read_env(info.conda_env)
        provided = provided_names(env)
        for module in sorted(script_reach(info.script).third_party):
            distributions = distribution_of(module)
            if not distributions:
                problems.append(f"rule {name}: imports {module!r}, which no installed distribution provides")
            elif not distributions & provided:
                problems.append(
                    f"rule {name}: imports {module!r} (distribution {'/'.join(sorted(distributions))}) "
                    f"but {info.conda_env.relative_to(REPO)} does not list it"
                )
    assert not problems, "\n".join(problems)


def test_code_inputs_are_exactly_the_package_files_the_script_reaches(script_rules):
    problems = []
    for name, info in script_rules.items():
        reached = {str(p) for p in script_reach(info.script).files()}
        if name in ("download", "fetch_prediction_input"):  # a verified file is its checksum, not the fetching code
            assert info.code_inputs is None, f"{name}: no code input (see rules/download.smk)"
            continue
        if info.code_inputs is None:
            problems.append(f"rule {name}: no `code=code_inputs(...)` input, script reaches {sorted(reached)}")
            continue
        if any(Path(p).is_absolute() for p in info.code_inputs_raw):
            problems.append(f"rule {name}: code inputs must be relative (a moved checkout reruns them)")
        declared = set(info.code_inputs)
        if reached != declared:
            problems.append(f"rule {name}: code inputs {sorted(declared ^ reached)} differ from what its script runs")
    assert not problems, "\n".join(problems)


def test_package_urls_are_provided_by_the_download_env(rules):
    """`package://MODULE/...` dataset URLs are read with importlib in the download rule's env."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    env = read_env(rules["download"].conda_env)
    for dataset, spec in config["datasets"].items():
        for entry in spec["files"]:
            if entry["url"].startswith("package://"):
                module = entry["url"].removeprefix("package://").split("/", 1)[0]
                assert distribution_of(module) & provided_names(env), (dataset, entry["url"], env)


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_pins_equal_requirements(env_file):
    pins = read_requirements()
    env = read_env(env_file)
    assert env["channels"] and env["channels"][0] == "conda-forge", f"{env_file.name}: conda-forge first"
    assert "defaults" not in env["channels"], f"{env_file.name}: the defaults channel is not used"
    target = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]["target-version"]
    python = f"{target[2]}.{target[3:]}"  # py311 -> 3.11
    assert env["conda"].get("python") == python, f"{env_file.name}: pin python ={python} (pyproject's {target})"
    problems = []
    for name, version in env["conda"].items():
        if name in CONDA_TOOLING:
            continue
        candidates = [pip for pip, conda in PIP_TO_CONDA.items() if conda == name] + [name]
        pip_name = next((c for c in candidates if c in pins), None)
        if pip_name is None:
            problems.append(f"{name}: not pinned in requirements.txt (the single place for pins)")
        elif version != pins[pip_name]:
            problems.append(f"{name} ={version}: requirements.txt pins {pip_name}=={pins[pip_name]}")
    for name, version in env["pip"].items():
        if name not in pins:
            problems.append(f"pip {name}: not pinned in requirements.txt")
        elif version != pins[name]:
            problems.append(f"pip {name}=={version}: requirements.txt pins {pins[name]}")
    if env["pip"]:
        assert "pip" in env["conda"], f"{env_file.name}: has a pip: section but does not list pip"
    assert not problems, f"{env_file.name}:\n" + "\n".join(problems)


def test_every_env_is_used_by_a_rule(rules):
    used = {info.conda_env for info in rules.values() if info.conda_env}
    assert {p.resolve() for p in ENV_FILES} <= {p.resolve() for p in used}


def test_env_checks_can_fail(tmp_path):
    """The parsers see a wrong pin, an unpinned package and a missing module."""
    env_file = tmp_path / "env.yaml"
    env_file.write_text(
        "channels: [conda-forge]\ndependencies:\n  - python =3.11\n  - numpy =1.0\n  - tensorflow =2.21.0\n"
        "  - pandas\n  - pip\n  - pip:\n      - keras-tuner==1.4.8\n"
    )
    env = read_env(env_file)
    pins = read_requirements()
    assert env["conda"]["numpy"] != pins["numpy"]
    assert env["conda"]["pandas"] is None
    assert {"tensorflow-cpu", "keras-tuner"} <= provided_names(env)
    assert "scikit-learn" not in provided_names(env) and distribution_of("sklearn") == {"scikit-learn"}


def test_reach_follows_package_imports_and_lazy_imports_of_used_functions():
    """fileio.save_figure imports matplotlib inside the function: only scripts that save figures need it;
    the feature pass does not run the evaluation's modules, nor the plan's."""
    pairplot = script_reach(REPO / "scripts" / "plot_pairplot.py")
    prepare = script_reach(REPO / "scripts" / "prepare_table.py")
    train = script_reach(REPO / "scripts" / "train_tabular.py")
    features = script_reach(REPO / "scripts" / "extract_features.py")
    assert "matplotlib" in pairplot.third_party and "matplotlib" not in prepare.third_party
    assert {"dlwf.steps.tables", "dlwf.data.tables", "dlwf.core.fileio", "dlwf.core"} <= prepare.package_modules
    # train_tabular imports dlwf.steps.tabular inside main(); it imports keras, nn.training, nn.builders...
    assert {"dlwf.steps.tabular", "dlwf.nn.training", "dlwf.nn.builders", "dlwf.core.runtime"} <= train.package_modules
    assert {"keras", "tensorflow"} <= train.third_party and "tensorflow" not in prepare.third_party
    assert "dlwf.nn.transfer_base" in features.package_modules
    assert not {m for m in features.package_modules if m.startswith(("dlwf.evaluate", "dlwf.plan", "dlwf.nn.training"))}
