"""The container recipes (Dockerfile, apptainer.def) and the Snakefile's `container:` directive.

No container engine or registry is reachable where the tests run, so nothing is built: the
recipes are checked statically. Both must install exactly the pinned requirements files (the one
place for pins), from the same base image with a supported Python, and parse: hadolint lints the
Dockerfile, spython parses the Apptainer definition (both pinned in requirements.txt).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import dlwf
from tests.workflow import REPO

DOCKERFILE = REPO / "Dockerfile"
DEFINITION = REPO / "apptainer.def"
REQUIREMENT_FILES = ["requirements.txt", "requirements-gpu.txt"]
SUPPORTED_PYTHONS = {"3.11", "3.12", "3.13"}


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(rest.split())))
    return instructions


def definition_sections(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(header {Bootstrap, From}, {section: its lines}) of an Apptainer definition file."""
    header, sections, current = {}, {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("%"):
            current = stripped[1:].split()[0]
            sections[current] = []
        elif current is None:
            key, _, value = stripped.partition(":")
            header[key.strip()] = value.strip()
        else:
            sections[current].append(stripped)
    return header, sections


def pip_installs(commands: list[str]) -> list[list[str]]:
    """The arguments of every `pip install` in shell command lines."""
    installs = []
    for command in commands:
        for part in re.split(r"&&|;", command):
            words = shlex.split(part)
            if words[:2] == ["pip", "install"] or words[:4] == ["python", "-m", "pip", "install"]:
                installs.append(words[words.index("install") + 1 :])
    return installs


def requirement_files_installed(args: list[str], variable: str) -> str:
    """The requirements file one `pip install` reads, with the build argument's name in place; fails
    on anything that would install a package not pinned in a requirements file."""
    files = [args[i + 1] for i, a in enumerate(args) if a == "-r"]
    others = [a for i, a in enumerate(args) if a != "-r" and (i == 0 or args[i - 1] != "-r") and not a.startswith("--")]
    assert len(files) == 1 and not others, f"pip install {args}: only `-r <requirements file>` is allowed"
    return files[0].replace("${" + variable + "}", "{REQ}").replace("{{ " + variable + " }}", "{REQ}")


@pytest.fixture(scope="module")
def dockerfile():
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    from_lines = [args for kind, args in instructions if kind == "FROM"]
    args = dict(a.split("=", 1) for kind, a in instructions if kind == "ARG")
    copies = [a.split() for kind, a in instructions if kind == "COPY"]
    runs = [a for kind, a in instructions if kind == "RUN"]
    labels = dict(re.findall(r'(\S+)="([^"]*)"', " ".join(a for kind, a in instructions if kind == "LABEL")))
    return {"from": from_lines, "args": args, "copies": copies, "runs": runs, "labels": labels}


@pytest.fixture(scope="module")
def definition():
    header, sections = definition_sections(DEFINITION.read_text())
    return {
        "header": header,
        "args": dict(line.split("=", 1) for line in sections.get("arguments", [])),
        "files": [line.split() for line in sections.get("files", [])],
        "post": sections.get("post", []),
        "labels": dict(line.split(" ", 1) for line in sections.get("labels", [])),
    }


def test_both_recipes_start_from_one_base_image_with_a_supported_python(dockerfile, definition):
    assert len(dockerfile["from"]) == 1
    image = dockerfile["from"][0]
    assert definition["header"] == {"Bootstrap": "docker", "From": image}
    match = re.fullmatch(r"python:(3\.\d+)-slim-\w+", image)
    assert match and match.group(1) in SUPPORTED_PYTHONS, image
    assert ":latest" not in image


def test_both_recipes_install_exactly_the_pinned_requirements(dockerfile, definition):
    """The images get their pins from requirements.txt / requirements-gpu.txt, which test_envs.py checks."""
    docker_installs = pip_installs(dockerfile["runs"])
    apptainer_installs = pip_installs(definition["post"])
    assert len(docker_installs) == 1 and len(apptainer_installs) == 1
    docker = requirement_files_installed(docker_installs[0], "REQUIREMENTS")
    apptainer = requirement_files_installed(apptainer_installs[0], "REQUIREMENTS")
    assert docker == apptainer == "/opt/dlwf/{REQ}"
    # the default build is requirements.txt (CPU); requirements-gpu.txt is one build argument away
    assert dockerfile["args"] == definition["args"] == {"REQUIREMENTS": "requirements.txt"}
    assert dockerfile["copies"] == [[*REQUIREMENT_FILES, "/opt/dlwf/"]]
    assert definition["files"] == [[name, f"/opt/dlwf/{name}"] for name in REQUIREMENT_FILES]


def test_recipes_carry_the_workflow_version_and_license(dockerfile, definition):
    for labels in (dockerfile["labels"], definition["labels"]):
        assert labels["org.opencontainers.image.version"] == dlwf.__version__
        assert labels["org.opencontainers.image.licenses"] == "MIT"


def test_the_build_context_is_only_the_requirements():
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["*", *(f"!{name}" for name in REQUIREMENT_FILES)]


def test_snakefile_names_the_configured_container_for_sdm_apptainer():
    snakefile = (REPO / "Snakefile").read_text()
    assert re.search(r'^container: config\["container"\]$', snakefile, re.MULTILINE)
    # the directive comes before every rule file, so it applies to all of them
    assert snakefile.index("container:") < snakefile.index('include: "rules/download.smk"')
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    default = schema["properties"]["container"]["default"]
    assert f"apptainer build {default} apptainer.def" in DEFINITION.read_text()


def test_recipe_checks_can_fail():
    broken = dockerfile_instructions("FROM python:3.12-slim\nRUN pip install -r /opt/dlwf/requirements.txt numpy\n")
    with pytest.raises(AssertionError, match="only `-r <requirements file>`"):
        requirement_files_installed(pip_installs([broken[1][1]])[0], "REQUIREMENTS")
    assert pip_installs(["apt-get update && python -m pip install --no-cache-dir keras==3"]) == [
        ["--no-cache-dir", "keras==3"]
    ]


def tool(name: str) -> str:
    """A linter from this environment (requirements.txt pins it); skip where it is not installed."""
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed in this environment (requirements.txt pins it; make test installs it)")
    return path


def test_dockerfile_passes_hadolint():
    hadolint = tool("hadolint")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = subprocess.run(
        [hadolint, "-"],
        input="FROM python:3.12-slim\nRUN cd /tmp\nCOPYY a b\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode != 0  # hadolint sees a broken file


def test_apptainer_definition_parses_to_the_dockerfiles_image():
    tool("spython")
    from spython.main.parse.parsers import SingularityParser

    stages = SingularityParser(str(DEFINITION)).recipe
    assert list(stages) == ["spython-base"]  # one stage
    recipe = stages["spython-base"]
    instructions = dockerfile_instructions(DOCKERFILE.read_text())
    assert recipe.fromHeader == instructions[0][1]
    assert recipe.files == [f"{name} /opt/dlwf/{name}" for name in REQUIREMENT_FILES]
    assert pip_installs(recipe.install) == [["--no-cache-dir", "-r", "/opt/dlwf/{{ REQUIREMENTS }}"]]
    docker_env = re.findall(r"(\w+)=(\S+)", " ".join(a for kind, a in instructions if kind == "ENV"))
    assert [tuple(e.split("=", 1)) for e in recipe.environ] == docker_env
    assert recipe.cmd == 'exec snakemake "$@"'
