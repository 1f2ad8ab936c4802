"""Every rule declares what running it anywhere needs; the SLURM profiles match the rules' GPU requests."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.rule_analysis import load_rules
from tests.workflow import REPO

SLURM_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
CPU_PROFILE = REPO / "profiles" / "slurm-cpu" / "config.yaml"


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    return load_rules(tmp_path_factory.mktemp("rules"))


def gpu_rules(rules) -> set[str]:
    return {name for name, info in rules.items() if info.resources.get("gpu")}


def test_every_rule_declares_log_benchmark_conda_and_threads(rules):
    """`snakemake --lint` checks log and conda; benchmark and an explicit threads: are this project's rule."""
    problems = []
    for name, info in rules.items():
        if info.norun:  # target rules such as `all`
            continue
        where = f"rule {name} ({info.smk.relative_to(REPO)})"
        if not info.log:
            problems.append(f"{where}: no log:")
        if not info.benchmark:
            problems.append(f"{where}: no benchmark:")
        if info.conda_env is None:
            problems.append(f"{where}: no conda:")
        if not re.search(r"^\s+threads:", info.source, re.MULTILINE):
            problems.append(f"{where}: no threads:")
        # logs and benchmarks land in the directories the results contract names
        if any(not str(f).startswith("logs/") for f in info.log):
            problems.append(f"{where}: log {info.log} outside logs/")
        if info.benchmark and not info.benchmark.startswith("benchmarks/"):
            problems.append(f"{where}: benchmark {info.benchmark} outside benchmarks/")
    assert not problems, "\n".join(problems)


def test_every_rule_says_what_it_makes_in_one_line(rules):
    undocumented = [name for name, info in rules.items() if not (info.docstring or "").strip()]
    assert not undocumented, f"rules without a docstring: {undocumented}"
    multiline = [name for name, info in rules.items() if "\n" in info.docstring.strip()]
    assert not multiline, f"docstrings of more than one line (--list-rules prints them whole): {multiline}"


def test_target_rules_are_the_lessons_episodes_and_are_listed_with_descriptions(tmp_path):
    import subprocess
    import sys

    from tests.workflow import copy_workflow

    workdir = copy_workflow(tmp_path / "wf")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-target-rules"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = dict(re.match(r"^(\w+) \((.+)\)$", line).groups() for line in proc.stdout.splitlines() if line.strip())
    assert set(listed) == {"all", "leaderboard", "lesson", "episode2", "episode3", "episode4", "episode5"}
    for episode in ("episode2", "episode3", "episode4", "episode5"):
        assert listed[episode].startswith(f"Episode {episode[-1]}, ") and f"reports/{episode}.html" in listed[episode]


def test_downloads_run_on_the_submitting_host(rules):
    """Compute nodes of many clusters have no internet: downloads are localrules."""
    assert rules["download"].local


def test_gpu_rules_request_exactly_one_gpu(rules):
    assert gpu_rules(rules), "no rule declares resources: gpu=1"
    for name in gpu_rules(rules):
        assert rules[name].resources["gpu"] == 1, name
        assert not rules[name].local, f"{name}: a GPU rule must not be a localrule"


def load_profile(path):
    profile = yaml.safe_load(path.read_text())
    assert isinstance(profile, dict), path
    return profile


TRAINING_RULES = {
    "train_tabular",
    "train_tabular_tensorboard",
    "train_image_classifier",
    "train_image_classifier_tensorboard",
    "tune_image_classifier",
    "tune_image_classifier_tensorboard",
    "features",
    "train_transfer_head",
    "train_transfer_head_tensorboard",
}


def runtime_minutes(expression, attempt: int) -> int:
    """A profile's runtime as Snakemake evaluates it for the ``attempt``-th submission of a job."""
    from snakemake.resources import Resource

    value = Resource.cli_evaluator("runtime", str(expression), wildcards={}, input=[], attempt=attempt, async_run=None)
    assert isinstance(value, int), (expression, value)
    return value


def test_slurm_profile():
    profile = load_profile(SLURM_PROFILE)
    assert profile["executor"] == "slurm"
    assert profile["jobs"] >= 1 and profile["latency-wait"] >= 5
    resources = profile["default-resources"]
    assert resources["mem_mb"] > 0 and runtime_minutes(resources["runtime"], 1) > 0
    # partition and account are the user's to set: the file only shows them in comments
    assert "slurm_partition" not in resources and "slurm_account" not in resources
    text = SLURM_PROFILE.read_text()
    assert "# slurm_partition:" in text and "# slurm_account:" in text and "gpu_model" in text


@pytest.mark.parametrize("path", [SLURM_PROFILE, CPU_PROFILE])
def test_a_job_killed_at_its_time_limit_is_submitted_again_with_more_time(rules, path):
    """Issue 17: retries with a growing runtime; every training rule has a runtime of its own that
    fits the lesson's jobs on one CPU node (README, "Long runs: resume and watch")."""
    profile = load_profile(path)
    assert profile["retries"] >= 1 and profile["rerun-incomplete"] is True
    overrides = profile["set-resources"]
    assert TRAINING_RULES <= set(rules), sorted(TRAINING_RULES - set(rules))
    assert TRAINING_RULES <= set(overrides), f"{path}: no runtime for {sorted(TRAINING_RULES - set(overrides))}"
    expressions = {"default": profile["default-resources"]["runtime"]}
    expressions.update({rule: spec["runtime"] for rule, spec in overrides.items() if "runtime" in spec})
    for rule, expression in expressions.items():
        minutes = [runtime_minutes(expression, attempt) for attempt in range(1, profile["retries"] + 2)]
        assert all(a < b for a, b in zip(minutes, minutes[1:], strict=False)), (rule, minutes)
        assert minutes[0] >= 15, (rule, minutes)  # the lesson's jobs take 1-8 minutes on 2 cores
    # the longest of the lesson's jobs (a keras-tuner search, the feature pass) get the most time
    first = {rule: runtime_minutes(e, 1) for rule, e in expressions.items()}
    assert first["tune_image_classifier"] >= first["train_image_classifier"] >= first["train_tabular"]
    assert first["features"] >= first["default"]


def test_cpu_profile_drops_every_gpu_request(rules):
    """profiles/slurm-cpu = profiles/slurm + `gpu: 0` in the set-resources entry of each GPU rule."""
    gpu_profile = load_profile(SLURM_PROFILE)
    cpu_profile = load_profile(CPU_PROFILE)
    overrides = cpu_profile.pop("set-resources")
    gpu_overrides = gpu_profile.pop("set-resources")
    assert cpu_profile == gpu_profile, "profiles/slurm-cpu must equal profiles/slurm apart from set-resources"
    dropped = {name for name, resources in overrides.items() if resources.get("gpu") == 0}
    assert dropped == gpu_rules(rules), (
        f"profiles/slurm-cpu: set gpu: 0 for {sorted(gpu_rules(rules) - dropped)}; "
        f"not GPU rules: {sorted(dropped - gpu_rules(rules))}"
    )
    without_gpu = {name: {k: v for k, v in spec.items() if k != "gpu"} for name, spec in overrides.items()}
    assert without_gpu == gpu_overrides, "the two profiles' runtimes must be the same"
    assert set(overrides) <= set(rules), f"unknown rules in set-resources: {sorted(set(overrides) - set(rules))}"


def test_the_profile_groups_small_runs_and_not_gpu_or_data_jobs(rules, tmp_path):
    """A 25-point grid of penguins nets: 3 group jobs of up to 10 runs (training + evaluation) each;
    the preparation, split, figure, grid table, report and leaderboard submitted on their own."""
    from tests.workflow import copy_workflow, default_config, planned_submissions, profile_groups, write_config

    groups, components, cores = profile_groups()
    gpu = {name for name, info in rules.items() if info.resources.get("gpu")}
    assert set(groups) <= set(rules) and not set(groups) & gpu  # GPU jobs stay one sbatch job each
    assert not {"prepare_table", "split_table", "aggregate_grid", "report_dataset"} & set(groups)
    assert components == {"runs": 10} and cores >= 1
    workdir = copy_workflow(tmp_path / "wf")
    default = default_config()
    overlay = write_config(
        workdir,
        "grid.yaml",
        {
            "datasets": {name: {"enabled": name == "penguins"} for name in default["datasets"]},
            "experiments": {
                **{name: {"enabled": False} for name in default["experiments"]},
                "grid": {
                    "dataset": "penguins",
                    "model": {"builder": "dense", "args": {}},
                    "training": {"epochs": 5},
                    "grid": {"seed": list(range(1, 26))},
                },
            },
        },
    )
    planned = planned_submissions(workdir, overlay)
    assert planned["grouped rules"] == {"train_tabular": 25, "evaluate_classifier": 25}
    assert planned["group jobs"] == 3
    assert planned["ungrouped rules"] == {
        "prepare_table": 1,
        "split_table": 1,
        "plot_table_pairplot": 1,
        "aggregate_grid": 1,
        "report_dataset": 1,
        "leaderboard": 1,
    }
    assert planned["local"] == 1 and planned["submissions"] == 9
