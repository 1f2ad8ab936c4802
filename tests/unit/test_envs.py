"""Per-rule conda envs, checked statically (conda channels are unreachable on the build machines).

For every rule: the env it names exists; every third-party module its script and the package code
the script reaches import is provided by that env; the `code=code_version(...)` param is the digest
of exactly the code the rule's own script runs. For every env: its pins
equal requirements.txt's. For requirements.txt: every line pinned, and on every supported platform
and Python exactly one TensorFlow distribution applies, one that PyPI has a wheel of there;
requirements-gpu.txt differs from it only in its TensorFlow line.
"""

from __future__ import annotations

import functools
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

from dlwf.plan.code import code_version, script_reach
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


def requirement_lines(path: Path = REPO / "requirements.txt") -> list[Requirement]:
    """The requirements of a requirements file, each pinned as ``name[extras]==version[; marker]``."""
    lines = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"{path.name}: {line!r} is not pinned as name==version (an environment marker may follow ';')"
        )
        lines.append(requirement)
    return lines


def pinned_version(requirement: Requirement) -> str:
    return next(iter(requirement.specifier)).version


def read_requirements(path: Path = REPO / "requirements.txt") -> dict[str, str]:
    """{normalized pip name: version} of every line, whatever its environment marker."""
    return {normalize(r.name): pinned_version(r) for r in requirement_lines(path)}


# The machines requirements.txt supports, as environment-marker values, and the platform tag of
# the TensorFlow wheels each can install.
PLATFORMS = {
    "Linux x86_64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
        "manylinux_2_27_x86_64",
    ),
    "Windows x86_64": (
        {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
        "win_amd64",
    ),
    "macOS arm64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
        "macosx_12_0_arm64",
    ),
    "Linux aarch64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
        "manylinux_2_27_aarch64",
    ),
}
PYTHONS = ["3.11", "3.12", "3.13"]
# Platform tags of the 2.21.0 wheels on PyPI (https://pypi.org/simple/tensorflow/ and
# .../tensorflow-cpu/, read 2026-11; each for cp310-cp313, none for cp314 nor Intel macOS).
TENSORFLOW_WHEELS = {
    "tensorflow": {"manylinux_2_27_x86_64", "manylinux_2_27_aarch64", "macosx_12_0_arm64", "win_amd64"},
    "tensorflow-cpu": {"manylinux_2_27_x86_64", "win_amd64"},
}


def applies(requirement: Requirement, environment: dict, python: str) -> bool:
    if requirement.marker is None:
        return True
    env = {**default_environment(), **environment, "python_version": python, "python_full_version": f"{python}.0"}
    return requirement.marker.evaluate(env)


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


def test_every_rule_tracks_the_code_its_own_script_runs(script_rules):
    problems = []
    for name, info in script_rules.items():
        if name in ("download", "fetch_prediction_input"):  # a verified file is its checksum, not the fetching code
            assert info.code_version is None, f"{name}: no code version (see rules/download.smk)"
            continue
        if info.code_version is None:
            problems.append(f"rule {name}: no `code=code_version(...)` param")
        elif info.code_version != code_version(info.script.stem):
            problems.append(f"rule {name}: its code param is not code_version({info.script.stem!r}), its script's")
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


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_exactly_one_tensorflow_with_a_wheel_applies_on_each_supported_platform(platform, python):
    environment, wheel_tag = PLATFORMS[platform]
    requirements = requirement_lines()
    tensorflows = [
        r for r in requirements if normalize(r.name) in TENSORFLOW_WHEELS and applies(r, environment, python)
    ]
    assert len(tensorflows) == 1, f"{platform}, Python {python}: {[str(r) for r in tensorflows]}"
    name = normalize(tensorflows[0].name)
    assert wheel_tag in TENSORFLOW_WHEELS[name], f"{platform}: {name} has no {wheel_tag} wheel"
    # CPU-only where PyPI has that smaller wheel
    assert name == ("tensorflow-cpu" if wheel_tag in TENSORFLOW_WHEELS["tensorflow-cpu"] else "tensorflow")
    # everything else is the same everywhere
    others = [r for r in requirements if normalize(r.name) not in TENSORFLOW_WHEELS]
    assert all(r.marker is None for r in others), [str(r) for r in others if r.marker]


def test_tensorflow_lines_pin_one_version():
    versions = {pinned_version(r) for r in requirement_lines() if normalize(r.name) in TENSORFLOW_WHEELS}
    assert len(versions) == 1, versions


def test_gpu_requirements_differ_only_in_tensorflow():
    gpu = {normalize(r.name): r for r in requirement_lines(REPO / "requirements-gpu.txt")}
    cpu = {normalize(r.name): r for r in requirement_lines() if normalize(r.name) not in TENSORFLOW_WHEELS}
    tensorflow = gpu.pop("tensorflow")
    assert tensorflow.extras == {"and-cuda"} and tensorflow.marker is None, str(tensorflow)
    assert pinned_version(tensorflow) == read_requirements()["tensorflow-cpu"]
    assert {n: str(r) for n, r in gpu.items()} == {n: str(r) for n, r in cpu.items()}


def test_requirement_checks_can_fail(tmp_path):
    """An unpinned line is refused; a marker that leaves macOS without TensorFlow is seen."""
    unpinned = tmp_path / "unpinned.txt"
    unpinned.write_text("numpy>=2\n")
    with pytest.raises(AssertionError, match="not pinned"):
        requirement_lines(unpinned)
    linux_only = Requirement('tensorflow-cpu==2.21.0; sys_platform == "linux"')
    assert applies(linux_only, PLATFORMS["Linux x86_64"][0], "3.12")
    assert not applies(linux_only, PLATFORMS["macOS arm64"][0], "3.12")
    assert not applies(Requirement('numpy==2.4.6; python_version < "3.12"'), {}, "3.13")


TENSORFLOW_ENVS = [p for p in ENV_FILES if "tensorflow" in read_env(p)["conda"]]


def test_tensorflow_envs_leave_the_gpu_variant_to_conda_and_say_how_to_choose_it():
    """conda-forge's tensorflow has a CUDA and a CPU build of each version; a build string in the spec
    (tensorflow =2.21.0=cuda*) or the tensorflow-cpu/-gpu metapackages would fix one for everybody."""
    assert {p.name for p in TENSORFLOW_ENVS} == {"tensorflow.yaml", "tuner.yaml"}
    for path in TENSORFLOW_ENVS:
        specs = [d for d in yaml.safe_load(path.read_text())["dependencies"] if isinstance(d, str)]
        tensorflow = [s for s in specs if re.match(r"(conda-forge::)?tensorflow\b", s)]
        assert tensorflow == ["tensorflow =2.21.0"], (path.name, tensorflow)
        env = read_env(path)
        assert not {"tensorflow-cpu", "tensorflow-gpu"} & (set(env["conda"]) | set(env["pip"])), path.name
        header = path.read_text().split("channels:")[0]
        assert "CONDA_OVERRIDE_CUDA" in header and "Linux x86_64 only" in header, path.name
