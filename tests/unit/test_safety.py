"""Issue 7, safety: static checks of the workflow's code (no pickles, safe model loading, no shell
commands, HTTPS-only downloads, nothing executed) and of what keeps parallel jobs apart.

These read the source with ``ast`` (and Snakemake's parser for the rules), so a change that
breaks a rule fails here with the file and line.
"""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest
import yaml

from dlwf.core.fileio import atomic_path
from dlwf.data import download
from tests.workflow import REPO, copy_workflow

PYTHON_FILES = sorted([*(REPO / "dlwf").rglob("*.py"), *(REPO / "scripts").glob("*.py")])
SNAKEMAKE_FILES = sorted([REPO / "Snakefile", *(REPO / "rules").glob("*.smk")])


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{node.lineno}"


def calls(path: Path):
    """Every call in ``path`` as (node, dotted name such as 'np.load' or 'pickle.loads')."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call):
            yield node, dotted(node.func)


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


def keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_code_and_rules_exist():
    assert len(PYTHON_FILES) > 20 and len(SNAKEMAKE_FILES) > 4


# ------------------------------------------------------------------ pickles


def test_no_allow_pickle_true_anywhere():
    """np.load(..., allow_pickle=True) unpickles object arrays, which can run arbitrary code."""
    problems = []
    for path in PYTHON_FILES + SNAKEMAKE_FILES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"allow_pickle\s*=\s*(?!False\b)", line):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    for path in PYTHON_FILES:
        for call, name in calls(path):
            value = keyword(call, "allow_pickle")
            if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
                problems.append(f"{where(path, call)}: {name}(allow_pickle=<not False>)")
    assert not problems, "\n".join(problems)


UNSAFE_LOADERS = {
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "cPickle.load",
    "dill.load",
    "dill.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "joblib.load",
    "marshal.load",
    "marshal.loads",
    "shelve.open",
    "yaml.load",
    "yaml.unsafe_load",
    "yaml.full_load",
    "yaml.load_all",
    "torch.load",
    "pd.read_pickle",
    "pandas.read_pickle",
    "np.lib.format.read_array",
}


def test_nothing_is_unpickled_or_deserialised_unsafely():
    """The only unpickler is images._ArrayOnlyUnpickler, whose find_class allows numpy arrays only."""
    problems = [f"{where(p, c)}: {n}(...)" for p in PYTHON_FILES for c, n in calls(p) if n in UNSAFE_LOADERS]
    problems += [
        f"{where(p, c)}: {n}(...)"
        for p in PYTHON_FILES
        for c, n in calls(p)
        if n in {"eval", "exec", "compile", "runpy.run_path", "runpy.run_module"}
    ]
    # importing a module named by data (a config string, a file) would run its code
    problems += [
        f"{where(p, c)}: {n}(<not a fixed name>)"
        for p in PYTHON_FILES
        for c, n in calls(p)
        if n in {"__import__", "importlib.import_module"} and not (c.args and isinstance(c.args[0], ast.Constant))
    ]
    assert not problems, "\n".join(problems)
    subclasses = []
    for path in PYTHON_FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(dotted(b) == "pickle.Unpickler" for b in node.bases):
                methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
                assert "find_class" in methods, f"{where(path, node)}: an Unpickler must restrict find_class"
                subclasses.append(f"{path.name}:{node.name}")
    assert subclasses == ["images.py:_ArrayOnlyUnpickler"]


def test_archives_are_never_extracted_to_disk():
    """Archives are read member by member in memory (dlwf/images.py checks every name); no extractall."""
    problems = [
        f"{where(p, c)}: {n}(...)"
        for p in PYTHON_FILES
        for c, n in calls(p)
        if n.endswith((".extractall", ".extract")) or n in {"shutil.unpack_archive"}
    ]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ models load in safe mode


def test_every_model_load_goes_through_load_model_checked_in_safe_mode():
    loads = []
    for path in PYTHON_FILES:
        tree = ast.parse(path.read_text())
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                name = dotted(call.func)
                if name.split(".")[-1] == "load_model":
                    loads.append((path.name, function.name, name, keyword(call, "safe_mode")))
        assert "safe_mode=False" not in path.read_text().replace(" ", ""), path
    assert len(loads) == 1, f"only dlwf.nn.model_io.load_model_checked may call Keras' load_model: {loads}"
    file, function, name, safe_mode = loads[0]
    assert (file, function, name) == ("model_io.py", "load_model_checked", "keras.models.load_model")
    assert isinstance(safe_mode, ast.Constant) and safe_mode.value is True


def test_every_function_reading_a_model_file_uses_load_model_checked():
    """Evaluation (tabular, images, transfer) reads model.keras through the checked loader."""
    readers = []
    for path in (REPO / "dlwf").rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef) and "model_path" in {a.arg for a in function.args.args}:
                names = {dotted(c.func) for c in ast.walk(function) if isinstance(c, ast.Call)}
                assert "load_model_checked" in names, f"{path.name}:{function.name} reads model_path unchecked"
                readers.append(function.name)
    assert {"evaluate"} <= set(readers) and len(readers) >= 3  # tables, images, transfer


# ------------------------------------------------------------------ no shell commands


def test_rules_run_scripts_not_shell_commands():
    """A shell: or run: block could paste config strings into a command line; every rule runs a script."""
    problems = []
    for path in SNAKEMAKE_FILES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if re.match(r"^\s+(shell|run|wrapper|cwl|template_engine):", code) or re.search(r"\bshell\(", code):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
            if re.search(r"\b(subprocess|os\.system|os\.popen|os\.exec\w*|os\.spawn\w*)\b", code):
                problems.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not problems, "\n".join(problems)


PROCESS_CALLS = re.compile(r"^(subprocess\.\w+|os\.(system|popen|exec\w*|spawn\w*|posix_spawn\w*)|pty\.spawn)$")


def test_the_only_subprocess_is_git_with_fixed_arguments():
    found = []
    for path in PYTHON_FILES:
        source = path.read_text()
        for module in ("subprocess", "pty", "commands"):
            if re.search(rf"^\s*(import|from)\s+{module}\b", source, re.MULTILINE):
                assert path.name == "provenance.py", f"{path.relative_to(REPO)} imports {module}"
        for call, name in calls(path):
            if PROCESS_CALLS.match(name):
                found.append((path.name, call))
    assert [name for name, _ in found] == ["provenance.py", "provenance.py"]
    for _, call in found:
        command = call.args[0]
        assert isinstance(command, ast.List), "the command must be a literal list"
        words = [e.value for e in command.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        assert len(words) == len(command.elts), "every argument must be a fixed string"
        assert words[0] == "git"
        shell = keyword(call, "shell")
        assert shell is None or (isinstance(shell, ast.Constant) and shell.value is False)


# ------------------------------------------------------------------ downloads


def test_configured_sources_are_https_or_package_data():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    urls = [f["url"] for spec in config["datasets"].values() for f in spec["files"]]
    assert urls
    for url in urls:
        assert url.startswith(("https://", "package://")), url
        assert download.classify_source(url) in {"http", "package"}


@pytest.mark.parametrize(
    "url",
    ["http://zenodo.org/x.npy", "ftp://example.org/x", "javascript:alert(1)", "data:text/plain,hi", "ssh://host/x"],
)
def test_insecure_or_unknown_url_schemes_are_refused(url, tmp_path):
    with pytest.raises(download.DownloadError):
        download.fetch(url, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_downloaded_files_are_only_copied_and_hashed_never_run():
    """The download code imports nothing that could execute or unpack a file."""
    for path in (
        REPO / "dlwf" / "data" / "download.py",
        REPO / "dlwf" / "steps" / "download.py",
        REPO / "scripts" / "download.py",
    ):
        names = {n for _, n in calls(path)}
        assert not {n for n in names if PROCESS_CALLS.match(n) or n.endswith(("chmod", "extractall", "run_path"))}
        assert not {n for n in names if n in UNSAFE_LOADERS | {"eval", "exec", "importlib.import_module"}}


# ------------------------------------------------------------------ parallel jobs never share a directory


@pytest.fixture(scope="module")
def parsed_rules(tmp_path_factory):
    from snakemake.api import SnakemakeApi
    from snakemake.io import is_flagged
    from snakemake.settings.types import OutputSettings, Quietness, ResourceSettings

    workdir = copy_workflow(tmp_path_factory.mktemp("safety") / "wf")
    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        workflow = api.workflow(
            resource_settings=ResourceSettings(), snakefile=workdir / "Snakefile", workdir=workdir
        )._workflow
        return {
            rule.name: {
                "wildcards": set(rule.wildcard_names),
                "outputs": [(str(f), is_flagged(f, "directory")) for f in rule.output],
                "logs": [str(f) for f in rule.log],
                "benchmark": str(rule.benchmark) if rule.benchmark else None,
            }
            for rule in workflow.rules
        }


def test_per_experiment_jobs_write_only_inside_their_own_paths(parsed_rules):
    """Every file or directory (TensorBoard logs, keras-tuner state) a per-experiment job writes has
    {experiment} in its path, so two experiments training at once never write to the same place."""
    per_experiment = {n: r for n, r in parsed_rules.items() if "experiment" in r["wildcards"]}
    assert {"train_tabular", "train_tabular_tensorboard", "evaluate_classifier"} <= set(per_experiment)
    problems = []
    for name, rule in per_experiment.items():
        paths = [p for p, _ in rule["outputs"]] + rule["logs"] + ([rule["benchmark"]] if rule["benchmark"] else [])
        problems += [f"rule {name}: {p}" for p in paths if not re.search(r"\{experiment[,}]", p)]
    assert not problems, "\n".join(problems)
    directories = {p for r in per_experiment.values() for p, is_dir in r["outputs"] if is_dir}
    assert any(re.fullmatch(r"results/\{dataset[^}]*\}/\{experiment[^}]*\}/tensorboard", d) for d in directories)


def test_no_rule_declares_a_backup_as_output(parsed_rules):
    """Snakemake deletes the outputs of a killed job before running it again; a job's backup
    (results/.../.backup/, keras-tuner's project inside it) must survive that to be resumed."""
    outputs = [(name, p) for name, rule in parsed_rules.items() for p, _ in rule["outputs"]]
    assert not [o for o in outputs if ".backup" in o[1] or o[1].endswith("/tuner")], outputs


def test_training_scripts_take_their_directories_from_the_rules_outputs():
    """TensorBoard and backup directories (keras-tuner's included) come from snakemake.output, never
    from a fixed path: the backup lies next to the job's outputs (dlwf.core.fileio.backup_dir)."""
    for script, output in (
        ("train_tabular", "out.history"),
        ("train_image_classifier", "out.history"),
        ("tune_image_classifier", "out.history"),
        ("train_transfer_head", "out.history"),
        ("extract_features", "out.base"),
    ):
        text = (REPO / "scripts" / f"{script}.py").read_text()
        assert f"backup(snakemake, backup_dir(Path({output}).parent)" in text, script
        assert "snakemake.output" in text, script
        if script != "extract_features":
            assert 'tensorboard_dir=out.get("tensorboard")' in text, script
    for path in PYTHON_FILES:
        text = path.read_text()
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", '"', "``")))
        assert not re.search(r"""["']/tmp\b""", code), f"{path.relative_to(REPO)}: fixed /tmp path"
        assert "gettempdir" not in code and "mkdtemp" not in code, path


def test_atomic_temp_files_are_unique_and_next_to_their_destination(tmp_path):
    """Two writers of the same file at once get different temp files in the destination's directory."""
    dest = tmp_path / "exp" / "model.keras"
    seen, barrier = [], threading.Barrier(2)

    def writer(text):
        with atomic_path(dest) as tmp:
            seen.append(tmp)
            tmp.write_text(text)
            barrier.wait(timeout=5)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 2
    assert all(p.parent == dest.parent and p.name.startswith(".model.keras.") for p in seen)
    assert dest.read_text() in {"a", "b"}
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.keras"]
