"""Static facts about the workflow's rules for tests: what each rule declares.

Rules come from Snakemake's own parser (the workflow is parsed, nothing runs). What a rule's
script imports comes from ``dlwf.plan.code.script_reach`` (the same walk the rules' code versions use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.workflow import REPO, copy_workflow

PACKAGE = "dlwf"


@dataclass(frozen=True)
class RuleInfo:
    name: str
    smk: Path  # the rules/*.smk file that defines it
    source: str  # the rule's block of text in that file
    script: Path | None
    conda_env: Path | None
    log: list[str]
    benchmark: str | None
    code_version: str | None  # the rule's `code` param (dlwf.plan.code.code_version), None without one
    resources: dict
    threads: object
    local: bool
    norun: bool  # a target rule such as `all`: no script, shell or run block
    docstring: str | None = None  # the rule's description (a string literal first in its body)


def load_rules(tmp_dir: Path) -> dict[str, RuleInfo]:
    """Parse a copy of the workflow (default config) and return {rule name: RuleInfo}."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import OutputSettings, Quietness, ResourceSettings

    workdir = copy_workflow(tmp_dir / "parsed")
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(), snakefile=workdir / "Snakefile", workdir=workdir
        )._workflow
        rules = {}
        for rule in workflow.rules:
            smk = Path(rule.snakefile)
            base = smk.parent

            def resolve(path, base=base):
                return (base / path).resolve() if path else None

            code = dict(rule.params.items()).get("code") if "code" in rule.params._names else None
            rules[rule.name] = RuleInfo(
                name=rule.name,
                smk=REPO / smk.relative_to(workdir),
                source=rule_source(smk, rule.name),
                script=resolve(rule.script),
                conda_env=resolve(rule.conda_env) if isinstance(rule.conda_env, str) else None,
                log=[str(f) for f in rule.log],
                benchmark=str(rule.benchmark) if rule.benchmark else None,
                code_version=code,
                resources={k: _raw(v) for k, v in rule.resources.items() if not k.startswith("_")},
                threads=_raw(rule.resources["_cores"]),
                local=rule.name in workflow._localrules,
                norun=rule.norun,
                docstring=rule.docstring,
            )
    # map paths inside the parsed copy back to the repository
    for name, info in rules.items():
        rules[name] = RuleInfo(
            **{
                **info.__dict__,
                "script": _to_repo(info.script, workdir),
                "conda_env": _to_repo(info.conda_env, workdir),
            }
        )
    return rules


def _raw(resource):
    """A declared resource's value, or the function that computes it per job."""
    return resource._evaluator if resource.is_evaluable() else resource.value


def _to_repo(path: Path | None, workdir: Path) -> Path | None:
    if path is None:
        return None
    try:
        return REPO / path.relative_to(workdir.resolve())
    except ValueError:
        return path


def rule_source(smk: Path, name: str) -> str:
    """The text of ``rule name:`` in ``smk`` up to the next top-level statement.

    For ``use rule base as name with:`` it is that block followed by the base rule's text, since the
    derived rule inherits every directive it does not override."""
    lines = smk.read_text().splitlines()
    header = re.compile(rf"^(?:local)?rule\s+{re.escape(name)}\s*:")
    derived = re.compile(rf"^use\s+rule\s+(\w+)\s+as\s+{re.escape(name)}\b")
    for start, line in enumerate(lines):
        base = derived.match(line)
        if header.match(line) or base:
            end = start + 1
            while end < len(lines) and (not lines[end].strip() or lines[end][0].isspace()):
                end += 1
            block = "\n".join(lines[start:end])
            return block + "\n" + rule_source(smk, base.group(1)) if base else block
    raise AssertionError(f"rule {name}: no 'rule {name}:' line in {smk}")
