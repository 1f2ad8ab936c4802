"""The workflow through `snakemake --executor slurm` on a REAL single-node SLURM cluster.

.ci/slurm/setup.sh starts munged, slurmctld and slurmd (Debian's packages, installed with apt-get
when missing; root only) with one fake GPU; the SLURM executor plugin lives in its own venv
(.venv-slurm, requirements-slurm.txt), never in the one the other tests use. One tabular and one
image experiment and a small grid run through sbatch with the user profile profiles/slurm; the
same targets run locally; the test compares what SLURM recorded and what both runs produced, and
that the profile's groups put the small jobs into as few sbatch jobs as Snakemake planned.

Set SLURM_CI_KEEP=1 to leave the cluster running afterwards (faster reruns while developing).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.rule_analysis import load_rules
from tests.workflow import REPO, copy_workflow, job_stats, planned_submissions, profile_groups, write_config

pytestmark = [pytest.mark.slurm, pytest.mark.integration]

SETUP = REPO / ".ci" / "slurm" / "setup.sh"
TEARDOWN = REPO / ".ci" / "slurm" / "teardown.sh"
PLUGIN_VENV = REPO / ".ci" / "slurm" / "plugin-venv.sh"
SLURM_VENV = REPO / ".venv-slurm"

IMAGES = "cifar10_subset"  # a test dataset in the Dollar Street layout (../shared/data/cifar10-subset)
IMAGE_FILES = ["train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
EXPERIMENTS = {"penguins": "dense10", IMAGES: "slurm_cnn"}
GRID = "results/penguins/slurm_grid/grid.csv"  # 4 small nets: 4 runs of the group `runs`
TARGETS = [f"results/{dataset}/{experiment}/metrics.json" for dataset, experiment in EXPERIMENTS.items()] + [GRID]


def timed(cmd: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess:
    """Run ``cmd`` under `timeout -k 30 limit`: a hung Snakemake (SIGTERM ignored) is killed too."""
    return subprocess.run(["timeout", "-k", "30", str(limit), *map(str, cmd)], cwd=cwd, capture_output=True, text=True)


def start_timed(cmd: list[str], cwd: Path, limit: int, log: Path) -> subprocess.Popen:
    """Start ``cmd`` under `timeout -k 30 limit` in the background, its output going to ``log``."""
    with open(log, "w") as out:
        return subprocess.Popen(
            ["timeout", "-k", "30", str(limit), *map(str, cmd)],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )


def output_of(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n{proc.stdout[-5000:]}\n{proc.stderr[-15000:]}"


@pytest.fixture(scope="module")
def cluster():
    """A running single-node cluster (skipped where it cannot be had); stopped by PID afterwards."""
    if os.geteuid() != 0:
        pytest.skip("the SLURM test starts munged/slurmctld/slurmd and installs packages: run it as root")
    proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=900)
    if proc.returncode in (2, 3):  # setup.sh: not root / cannot run on this machine
        pytest.skip(f"no SLURM test cluster: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, f".ci/slurm/setup.sh failed:\n{proc.stdout}\n{proc.stderr}"
    yield
    if not os.environ.get("SLURM_CI_KEEP"):
        subprocess.run(["bash", str(TEARDOWN)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def slurm_python():
    """Python of .venv-slurm: this venv's packages plus the SLURM executor plugin."""
    proc = subprocess.run(
        ["bash", str(PLUGIN_VENV), str(SLURM_VENV), sys.executable], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"could not build {SLURM_VENV}:\n{proc.stdout}\n{proc.stderr}"
    # the plugin must stay out of the environment the other tests and local runs use
    probe = [sys.executable, "-c", "import snakemake_executor_plugin_slurm"]
    assert subprocess.run(probe, capture_output=True).returncode != 0, "the SLURM plugin is in the test venv"
    return SLURM_VENV / "bin" / "python"


def overlay_config(shared_data: Path) -> dict:
    """Penguins dense10 (few epochs) and a small CNN on 400 CIFAR-10 images; nothing else."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    images = shared_data / "cifar10-subset"
    return {
        "datasets": {
            **{d: {"enabled": d == "penguins"} for d in default["datasets"]},
            IMAGES: {
                "kind": "images",
                "description": "400/100 CIFAR-10 images in the Dollar Street file layout",
                "files": [
                    {"name": f, "url": str(images / f), "md5": hashlib.md5((images / f).read_bytes()).hexdigest()}
                    for f in IMAGE_FILES
                ],
                "class_names": CIFAR10_CLASSES,
                "subset": {"train": 400, "test": 100},
            },
        },
        "experiments": {
            **{e: {"enabled": e == "dense10"} for e in default["experiments"]},
            "dense10": {"training": {"epochs": 10}},
            "slurm_grid": {
                "dataset": "penguins",
                "model": {"builder": "dense", "args": {"hidden_units": [10]}},
                "training": {"epochs": 5},
                "grid": {"seed": [1, 2, 3, 4]},
            },
            "slurm_cnn": {
                "dataset": IMAGES,
                "seed": 2,
                "model": {"builder": "cnn", "args": {"conv_layers": 2, "dense_units": [20]}},
                "training": {
                    "epochs": 2,
                    "loss": "sparse_categorical_crossentropy",
                    "from_logits": True,
                    "metrics": ["accuracy"],
                    "validation": "test",
                },
            },
        },
    }


def slurm_jobs(workdir: Path) -> list[dict]:
    """Jobs the cluster ran from ``workdir``: id, rule (from the plugin's comment), state, TRES per job."""
    proc = subprocess.run(
        ["squeue", "--noheader", "--states=all", "--format=%i|%k|%T|%Z"], capture_output=True, text=True, check=True
    )
    jobs = []
    for line in proc.stdout.splitlines():
        job_id, comment, state, job_dir = line.strip().split("|")
        if Path(job_dir).resolve() != workdir.resolve():
            continue
        show = subprocess.run(["scontrol", "show", "job", "--oneliner", job_id], capture_output=True, text=True)
        tres = re.search(r"\bTresPerJob=(\S*)", show.stdout)
        rule = re.match(r"rule_(.+?)(?:_wildcards_.*)?$", comment)
        stdout = re.search(r"\bStdOut=(\S+)", show.stdout)
        jobs.append(
            {
                "id": job_id,
                "group": bool(stdout and "/slurm_logs/group_" in stdout.group(1)),  # the plugin's log directory
                "rule": rule.group(1) if rule else comment,
                "state": state,
                "tres_per_job": tres.group(1) if tres else "",
                "scontrol": show.stdout,
            }
        )
    return jobs


@pytest.fixture(scope="module")
def runs(cluster, slurm_python, shared_data, tmp_path_factory):
    base = tmp_path_factory.mktemp("slurm")
    config = overlay_config(shared_data)
    seconds = {}

    # The local run goes on at the same time: the SLURM run mostly waits for status polls, and the
    # results do not depend on timing (TensorFlow's thread count is fixed by train_threads).
    local_dir = copy_workflow(base / "local")
    local_overlay = write_config(local_dir, "slurm-test.yaml", config)
    start = time.monotonic()
    local_cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *TARGETS, "--configfile", local_overlay]
    local = start_timed(local_cmd, local_dir, 900, base / "local.log")

    slurm_dir = copy_workflow(base / "slurm")
    overlay = write_config(slurm_dir, "slurm-test.yaml", config)
    # what the profile's groups should submit, planned before anything is built (2 cores: the cluster's node)
    planned_sbatch = planned_submissions(slurm_dir, overlay, TARGETS, cores=2)
    run = [slurm_python, "-m", "snakemake", *TARGETS, "--profile", "profiles/slurm", "--configfile", overlay]
    # no slurmdbd on this cluster, so no sacct: poll with squeue (MinJobAge=300 >= 3 x 2 s)
    polling = ["--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]
    extra = ["--slurm-no-account", "--slurm-keep-successful-logs", "--jobs", "2", "--cores", "2"]
    slurm = timed([*run, *polling, *extra], slurm_dir, 1200)
    seconds["slurm run"] = round(time.monotonic() - start)
    local_status = local.wait()
    seconds["slurm and local run"] = round(time.monotonic() - start)
    local_output = (base / "local.log").read_text()
    if slurm.returncode != 0:
        timed([slurm_python, "-m", "snakemake", "--unlock", "--configfile", overlay], slurm_dir, 120)
        pytest.fail(f"snakemake --executor slurm failed:\n{output_of(slurm)}")
    assert local_status == 0, f"local run failed ({local_status}):\n{local_output[-15000:]}"
    print(f"durations: {seconds}")
    return {
        "slurm_dir": slurm_dir,
        "local_dir": local_dir,
        "slurm_output": slurm.stdout + slurm.stderr,
        "planned": job_stats(local_output),
        "planned_sbatch": planned_sbatch,
        "jobs": slurm_jobs(slurm_dir),
        "rules": load_rules(base / "rules"),
        "seconds": seconds,
        "slurm_python": slurm_python,
        "overlay": overlay,
    }


def test_every_non_local_job_went_through_sbatch_and_small_ones_together(runs):
    rules, planned = runs["rules"], runs["planned_sbatch"]
    expected = {rule: n for rule, n in runs["planned"].items() if not rules[rule].local}
    assert {**planned["ungrouped rules"], **planned["grouped rules"]} == expected  # the same jobs
    submitted: dict[str, int] = {}
    for job in runs["jobs"]:
        name = "(group)" if job["group"] else job["rule"]
        submitted[name] = submitted.get(name, 0) + 1
        assert job["state"] == "COMPLETED", job
        # the plugin's per-job SLURM log: .snakemake/slurm_logs/{rule,group}_<name>/<wildcards>/<jobid>.log
        logs = list((runs["slurm_dir"] / ".snakemake" / "slurm_logs").rglob(f"{job['id']}.log"))
        assert logs, f"no SLURM log for job {job['id']} ({job['rule']})"
    # every small job (each run's training and evaluation) went in the group jobs Snakemake planned:
    # 5 tabular runs (dense10 and 4 grid points) and the CNN's evaluation, in one job of up to 10
    groups, components, _ = profile_groups()
    assert {rule for rule in planned["grouped rules"]} <= set(groups)
    assert planned["grouped rules"]["train_tabular"] == 5 and planned["group jobs"] == 1
    assert submitted.pop("(group)") == planned["group jobs"]
    assert submitted == planned["ungrouped rules"]
    assert len(runs["jobs"]) == planned["submissions"] < sum(expected.values())
    assert {"train_image_classifier", "aggregate_grid"} <= set(submitted)
    # downloads are localrules: they ran on the submitting host, not through sbatch
    assert runs["planned"]["download"] == 1 + len(IMAGE_FILES) and "download" not in submitted


def test_gpu_rules_asked_for_a_gpu_and_the_others_did_not(runs):
    gpu_rules = {name for name, info in runs["rules"].items() if info.resources.get("gpu")}
    gpu_jobs = [job for job in runs["jobs"] if job["rule"] in gpu_rules]
    assert gpu_jobs, "no GPU rule ran: the test config must include an image-training experiment"
    for job in runs["jobs"]:
        asked = re.search(r"gpu[:=]1\b", job["tres_per_job"]) is not None
        assert asked == (not job["group"] and job["rule"] in gpu_rules), (job["rule"], job["tres_per_job"])
    # threads became CPUs of the allocation (train_threads for TensorFlow jobs, 1 for the rest); a group
    # job asks for as many as it runs at once, at most --cores (2 here)
    for job in runs["jobs"]:
        cpus = int(re.search(r"\bNumCPUs=(\d+)", job["scontrol"]).group(1))
        if job["group"]:
            assert cpus == 2, (job["rule"], cpus)
        else:
            assert cpus == runs["rules"][job["rule"]].threads, (job["rule"], cpus)


def test_results_equal_a_local_run(runs):
    # the grid's points trained in one group job give the same table as four local jobs
    assert (runs["slurm_dir"] / GRID).read_bytes() == (runs["local_dir"] / GRID).read_bytes()
    for dataset, experiment in EXPERIMENTS.items():
        results = Path("results") / dataset / experiment
        slurm = json.loads((runs["slurm_dir"] / results / "metrics.json").read_text())
        local = json.loads((runs["local_dir"] / results / "metrics.json").read_text())
        assert slurm["primary_metric"] == local["primary_metric"]
        assert slurm["metrics"] == local["metrics"], experiment
        assert slurm["n_parameters"] == local["n_parameters"] and slurm["epochs_run"] == local["epochs_run"]
        # bit-identical training: every epoch's loss and metrics, and every prediction
        pd.testing.assert_frame_equal(
            pd.read_csv(runs["slurm_dir"] / results / "history.csv"),
            pd.read_csv(runs["local_dir"] / results / "history.csv"),
            check_exact=True,
        )
        assert (runs["slurm_dir"] / results / "predictions.csv").read_bytes() == (
            runs["local_dir"] / results / "predictions.csv"
        ).read_bytes()


def test_rule_logs_and_benchmarks_come_back_from_the_jobs(runs):
    for job in runs["jobs"]:
        assert job["group"] or job["rule"] in runs["slurm_output"]
    for dataset, experiment in EXPERIMENTS.items():
        assert (runs["slurm_dir"] / "logs" / dataset / experiment / "train.log").exists()
        assert (runs["slurm_dir"] / "benchmarks" / dataset / experiment / "train.tsv").exists()


def test_cpu_profile_drops_the_gpu_requests(runs):
    """profiles/slurm-cpu plans the same jobs with gpu=0 for every GPU rule (dry run, nothing submitted)."""
    proc = timed(
        [
            runs["slurm_python"],
            "-m",
            "snakemake",
            *TARGETS,
            "--profile",
            "profiles/slurm-cpu",
            "--configfile",
            runs["overlay"],
            "--slurm-no-account",
            "--dry-run",
            "--forceall",
        ],
        runs["slurm_dir"],
        300,
    )
    assert proc.returncode == 0, output_of(proc)
    blocks = re.split(r"\n(?=rule \w+:)", proc.stdout + proc.stderr)
    gpu_rules = {name for name, info in runs["rules"].items() if info.resources.get("gpu")}
    checked = 0
    for block in blocks:
        name = re.match(r"rule (\w+):", block)
        if name and name.group(1) in gpu_rules:
            assert re.search(r"\bgpu=0\b", block), block
            checked += 1
    assert checked


SLOW_EPOCHS = 2500  # about 2 minutes of training on 1 CPU: longer than the first attempt's limit


def test_a_job_killed_at_its_time_limit_resumes_in_its_next_attempt(cluster, slurm_python, tmp_path):
    """Issue 17: the profile's retries with a growing runtime. The first attempt of a long training job
    gets 1 minute, so SLURM kills it (TIMEOUT); Snakemake submits it again with more time, and the
    second attempt resumes from the first one's backup instead of starting at epoch 1."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    workdir = copy_workflow(tmp_path / "wf")
    overlay = write_config(
        workdir,
        "slow.yaml",
        {
            "datasets": {d: {"enabled": d == "penguins"} for d in default["datasets"]},
            "resume": {"every_seconds": 1},
            "experiments": {
                **{e: {"enabled": False} for e in default["experiments"]},
                "slow": {
                    "dataset": "penguins",
                    "seed": 2,
                    "model": {"builder": "dense", "args": {"hidden_units": [10]}},
                    "training": {"epochs": SLOW_EPOCHS, "validation": "test"},
                },
            },
        },
    )
    target = "results/penguins/slow/model.keras"
    proc = timed(
        [
            slurm_python,
            "-m",
            "snakemake",
            target,
            "--profile",
            "profiles/slurm",
            "--configfile",
            overlay,
            "--slurm-status-command",
            "squeue",
            "--slurm-init-seconds-before-status-checks",
            "2",
            "--slurm-no-account",
            "--jobs",
            "2",
            "--retries",
            "1",
            "--set-resources",
            "train_tabular:runtime=1 if attempt == 1 else 15",
        ],
        workdir,
        1500,
    )
    assert proc.returncode == 0, output_of(proc)
    # the profile puts tabular training into the group `runs`: here a group job of that one job
    training = [job for job in slurm_jobs(workdir) if job["rule"] == "train_tabular" or job["group"]]
    assert sorted(job["state"] for job in training) == ["COMPLETED", "TIMEOUT"], training
    limits = sorted(re.search(r"\bTimeLimit=(\S+)", job["scontrol"]).group(1) for job in training)
    assert limits == ["00:01:00", "00:15:00"], limits  # the runtime grew with the attempt
    log = (workdir / "logs/penguins/slow/train.log").read_text()
    match = re.search(r"resumed from the backup in results/penguins/slow/\.backup: epochs 1-(\d+) were done", log)
    assert match, log[-3000:]
    done = int(match.group(1))
    assert 0 < done < SLOW_EPOCHS
    history = pd.read_csv(workdir / "results/penguins/slow/history.csv")
    assert list(history["epoch"]) == list(range(1, SLOW_EPOCHS + 1))
    environment = json.loads((workdir / "results/penguins/slow/train_environment.json").read_text())
    assert environment["resumed"] == [{"after_epoch": done}]
    assert not (workdir / "results/penguins/slow/.backup").exists()
