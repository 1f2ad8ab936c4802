"""Benchmark the workflow on this machine in ONE run, so the ratios are fair.

Measures, in a temporary copy of the workflow:
  1. per experiment: the training job's wall time (Snakemake benchmark file) vs the same model
     trained by a plain in-process model.fit (same data, seed, epochs) -> ratio (target <= 1.10),
     and vs the whole plain process around that fit (Python start, TensorFlow import, load, fit,
     save) -> what the workflow adds beyond what any standalone training script pays;
  2. the transfer experiment (if selected): feature pass + head training vs the lesson's full
     loop timed over a few epochs and extrapolated to 30 epochs -> speed-up (target >= 20x);
  3. no-op rerun time of the whole selected workflow, dry-run time, peak RSS per step;
  4. wall time of the whole selected workflow from scratch with --cores 2 (the run whose jobs
     are measured above) and with --cores 1 (a second fresh copy).
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
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return seconds


def selection_overlay(datasets: list[str] | None, experiments: list[str] | None) -> dict:
    """Config overlay enabling only the chosen datasets/experiments (None: keep the config's own choice)."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    overlay: dict = {"datasets": {}, "experiments": {}}
    if datasets:
        for name in default["datasets"]:
            overlay["datasets"][name] = {"enabled": name in datasets}
    if experiments:
        for name in default["experiments"]:
            overlay["experiments"][name] = {"enabled": name in experiments}
    return overlay


def peak_rss(workdir: Path) -> pd.DataFrame:
    """Peak RSS (MB) and wall seconds per benchmark file, grouped by step name."""
    rows = []
    for path in sorted((workdir / "benchmarks").rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "step": path.stem,
                "file": str(path.relative_to(workdir)),
                "seconds": float(frame["s"].iloc[-1]),
                "max_rss_mb": float(frame["max_rss"].iloc[-1]),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return (
        table.groupby("step")
        .agg(jobs=("file", "count"), max_rss_mb=("max_rss_mb", "max"), mean_seconds=("seconds", "mean"))
        .reset_index()
    )


def training_ratios(workdir: Path, only: list[str] | None = None) -> pd.DataFrame:
    """Workflow training job vs plain model.fit, and vs the whole plain process, per experiment.

    ``ratio`` is the job's wall time over the bare in-process ``model.fit``; ``ratio_vs_plain_process``
    divides by a plain standalone script doing the same work (new Python process, import TensorFlow,
    load, build, fit, save), so ``workflow_extra_s`` is what the workflow itself adds. The final
    training losses of both are kept: equal losses show the two trained the same model.
    """
    rows = []
    for metrics in sorted((workdir / "results").glob("*/*/metrics.json")):
        experiment = metrics.parent.name
        if only is not None and experiment not in only:
            continue
        bench = workdir / "benchmarks" / metrics.parent.relative_to(workdir / "results") / "train.tsv"
        if not bench.exists():
            continue
        workflow_s = float(pd.read_csv(bench, sep="\t")["s"].iloc[-1])
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                str(REPO / "benchmarks" / "plain_fit.py"),
                "--workdir",
                str(workdir),
                "--experiment",
                experiment,
                "--metrics",
                str(metrics),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        process_s = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"plain fit of {experiment} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        plain = json.loads(proc.stdout.strip().splitlines()[-1])
        workflow_loss = float(pd.read_csv(metrics.parent / "history.csv")["loss"].iloc[-1])
        rows.append(
            {
                "experiment": experiment,
                "epochs": plain["epochs"],
                "workflow_train_s": workflow_s,
                "plain_fit_s": plain["fit_seconds"],
                "ratio": workflow_s / plain["fit_seconds"],
                "fixed_overhead_s": workflow_s - plain["fit_seconds"],
                "plain_import_s": plain["import_seconds"],
                "plain_process_s": process_s,
                "ratio_vs_plain_process": workflow_s / process_s,
                "workflow_extra_s": workflow_s - process_s,
                "workflow_final_loss": workflow_loss,
                "plain_final_loss": plain["final_loss"],
            }
        )
    return pd.DataFrame(rows)


def transfer_speedup(workdir: Path, lesson_epochs: int) -> pd.DataFrame:
    """Feature pass + head training vs the lesson's end-to-end loop, extrapolated to 30 epochs."""
    rows = []
    for metrics_path in sorted((workdir / "results").glob("*/*/metrics.json")):
        record = json.loads(metrics_path.read_text())
        timing = record.get("timing") or {}
        if "feature_pass_s" not in timing:
            continue
        proc = subprocess.run(
            [
                sys.executable,
                str(REPO / "benchmarks" / "plain_fit.py"),
                "--workdir",
                str(workdir),
                "--experiment",
                record["experiment"],
                "--metrics",
                str(metrics_path),
                "--lesson-transfer-epochs",
                str(lesson_epochs or record["epochs_run"]),
            ],
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        if proc.returncode != 0:
            print(f"lesson loop of {record['experiment']} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        lesson = json.loads(proc.stdout.strip().splitlines()[-1])
        cached = timing["feature_pass_s"] + timing["head_training_s"]
        per_epoch = lesson["lesson_loop_s"] / lesson["lesson_loop_epochs"]
        rows.append(
            {
                "experiment": record["experiment"],
                "feature_pass_s": timing["feature_pass_s"],
                "head_training_s": timing["head_training_s"],
                "cached_total_s": cached,
                "lesson_s_per_epoch": per_epoch,
                "lesson_30_epochs_s": 30 * per_epoch,
                "speedup_at_30_epochs": 30 * per_epoch / cached,
                "val_accuracy_cached": record["primary_metric"]["value"],
                "lesson_epochs_timed": lesson["lesson_loop_epochs"],
                "val_accuracy_lesson_loop": lesson["lesson_val_accuracy"],
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="*", help="datasets to include (default: all enabled)")
    parser.add_argument("--experiments", nargs="*", help="experiments to include (default: all)")
    parser.add_argument("--configfile", nargs="*", default=[], help="extra config overlays")
    parser.add_argument("--mirror", help="mirror directory (MIRROR/<dataset>/<file>)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument(
        "--lesson-transfer-epochs",
        type=int,
        default=0,
        help="epochs of the lesson's transfer loop to time (extrapolated to 30); "
        "0 = as many as the cached-feature head ran, so accuracies compare",
    )
    parser.add_argument("--scratch", type=Path, help="where the workflow copies go (default: beside the repo)")
    parser.add_argument("--keep", action="store_true", help="keep the workflow copies afterwards")
    parser.add_argument("--skip-cores-runs", action="store_true", help="skip the extra --cores 1 run of the selection")
    parser.add_argument(
        "--skip-ratios",
        action="store_true",
        help="skip the plain model.fit and lesson-loop comparisons (workflow times and memory only)",
    )
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

    scope = "selection" if args.datasets or args.experiments else "whole workflow"
    summary = []
    first = snakemake(workdir, *config_args, cores=2)
    summary.append({"measure": f"{scope} from scratch, --cores 2 (s)", "value": first})
    summary.append({"measure": "no-op rerun (s)", "value": snakemake(workdir, *config_args)})
    summary.append({"measure": "dry run (s)", "value": snakemake(workdir, "--dry-run", *config_args)})
    if not args.skip_cores_runs:  # the first run was the --cores 2 one
        fresh = fresh_copy("cores1")
        write_config(fresh, "bench.yaml", yaml.safe_load(overlay.read_text()))
        summary.append(
            {"measure": f"{scope} from scratch, --cores 1 (s)", "value": snakemake(fresh, *config_args, cores=1)}
        )

    if args.skip_ratios:
        ratios = transfer = pd.DataFrame()
    else:
        ratios = training_ratios(workdir)
        transfer = transfer_speedup(workdir, args.lesson_transfer_epochs)
    rss = peak_rss(workdir)

    args.out.mkdir(parents=True, exist_ok=True)
    cpu = platform.processor() or platform.machine()
    stamp = f"{datetime.date.today()} on {platform.node()} ({os.cpu_count()} cores, {cpu})"
    ratios.to_csv(args.out / "training_ratios.csv", index=False)
    rss.to_csv(args.out / "peak_rss.csv", index=False)
    pd.DataFrame(summary).to_csv(args.out / "workflow_times.csv", index=False)
    lines = [
        f"# Benchmark {stamp}",
        "",
        f"Selection: datasets {args.datasets or 'all'}, "
        f"experiments {args.experiments or 'all'}, overlays {args.configfile or 'none'}",
        "",
        "## Workflow times",
        "",
        pd.DataFrame(summary).to_markdown(index=False, floatfmt=".1f"),
        "",
        "## Training: workflow job vs plain model.fit",
        "",
        ratios.to_markdown(index=False, floatfmt=".2f") if not ratios.empty else "(none)",
        "",
        "## Peak memory per step",
        "",
        rss.to_markdown(index=False, floatfmt=".0f") if not rss.empty else "(none)",
    ]
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
