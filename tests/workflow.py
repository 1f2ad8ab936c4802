"""Helpers for tests that run the real workflow with Snakemake in a temporary copy."""

from __future__ import annotations

import collections
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
# What a copy of the workflow needs; results, logs and environments are left behind.
WORKFLOW_PARTS = ["Snakefile", "rules", "scripts", "config", "envs", "dlwf", "notebooks", "report", "profiles"]


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow's source (not its results) into ``dest`` and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / part)
    return dest


def write_config(workdir: Path, name: str, config: dict) -> Path:
    """Write a YAML config overlay into ``workdir`` and return its path."""
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, timeout: int = 900, check: bool = True) -> subprocess.CompletedProcess:
    """Run Snakemake (this interpreter's) in ``workdir``; raise with its output if it fails and ``check``."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-10000:]}"
        )
    return proc


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Return {rule: job count} that a dry run of ``args`` would execute ({} when up to date)."""
    proc = snakemake(workdir, "--dry-run", *args)
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    return job_stats(text)


def job_stats(output: str) -> dict[str, int]:
    """Return {rule: jobs} from the 'Job stats' table Snakemake prints before running."""
    table = output.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return jobs


def benchmark_harness():
    """Import benchmarks/run.py (not a package) as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_config() -> dict:
    """The default config as a dict (config/config.yaml, no overlays)."""
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def experiment_settings(name: str, overlay: dict | None = None) -> dict:
    """The canonical settings of experiment ``name`` of the default config with ``overlay`` merged in."""
    from dlwf import plan

    config = default_config()
    spec = config["experiments"].setdefault(name, {})
    merge(spec, overlay or {})
    return plan.load(config).experiments[name].settings()


def merge(base: dict, overlay: dict) -> None:
    """Merge ``overlay`` into ``base`` key by key, as Snakemake merges a --configfile (values copied)."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def processes_in(workdir: Path) -> list[int]:
    """Ids of the processes whose working directory is ``workdir`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(workdir):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


SLURM_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"


def profile_groups(profile: Path = SLURM_PROFILE) -> tuple[dict[str, str], dict[str, int], int | None]:
    """A Snakemake profile's {rule: group}, {group: components} and cores (the widest job it submits)."""
    spec = yaml.safe_load(Path(profile).read_text())
    groups = dict(item.split("=", 1) for item in spec.get("groups", []))
    components = {name: int(n) for name, n in (item.split("=", 1) for item in spec.get("group-components", []))}
    return groups, components, spec.get("cores")


def planned_submissions(
    workdir: Path,
    configfile: Path,
    targets: list[str] | None = None,
    profile: Path = SLURM_PROFILE,
    cores: int | None = None,
) -> dict:
    """What a cluster run of ``targets`` (default: rule all) with ``configfile`` would submit with
    ``profile``'s grouping, from the DAG Snakemake plans for it in ``workdir`` (a dry run, nothing
    built yet): {'jobs', 'local' (localrules, run on the submitting host), 'group jobs', 'ungrouped'
    (one submission each), 'submissions', 'ungrouped rules': {rule: jobs}}."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        GroupSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    groups, components, profile_cores = profile_groups(profile)
    here = Path.cwd()
    os.chdir(workdir)
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            workflow_api = api.workflow(
                resource_settings=ResourceSettings(cores=cores or profile_cores or 1),
                config_settings=ConfigSettings(configfiles=[Path(configfile)]),
                snakefile=workdir / "Snakefile",
                workdir=workdir,
            )
            dag_api = workflow_api.dag(dag_settings=DAGSettings(targets=set(targets or [])))
            dag_api.execute_workflow(
                executor="dryrun", group_settings=GroupSettings(overwrite_groups=groups, group_components=components)
            )
            workflow = workflow_api._workflow
            jobs = [job for job in workflow.dag.jobs if not job.rule.norun]
            local = [job for job in jobs if job.rule.name in workflow._localrules]
            remote = [job for job in jobs if job.rule.name not in workflow._localrules]
            grouped = {workflow.dag.get_job_group(job) for job in remote} - {None}
            ungrouped = [job for job in remote if workflow.dag.get_job_group(job) is None]
    finally:
        os.chdir(here)
    return {
        "jobs": len(jobs),
        "local": len(local),
        "group jobs": len(grouped),
        "ungrouped": len(ungrouped),
        "submissions": len(grouped) + len(ungrouped),
        "ungrouped rules": dict(collections.Counter(job.rule.name for job in ungrouped)),
        "grouped rules": dict(collections.Counter(job.rule.name for job in remote if job not in ungrouped)),
    }
