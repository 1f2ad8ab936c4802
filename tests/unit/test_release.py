"""What makes the workflow reusable and citable: license, notices, citation file, version, changelog.

`CITATION.cff` is checked here against the required keys of the Citation File Format 1.2.0 (its
full schema check, `cffconvert --validate`, needs a jsonschema older than Snakemake allows, so it
runs outside the project's environment; README, "License and citation")."""

import re

import yaml

import dlwf
from tests.workflow import REPO

SPDX = {"MIT", "CC-BY-4.0"}


def citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text())


def test_the_code_has_an_mit_license_and_the_lesson_is_credited():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    notice = (REPO / "NOTICE.md").read_text()
    assert "CC BY 4.0" in notice and "carpentries-incubator.github.io/deep-learning-intro" in notice


def test_citation_file_has_the_required_keys_of_cff_1_2_0():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert isinstance(cff[key], str if key != "authors" else list) and cff[key], key
    for author in cff["authors"] + [a for r in cff.get("references", []) for a in r["authors"]]:
        assert author.get("name") or author.get("family-names"), author  # an entity or a person
    assert cff["type"] in {"software", "dataset"}
    assert cff["license"] in SPDX


def test_citation_references_the_lesson_and_its_license():
    [lesson] = citation()["references"]
    assert {"type", "title", "authors"} <= set(lesson)
    assert lesson["url"] == "https://carpentries-incubator.github.io/deep-learning-intro/"
    assert lesson["license"] == "CC-BY-4.0"


def test_one_version_everywhere():
    version = dlwf.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert str(citation()["version"]) == version
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(version)}\]", changelog, re.MULTILINE), "CHANGELOG.md has no entry"
    latest = re.search(r"^## \[([^\]]+)\]", changelog, re.MULTILINE).group(1)
    assert latest == version, f"the newest CHANGELOG entry is {latest}, dlwf.__version__ is {version}"
    # the container images are labelled with it (tests/unit/test_container.py checks the labels' format)
    assert f'org.opencontainers.image.version="{version}"' in (REPO / "Dockerfile").read_text()
    assert f"org.opencontainers.image.version {version}" in (REPO / "apptainer.def").read_text()
