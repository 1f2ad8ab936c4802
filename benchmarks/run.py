"""Benchmark the workflow on this machine in ONE run, so the ratios are fair.

Measures, in a temporary copy of the workflow:
  1. per experiment: the training job's wall time (Snakemake benchmark file) vs the same model
     trained by a plain in-process model.fit (same data, seed, epochs) -> ratio (target <= 1.10);
  2. the transfer experiment (if selected): feature pass + head training vs the lesson's full
     loop timed over a few epochs and extrapolated to 30 epochs -> speed-up (target >= 20x);
  3. no-op rerun time of the whole selected workflow, dry-run time, peak RSS per step;
  4. wall time of the whole selected workflow with --cores 1 and --cores 2 (fresh copies).
Writes CSV + markdown tables into --out (default benchmarks/results/).

Example (offline, shared data as mirror, penguins + weather only):
  .venv/bin/python benchmarks/run.py --datasets penguins weather \
      --configfile tests/config/weather_full.yaml --mirror ../shared/data
"""

from __future__ import annotations

import argparse
import datetime
import json
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

from tests.workflow import copy_workflow, write_config  # noqa: E402


def snakemake(workdir: Path, *args: str, cores: int = 2) -> float:
    """Run Snakemake in ``workdir``; return its wall seconds (raise on failure)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(cores), *args], cwd=workdir,
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return seconds


def selection_overlay(datasets: list[str] | None, experiments: list[str] | None) -> dict:
    """Config overlay enabling only the chosen datasets/experiments."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay: dict = {"datasets": {}, "experiments": {}}
    for name in default["datasets"]:
        overlay["datasets"][name] = {"enabled": datasets is None or name in datasets}
    if experiments:
        for name in default["experiments"]:
            overlay["experiments"][name] = {"enabled": name in experiments}
    return overlay


def peak_rss(workdir: Path) -> pd.DataFrame:
    """Peak RSS (MB) and wall seconds per benchmark file, grouped by step name."""
    rows = []
    for path in sorted((workdir / "benchmarks").rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        rows.append({"step": path.stem, "file": str(path.relative_to(workdir)),
                     "seconds": float(frame["s"].iloc[-1]), "max_rss_mb": float(frame["max_rss"].iloc[-1])})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.groupby("step").agg(jobs=("file", "count"), max_rss_mb=("max_rss_mb", "max"),
                                     mean_seconds=("seconds", "mean")).reset_index()


def training_ratios(workdir: Path) -> pd.DataFrame:
    """Workflow training time vs plain model.fit for every experiment with a train benchmark."""
    rows = []
    for metrics in sorted((workdir / "results").glob("*/*/metrics.json")):
        experiment = metrics.parent.name
        bench = workdir / "benchmarks" / metrics.parent.relative_to(workdir / "results") / "train.tsv"
        if not bench.exists():
            continue
        workflow_s = float(pd.read_csv(bench, sep="\t")["s"].iloc[-1])
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "plain_fit.py"), "--workdir", str(workdir),
                               "--experiment", experiment, "--metrics", str(metrics)],
                              capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        if proc.returncode != 0:
            print(f"plain fit of {experiment} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        plain = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append({"experiment": experiment, "epochs": plain["epochs"], "workflow_train_s": workflow_s,
                     "plain_fit_s": plain["fit_seconds"], "ratio": workflow_s / plain["fit_seconds"],
                     "fixed_overhead_s": workflow_s - plain["fit_seconds"]})
    return pd.DataFrame(rows)


def transfer_speedup(workdir: Path, lesson_epochs: int) -> pd.DataFrame:
    """Feature pass + head training vs the lesson's end-to-end loop, extrapolated to 30 epochs."""
    rows = []
    for metrics_path in sorted((workdir / "results").glob("*/*/metrics.json")):
        record = json.loads(metrics_path.read_text())
        timing = record.get("timing") or {}
        if "feature_pass_s" not in timing:
            continue
        proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "plain_fit.py"), "--workdir", str(workdir),
                               "--experiment", record["experiment"], "--metrics", str(metrics_path),
                               "--lesson-transfer-epochs", str(lesson_epochs or record["epochs_run"])],
                              capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        if proc.returncode != 0:
            print(f"lesson loop of {record['experiment']} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        lesson = json.loads(proc.stdout.strip().splitlines()[-1])
        cached = timing["feature_pass_s"] + timing["head_training_s"]
        per_epoch = lesson["lesson_loop_s"] / lesson["lesson_loop_epochs"]
        rows.append({"experiment": record["experiment"], "feature_pass_s": timing["feature_pass_s"],
                     "head_training_s": timing["head_training_s"], "cached_total_s": cached,
                     "lesson_s_per_epoch": per_epoch, "lesson_30_epochs_s": 30 * per_epoch,
                     "speedup_at_30_epochs": 30 * per_epoch / cached,
                     "val_accuracy_cached": record["primary_metric"]["value"],
                     "lesson_epochs_timed": lesson["lesson_loop_epochs"],
                     "val_accuracy_lesson_loop": lesson["lesson_val_accuracy"]})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="*", help="datasets to include (default: all enabled)")
    parser.add_argument("--experiments", nargs="*", help="experiments to include (default: all)")
    parser.add_argument("--configfile", nargs="*", default=[], help="extra config overlays")
    parser.add_argument("--mirror", help="mirror directory (MIRROR/<dataset>/<file>)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--lesson-transfer-epochs", type=int, default=0,
                        help="epochs of the lesson's transfer loop to time (extrapolated to 30); "
                             "0 = as many as the cached-feature head ran, so accuracies compare")
    parser.add_argument("--scratch", type=Path, help="where the workflow copies go (default: beside the repo)")
    parser.add_argument("--keep", action="store_true", help="keep the workflow copies afterwards")
    parser.add_argument("--skip-cores-runs", action="store_true", help="skip the --cores 1/2 full-workflow runs")
    args = parser.parse_args()

    # beside the repository, so relative data paths in overlays (../shared/data/...) resolve the same
    scratch = args.scratch or REPO.parent
    copies = []

    def fresh_copy(name: str) -> Path:
        copies.append(copy_workflow(scratch / f".dlwf-bench-{os.getpid()}-{name}"))
        return copies[-1]

    workdir = fresh_copy("main")
    overlay = write_config(workdir, "bench.yaml", selection_overlay(args.datasets, args.experiments))
    config_args = ["--configfile", str(overlay), *[str(Path(c).resolve()) for c in args.configfile]]
    if args.mirror:
        config_args += ["--config", f"mirror={Path(args.mirror).resolve()}"]

    summary = []
    first = snakemake(workdir, *config_args)
    summary.append({"measure": "first full run, --cores 2 (s)", "value": first})
    summary.append({"measure": "no-op rerun (s)", "value": snakemake(workdir, *config_args)})
    summary.append({"measure": "dry run (s)", "value": snakemake(workdir, "--dry-run", *config_args)})
    if not args.skip_cores_runs:
        for cores in (1, 2):
            fresh = fresh_copy(f"cores{cores}")
            write_config(fresh, "bench.yaml", yaml.safe_load(overlay.read_text()))
            summary.append({"measure": f"whole workflow, --cores {cores} (s)",
                            "value": snakemake(fresh, *config_args, cores=cores)})

    ratios = training_ratios(workdir)
    rss = peak_rss(workdir)
    transfer = transfer_speedup(workdir, args.lesson_transfer_epochs)

    args.out.mkdir(parents=True, exist_ok=True)
    cpu = platform.processor() or platform.machine()
    stamp = f"{datetime.date.today()} on {platform.node()} ({os.cpu_count()} cores, {cpu})"
    ratios.to_csv(args.out / "training_ratios.csv", index=False)
    rss.to_csv(args.out / "peak_rss.csv", index=False)
    pd.DataFrame(summary).to_csv(args.out / "workflow_times.csv", index=False)
    lines = [f"# Benchmark {stamp}", "", f"Selection: datasets {args.datasets or 'all'}, "
             f"experiments {args.experiments or 'all'}, overlays {args.configfile or 'none'}", "",
             "## Workflow times", "", pd.DataFrame(summary).to_markdown(index=False, floatfmt=".1f"), "",
             "## Training: workflow job vs plain model.fit", "",
             ratios.to_markdown(index=False, floatfmt=".2f") if not ratios.empty else "(none)", "",
             "## Peak memory per step", "", rss.to_markdown(index=False, floatfmt=".0f") if not rss.empty else "(none)"]
    if not transfer.empty:
        transfer.to_csv(args.out / "transfer.csv", index=False)
        lines += ["", "## Transfer learning", "", transfer.to_markdown(index=False, floatfmt=".2f")]
    (args.out / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not args.keep:
        for copy in copies:
            shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
