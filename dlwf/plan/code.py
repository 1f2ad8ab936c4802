"""Which code a rule's script runs: its package modules, the helpers beside it, and libraries.

Read with ``ast``, nothing is imported: a script, the helpers next to it that it imports
(``_rule``), and every module of the ``dlwf`` package it reaches, transitively, with each
package's ``__init__.py``. An import inside a function counts only when that function's name is
used somewhere in the code reached (``fileio.save_figure`` imports matplotlib; scripts that never
save a figure do not run that import). Likewise the names used inside a function count only
once the function itself is used, so a module's rarely used helpers do not drag their imports
into every rule that imports the module.

The rules declare :func:`code_version` as a param named ``code``: a digest of what the script
runs (the script, its helpers and package modules, each as its syntax tree without docstrings, so
a comment, a docstring or the formatting can change without rerunning anything). Changing the code
a script runs reruns exactly the rules whose scripts run it, through Snakemake's params trigger; a
moved or copied checkout plans nothing (the digest names files relative to the repository). As a
param rather than one input per module file, the code costs a job one value instead of some twenty
input files to plan (a 500-experiment config plans about a fifth faster).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "dlwf"
SCRIPTS = REPO / "scripts"


@dataclass
class ModuleInfo:
    """Imports of one Python file and the names it refers to, at import time and per top-level function.

    References are ("name", x) for a bare name (something of this module, or imported into it),
    ("attr", x) for ``obj.x`` (it may mean a function of any module) and ("import", x) for
    ``from m import x`` (the bare name x then means m's x).
    """

    top: set[tuple[str, str]] = field(default_factory=set)  # ("package", "dlwf.core.errors"), ("third", "numpy")
    lazy: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # function name -> imports in its body
    refs: set[tuple[str, str]] = field(default_factory=set)  # references outside function bodies
    function_refs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # function -> its references


@dataclass(frozen=True)
class Reach:
    third_party: frozenset[str]  # top-level import names outside the standard library
    package_modules: frozenset[str]  # dotted dlwf modules that run, e.g. 'dlwf.core.errors'
    scripts: frozenset[str] = frozenset()  # the script and the helpers beside it that it runs ('_rule')

    def files(self, root: Path = REPO) -> list[Path]:
        """The source files of :attr:`package_modules`, sorted."""
        return sorted(module_file(m, root) for m in self.package_modules)


def module_file(module: str, root: Path = REPO) -> Path:
    """The file of a dotted package module: ``a/b.py`` or the package's ``a/b/__init__.py``."""
    path = root.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _is_module(module: str, root: Path) -> bool:
    path = root.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _with_parents(module: str) -> set[str]:
    """A dotted module and every package above it (their __init__ runs first)."""
    parts = module.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _classify(node: ast.Import | ast.ImportFrom, package: str | None, local: set[str], root: Path) -> set:
    """The imports one statement makes: ("package", dotted), ("local", name) or ("third", name)."""
    found: set[tuple[str, str]] = set()

    def add_package(module: str, names=()):
        found.update(("package", m) for m in _with_parents(module))
        for name in names:  # `from dlwf.core import errors` imports the submodule errors
            if _is_module(f"{module}.{name}", root):
                found.update(("package", m) for m in _with_parents(f"{module}.{name}"))

    if isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top == PACKAGE:
                add_package(alias.name)
            elif top in local:
                found.add(("local", top))
            else:
                found.add(("third", top))
        return found
    module = node.module or ""
    names = [a.name for a in node.names]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        add_package(".".join(base + ([module] if module else [])), names)
    elif module.split(".")[0] == PACKAGE:
        add_package(module, names)
    elif module.split(".")[0] in local:
        found.add(("local", module.split(".")[0]))
    elif module != "__future__":
        found.add(("third", module.split(".")[0]))
    return found


@functools.cache
def _package_module(path: Path, package: str, root: Path) -> ModuleInfo:
    """:func:`analyse` of a package module, once per process (every script that reaches it shares it;
    nothing changes a package module's info after)."""
    return analyse(path, package, set(), root)


def analyse(path: Path, package: str | None, local: set[str], root: Path = REPO) -> ModuleInfo:
    """Imports and references of the Python file ``path`` (``package``: its dotted package, or None)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    info = ModuleInfo()

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            refs: set[tuple[str, str]] = set()
            if isinstance(child, ast.Import | ast.ImportFrom):
                found = _classify(child, package, local, root)
                if function is None:
                    info.top |= found
                else:
                    info.lazy.setdefault(function, set()).update(found)
                if isinstance(child, ast.ImportFrom):
                    refs = {("import", a.name) for a in child.names}
            elif isinstance(child, ast.Name):
                refs = {("name", child.id)}
            elif isinstance(child, ast.Attribute):
                refs = {("attr", child.attr)}
            if function is None:
                info.refs |= refs
            else:
                info.function_refs.setdefault(function, set()).update(refs)
            inner = function
            if function is None and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            visit(child, inner)

    visit(tree, None)
    return info


def _used_functions(infos: dict[tuple[str, str], ModuleInfo]) -> set[tuple[tuple[str, str], str]]:
    """(module, function) pairs that run: referred to from code that itself runs (to a fixed point),
    by a bare name in their own module or in a module that imports the name, or as an attribute."""
    refs = {key: set(info.refs) for key, info in infos.items()}
    used: set[tuple[tuple[str, str], str]] = set()
    while True:
        attrs = {name for module_refs in refs.values() for kind, name in module_refs if kind == "attr"}
        attrs |= {  # `from m import f` and a use of the bare name f
            name
            for module_refs in refs.values()
            for kind, name in module_refs
            if kind == "import" and ("name", name) in module_refs
        }
        new = {
            (key, function)
            for key, info in infos.items()
            for function in info.function_refs
            if (key, function) not in used and (("name", function) in refs[key] or function in attrs)
        }
        if not new:
            return used
        for key, function in new:
            refs[key] |= infos[key].function_refs[function]
        used |= new


@functools.cache
def script_reach(script: Path, root: Path = REPO) -> Reach:
    """Every third-party import and ``dlwf`` module a script runs (see the module docstring)."""
    script = Path(script)
    scripts_dir = script.parent
    local = {p.stem for p in scripts_dir.glob("*.py")}
    infos: dict[tuple[str, str], ModuleInfo] = {}

    def load(key: tuple[str, str]) -> ModuleInfo:
        if key not in infos:
            kind, name = key
            if kind == "package":
                path = module_file(name, root)
                if not path.is_file():
                    raise FileNotFoundError(f"{script}: imports {name}, which does not exist ({path})")
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                infos[key] = _package_module(path, package, root)
            else:  # the script or a helper next to it (_rule)
                infos[key] = analyse(scripts_dir / f"{name}.py", None, local, root)
                if name == script.stem:  # all of the script's own code runs
                    info = infos[key]
                    for function in list(info.function_refs):
                        info.top |= info.lazy.pop(function, set())
                        info.refs |= info.function_refs.pop(function)
        return infos[key]

    reached: set[tuple[str, str]] = set()
    pending = [("local", script.stem)]
    done_lazy: set[tuple[tuple[str, str], str]] = set()
    while True:
        while pending:
            key = pending.pop()
            if key in reached:
                continue
            reached.add(key)
            if key[0] in ("package", "local"):
                pending.extend(load(key).top)
        grown = False
        for key, function in _used_functions({k: infos[k] for k in reached if k in infos}):
            if (key, function) not in done_lazy:
                done_lazy.add((key, function))
                pending.extend(infos[key].lazy.get(function, ()))
                grown = True
        if not grown:
            break
    return Reach(
        third_party=frozenset(n for k, n in reached if k == "third" and n not in sys.stdlib_module_names),
        package_modules=frozenset(n for k, n in reached if k == "package"),
        scripts=frozenset(n for k, n in reached if k == "local"),
    )


@functools.cache
def _syntax(path: Path) -> bytes:
    """The syntax tree of a Python file without docstrings (comments and layout are not in it)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False, include_attributes=False).encode()


def code_files(script: str, root: Path = REPO) -> list[Path]:
    """Every file ``scripts/<script>.py`` runs of this repository: itself, the helpers beside it that
    it imports, and the package modules it reaches (see the module docstring), sorted."""
    reach = script_reach(root / "scripts" / f"{script}.py", root)
    return sorted([root / "scripts" / f"{name}.py" for name in reach.scripts] + reach.files(root))


@functools.cache
def code_version(script: str, root: Path = REPO) -> str:
    """A digest of the code ``scripts/<script>.py`` runs (:func:`code_files`): each file's path in the
    repository and its syntax tree without docstrings. Raises FileNotFoundError naming a module the
    script imports that does not exist."""
    digest = hashlib.sha256()
    for path in code_files(script, root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + _syntax(path) + b"\0")
    return digest.hexdigest()[:16]


def workflow_file(path: str, root: Path = REPO, workdir: Path | None = None) -> str:
    """A file of the workflow itself (``notebooks/...``), relative to ``workdir`` (default: cwd)."""
    return os.path.relpath(root / path, workdir or Path.cwd())
