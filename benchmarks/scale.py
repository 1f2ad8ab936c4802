"""Benchmark the workflow at scale on this machine, in ONE run so the ratios are fair (issue 19).

Measures, each in fresh temporary copies of the workflow (beside the repository):
  1. grid: the marginal wall time of a grid point. The penguins net of the lesson (dense10, 20
     epochs) alone, and as a 12-point grid over its seed, each from scratch with --cores 2 (the
     download, preparation, split, report and leaderboard are in both): (grid - single) / 11.
  2. dry run: `snakemake --dry-run --quiet` of a config with 500 penguins experiments against the
     default config, the best of --repeats alternating runs of each (CPU and wall seconds), and
     their ratio.
  3. cluster jobs: how many jobs a 500-point grid submits with the SLURM profile
     (profiles/slurm/config.yaml: its `groups`, `group-components` and `cores`), counted from the
     DAG Snakemake plans (group jobs + ungrouped non-local jobs; local rules run on the login
     node). tests/integration/test_slurm.py checks on a real cluster that a grid submits exactly
     the planned count.
  4. with --lesson: the whole offline lesson (config/offline.yaml, every experiment of the lesson)
     from scratch with --cores 2, wall seconds, and the summed job seconds per rule.
Writes scale.csv and SCALE.md into --out (default benchmarks/results/).

Example:
  .venv/bin/python benchmarks/scale.py --mirror ../shared/data            # 1-3, about 5 minutes
  .venv/bin/python benchmarks/scale.py --mirror ../shared/data --lesson   # and the lesson (~10 min more)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.run import peak_rss, snakemake  # noqa: E402
from tests.workflow import copy_workflow, planned_submissions, write_config  # noqa: E402

GRID_POINTS = 12
MANY_EXPERIMENTS = 500


def penguins_only(experiments: dict) -> dict:
    """An overlay: the penguins dataset only, with ``experiments`` (every other one disabled)."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    return {
        "datasets": {name: {"enabled": name == "penguins"} for name in default["datasets"]},
        "experiments": {**{name: {"enabled": False} for name in default["experiments"]}, **experiments},
    }


def dense10(**extra) -> dict:
    """The lesson's penguins net (episode 2) at 20 epochs."""
    return {
        "dataset": "penguins",
        "enabled": True,
        "model": {"builder": "dense", "args": {"hidden_units": [10]}},
        "training": {"epochs": 20},
        **extra,
    }


def grid_cost(fresh_copy) -> list[dict]:
    """Wall seconds of one experiment and of a GRID_POINTS-point grid, from scratch, --cores 2."""
    single = fresh_copy("single")
    single_s = snakemake(single, "--configfile", str(write_config(single, "s.yaml", penguins_only({"one": dense10()}))))
    grid = fresh_copy("grid")
    overlay = penguins_only({"grid": dense10(grid={"seed": list(range(1, GRID_POINTS + 1))})})
    grid_s = snakemake(grid, "--configfile", str(write_config(grid, "g.yaml", overlay)))
    return [
        {"measure": "one penguins experiment from scratch, --cores 2 (s)", "value": single_s},
        {"measure": f"{GRID_POINTS}-point grid of it from scratch, --cores 2 (s)", "value": grid_s},
        {"measure": "marginal cost of a grid point (s)", "value": (grid_s - single_s) / (GRID_POINTS - 1)},
    ]


def timed_dry_run(workdir: Path, *args: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `snakemake --dry-run --quiet` in ``workdir``."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--dry-run", "--quiet", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"dry run failed:\n{proc.stderr[-4000:]}")
    return after.children_user - before.children_user + after.children_system - before.children_system, wall


def dry_run_ratio(fresh_copy, repeats: int) -> list[dict]:
    """Best-of-``repeats`` dry runs of MANY_EXPERIMENTS experiments and of the default config."""
    workdir = fresh_copy("dry")
    many = {f"e{i:03d}": dense10(seed=i) for i in range(MANY_EXPERIMENTS)}
    overlay = write_config(workdir, "many.yaml", {"experiments": many})
    times: dict[str, list[tuple[float, float]]] = {"many": [], "default": []}
    for _ in range(repeats):  # alternating, so a busy moment hits both
        times["many"].append(timed_dry_run(workdir, "--configfile", str(overlay)))
        times["default"].append(timed_dry_run(workdir))
    best = {name: (min(t[0] for t in runs), min(t[1] for t in runs)) for name, runs in times.items()}
    return [
        {"measure": "dry run, default config: CPU (s)", "value": best["default"][0]},
        {"measure": "dry run, default config: wall (s)", "value": best["default"][1]},
        {"measure": f"dry run, {MANY_EXPERIMENTS} experiments: CPU (s)", "value": best["many"][0]},
        {"measure": f"dry run, {MANY_EXPERIMENTS} experiments: wall (s)", "value": best["many"][1]},
        {"measure": "dry-run ratio, CPU", "value": best["many"][0] / best["default"][0]},
        {"measure": "dry-run ratio, wall", "value": best["many"][1] / best["default"][1]},
    ]


def cluster_jobs(fresh_copy) -> list[dict]:
    """Submissions of a MANY_EXPERIMENTS-point penguins grid with the SLURM profile (planned)."""
    workdir = fresh_copy("slurm-plan")
    overlay = write_config(
        workdir, "grid.yaml", penguins_only({"grid": dense10(grid={"seed": list(range(1, MANY_EXPERIMENTS + 1))})})
    )
    counts = planned_submissions(workdir, overlay)
    return [
        {"measure": f"{MANY_EXPERIMENTS}-point grid with profiles/slurm: {name}", "value": counts[name]}
        for name in ("jobs", "local", "group jobs", "ungrouped", "submissions")
    ]


def whole_lesson(fresh_copy, mirror: str | None) -> tuple[list[dict], pd.DataFrame]:
    """The offline lesson from scratch, --cores 2: wall seconds, and job seconds summed per step."""
    workdir = fresh_copy("lesson")
    args = ["--configfile", str(REPO / "config" / "offline.yaml")]
    if mirror:
        args += ["--config", f"mirror={Path(mirror).resolve()}"]
    seconds = snakemake(workdir, *args, cores=2)
    steps = peak_rss(workdir)
    jobs = int(steps["jobs"].sum()) if not steps.empty else 0
    job_seconds = float((steps["jobs"] * steps["mean_seconds"]).sum()) if not steps.empty else 0.0
    return [
        {"measure": "whole offline lesson from scratch, --cores 2 (s)", "value": seconds},
        {"measure": "its jobs", "value": jobs},
        {"measure": "the jobs' own seconds, summed", "value": job_seconds},
    ], steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", help="mirror directory (MIRROR/<dataset>/<file>), e.g. ../shared/data")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--repeats", type=int, default=5, help="dry runs of each config (the best counts)")
    parser.add_argument("--lesson", action="store_true", help="also time the whole offline lesson (~10 min)")
    parser.add_argument("--skip-grid", action="store_true", help="skip the grid-point measurement")
    parser.add_argument("--scratch", type=Path, help="where the workflow copies go (default: beside the repo)")
    parser.add_argument("--keep", action="store_true", help="keep the workflow copies afterwards")
    args = parser.parse_args()

    scratch = args.scratch or REPO.parent
    copies: list[Path] = []

    def fresh_copy(name: str) -> Path:
        copies.append(copy_workflow(scratch / f".dlwf-scale-{os.getpid()}-{name}"))
        return copies[-1]

    rows: list[dict] = []
    steps = pd.DataFrame()
    try:
        if not args.skip_grid:
            rows += grid_cost(fresh_copy)
        rows += dry_run_ratio(fresh_copy, args.repeats)
        rows += cluster_jobs(fresh_copy)
        if args.lesson:
            lesson_rows, steps = whole_lesson(fresh_copy, args.mirror)
            rows += lesson_rows
    finally:
        if not args.keep:
            for copy in copies:
                shutil.rmtree(copy, ignore_errors=True)

    args.out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "scale.csv", index=False)
    stamp = f"{datetime.date.today()} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()})"
    lines = [f"# Scale benchmark {stamp}", "", table.to_markdown(index=False, floatfmt=".2f")]
    if not steps.empty:
        steps.to_csv(args.out / "lesson_steps.csv", index=False)
        lines += ["", "## The lesson's jobs per step", "", steps.to_markdown(index=False, floatfmt=".1f")]
    (args.out / "SCALE.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
