"""Static facts about the workflow's rules for tests: what each rule declares, and what its script imports.

Rules come from Snakemake's own parser (the workflow is parsed, nothing runs). Imports come from
``ast``: a rule's script, the local helpers it imports from scripts/ (``_rule``), and every module of
the ``dlwf`` package it reaches, transitively. An import inside a function counts only when that
function's name is used somewhere in the code reached (``fileio.save_figure`` imports matplotlib;
rules that never save a figure do not need it).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from dataclasses import dataclass, field
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
    code_inputs: list[str] | None  # None when the rule has no input named `code`
    resources: dict
    threads: object
    local: bool
    norun: bool  # a target rule such as `all`: no script, shell or run block


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

            code = dict(rule.input.items()).get("code") if "code" in rule.input._names else None
            rules[rule.name] = RuleInfo(
                name=rule.name,
                smk=REPO / smk.relative_to(workdir),
                source=rule_source(smk, rule.name),
                script=resolve(rule.script),
                conda_env=resolve(rule.conda_env) if isinstance(rule.conda_env, str) else None,
                log=[str(f) for f in rule.log],
                benchmark=str(rule.benchmark) if rule.benchmark else None,
                code_inputs=None if code is None else ([str(code)] if isinstance(code, str) else list(code)),
                resources={k: _raw(v) for k, v in rule.resources.items() if not k.startswith("_")},
                threads=_raw(rule.resources["_cores"]),
                local=rule.name in workflow._localrules,
                norun=rule.norun,
            )
    # map paths inside the parsed copy back to the repository
    for name, info in rules.items():
        rules[name] = RuleInfo(
            **{
                **info.__dict__,
                "script": _to_repo(info.script, workdir),
                "conda_env": _to_repo(info.conda_env, workdir),
                "code_inputs": None
                if info.code_inputs is None
                else [str(_to_repo(Path(p).resolve(), workdir)) for p in info.code_inputs],
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


# --- imports -----------------------------------------------------------------------------


@dataclass
class ModuleInfo:
    """Imports of one Python file: at import time, per top-level function, and names it uses."""

    top: set[tuple[str, str]] = field(
        default_factory=set
    )  # ("third", "numpy") / ("dlwf", "fileio") / ("local", "_rule")
    lazy: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # function name -> imports in its body
    used_names: set[str] = field(default_factory=set)


def _package_modules() -> set[str]:
    return {p.stem for p in (REPO / PACKAGE).glob("*.py")}


def _classify(node: ast.Import | ast.ImportFrom, in_package: bool, local_names: set[str]) -> set[tuple[str, str]]:
    package_modules = _package_modules()
    found = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == PACKAGE:
                found.add(("dlwf", "__init__"))
                if len(parts) > 1:
                    found.add(("dlwf", parts[1]))
            elif parts[0] in local_names:
                found.add(("local", parts[0]))
            else:
                found.add(("third", parts[0]))
        return found
    module = node.module or ""
    if node.level and in_package:  # from . import x / from .x import y
        found.add(("dlwf", "__init__"))
        if module:
            found.add(("dlwf", module.split(".")[0]))
        else:
            found |= {("dlwf", a.name) for a in node.names if a.name in package_modules}
        return found
    parts = module.split(".")
    if parts[0] == PACKAGE:
        found.add(("dlwf", "__init__"))
        if len(parts) > 1:
            found.add(("dlwf", parts[1]))
        else:
            found |= {("dlwf", a.name) for a in node.names if a.name in package_modules}
    elif parts[0] in local_names:
        found.add(("local", parts[0]))
    elif parts[0] != "__future__":
        found.add(("third", parts[0]))
    return found


def analyse(path: Path, in_package: bool, local_names: set[str]) -> ModuleInfo:
    """Imports and used names of the Python file ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    info = ModuleInfo()

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found = _classify(child, in_package, local_names)
                if function is None:
                    info.top |= found
                else:
                    info.lazy.setdefault(function, set()).update(found)
                if isinstance(child, ast.ImportFrom):
                    info.used_names |= {a.name for a in child.names}
            elif isinstance(child, ast.Name):
                info.used_names.add(child.id)
            elif isinstance(child, ast.Attribute):
                info.used_names.add(child.attr)
            inner = function
            if function is None and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = child.name
            visit(child, inner)

    visit(tree, None)
    return info


@dataclass
class Reach:
    third_party: set[str]  # top-level import names outside the standard library
    package_modules: set[str]  # dlwf modules (file stems) that run


@functools.cache
def script_reach(script: Path) -> Reach:
    """Every third-party import and dlwf module a rule's script runs (see the module docstring)."""
    scripts_dir = script.parent
    local_names = {p.stem for p in scripts_dir.glob("*.py")}
    infos: dict[tuple[str, str], ModuleInfo] = {}

    def load(key: tuple[str, str]) -> ModuleInfo:
        if key not in infos:
            kind, name = key
            if kind == "dlwf":
                infos[key] = analyse(REPO / PACKAGE / f"{name}.py", True, set())
            else:  # the script itself or a helper next to it: all of its code runs
                info = analyse(scripts_dir / f"{name}.py", False, local_names)
                for imports in info.lazy.values():
                    info.top |= imports
                info.lazy = {}
                infos[key] = info
        return infos[key]

    imports: set[tuple[str, str]] = set()
    pending = [("local", script.stem)]
    done_lazy: set[tuple[tuple[str, str], str]] = set()
    while True:
        while pending:
            key = pending.pop()
            if key in imports:
                continue
            imports.add(key)
            if key[0] in ("dlwf", "local"):
                if key[0] == "dlwf" and not (REPO / PACKAGE / f"{key[1]}.py").exists():
                    raise AssertionError(f"{script}: imports {PACKAGE}.{key[1]}, which does not exist")
                pending.extend(load(key).top)
        used = set().union(*(infos[k].used_names for k in imports if k in infos))
        grown = False
        for key in [k for k in imports if k in infos]:
            for function, lazy in infos[key].lazy.items():
                if function in used and (key, function) not in done_lazy:
                    done_lazy.add((key, function))
                    pending.extend(lazy)
                    grown = True
        if not grown:
            break
    third = {name for kind, name in imports if kind == "third" and name not in sys.stdlib_module_names}
    return Reach(third_party=third, package_modules={name for kind, name in imports if kind == "dlwf"})
