"""The lesson's outlook: one central table of every result, compared on identical test sets."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import read_json_checked

RECORD_KEYS = ("experiment", "dataset", "primary_metric", "test_set", "epochs_run", "n_parameters", "provenance")
RECORD_FIX = "delete it and run snakemake again so the evaluation that writes it runs anew"

COLUMNS = [
    "comparison_group", "dataset", "experiment", "description", "model", "seed", "repeat_of",
    "metric", "value", "baseline", "beats_baseline", "higher_is_better", "epochs_run", "n_parameters",
    "training_seconds", "test_set", "test_set_md5", "dataset_md5", "git_commit", "config_hash",
]


def read_record(path: str | Path) -> dict:
    """Return a metrics.json record (see dlwf/evaluate/record.py), checked: a truncated or replaced file
    raises WorkflowInputError naming it and the fix."""
    record = read_json_checked(path, RECORD_KEYS, "metrics.json record", RECORD_FIX)
    primary, test_set = record["primary_metric"], record["test_set"]
    valid = (
        isinstance(primary, dict) and isinstance(primary.get("name"), str)
        and isinstance(primary.get("value"), int | float) and not isinstance(primary.get("value"), bool)
        and isinstance(test_set, dict) and isinstance(test_set.get("md5"), str)
        and isinstance(record["experiment"], str) and isinstance(record["dataset"], str)
        and isinstance(record["provenance"], dict) and isinstance(record["provenance"].get("dataset_md5", {}), dict)
        and isinstance(record.get("baseline") or {}, dict)
    )
    if not valid:
        raise WorkflowInputError(
            f"{path}: not a valid metrics.json record (primary_metric, test_set, experiment or dataset is not what "
            f"the evaluation writes); {RECORD_FIX}"
        )
    return record


def _benchmark_seconds(path: Path) -> float:
    try:
        return float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
    except (OSError, ValueError, KeyError, IndexError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WorkflowInputError(
            f"{path}: not a Snakemake benchmark file ({type(exc).__name__}); delete it and run snakemake again so "
            "the job that writes it runs anew"
        ) from exc


def training_seconds(benchmark_dir: str | Path) -> float | None:
    """Return the wall seconds of the experiment's training jobs from Snakemake benchmark files."""
    # sweep points keep their jobs one level deeper (<experiment>/<point>/train.tsv)
    files = [p for p in Path(benchmark_dir).rglob("*.tsv") if p.name.startswith(("train", "tune"))]
    if not files:
        return None
    return float(sum(_benchmark_seconds(p) for p in files))


def _training_seconds(record: dict, benchmark_dir: str | Path | None) -> float | None:
    """Transfer experiments report feature pass + head training; others their train benchmark."""
    timing = record.get("timing") or {}
    if "feature_pass_s" in timing or "head_training_s" in timing:
        return float(timing.get("feature_pass_s", 0.0) + timing.get("head_training_s", 0.0))
    return training_seconds(benchmark_dir) if benchmark_dir else None


def baseline_value(record: dict) -> float | None:
    """Return the baseline's value of the record's primary metric, if any."""
    name = record["primary_metric"]["name"]
    baseline = record.get("baseline") or {}
    for key in (name, f"test_{name}", "value"):
        if key in baseline:
            return float(baseline[key])
    return None


def row(record: dict, benchmark_dir: str | Path | None = None, entry: dict | None = None) -> dict:
    """Return one leaderboard row from a metrics.json record.

    ``entry`` is what the config says of the experiment: {'description', 'repeat_of'}.
    """
    entry = entry or {}
    prov = record.get("provenance", {})
    config = prov.get("config", {})
    dataset_md5 = ",".join(f"{k}:{v}" for k, v in sorted(prov.get("dataset_md5", {}).items()))
    test_md5 = record["test_set"]["md5"]
    group = hashlib.sha256(f"{dataset_md5}|{test_md5}".encode()).hexdigest()[:8]
    return {
        "comparison_group": group,
        "dataset": record["dataset"],
        "experiment": record["experiment"],
        "description": entry.get("description", ""),
        "model": config.get("model", {}).get("builder", ""),
        "seed": config.get("seed"),
        "repeat_of": entry.get("repeat_of") or record["experiment"],
        "metric": record["primary_metric"]["name"],
        "value": record["primary_metric"]["value"],
        "baseline": baseline_value(record),
        "beats_baseline": record.get("beats_baseline"),
        "higher_is_better": record["primary_metric"].get("higher_is_better", True),
        "epochs_run": record.get("epochs_run"),
        "n_parameters": record.get("n_parameters"),
        "training_seconds": _training_seconds(record, benchmark_dir),
        "test_set": record["test_set"].get("file", ""),
        "test_set_md5": test_md5,
        "dataset_md5": dataset_md5,
        "git_commit": prov.get("git_commit", "unknown"),
        "config_hash": prov.get("config_hash", ""),
    }


def build(
    metrics_files: list[str], benchmark_dirs: list[str | None] | None = None, experiments: dict | None = None
) -> pd.DataFrame:
    """Return the leaderboard: one row per experiment (and seed), best first within each test set.

    ``experiments`` maps experiment ids to {'description', 'repeat_of'} from the config.
    """
    benchmark_dirs = benchmark_dirs or [None] * len(metrics_files)
    records = [read_record(m) for m in metrics_files]
    experiments = experiments or {}
    rows = [
        row(record, b, experiments.get(record["experiment"]))
        for record, b in zip(records, benchmark_dirs, strict=True)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    if table.empty:
        return table
    table["_rank"] = table["value"].where(table["higher_is_better"], -table["value"])
    table = table.sort_values(["dataset", "comparison_group", "metric", "_rank"], ascending=[True, True, True, False])
    return table.drop(columns="_rank").reset_index(drop=True)


def to_html(table: pd.DataFrame) -> str:
    """Return a standalone HTML page with one table per comparison group."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Leaderboard</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}</style></head><body>",
        "<h1>Results of every experiment</h1>",
        "<p>Rows are compared only within a group: same dataset files (md5) and the identical test set "
        "(same md5, so the same split). Numbers from different groups are not comparable.</p>",
    ]
    shown = ["experiment", "description", "model", "seed", "metric", "value", "baseline", "beats_baseline",
             "epochs_run", "n_parameters", "training_seconds", "git_commit", "config_hash"]
    for (dataset, group), frame in table.groupby(["dataset", "comparison_group"], sort=False):
        first = frame.iloc[0]
        parts.append(
            f"<h2>{html.escape(str(dataset))}: test set {html.escape(str(first['test_set']))} "
            f"(md5 {html.escape(str(first['test_set_md5']))}, group {html.escape(str(group))})</h2>"
        )
        parts.append(frame[shown].to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True))
    parts.append("</body></html>")
    return "\n".join(parts)


def summarise_repeats(experiment: str, metrics_files: list[str]) -> tuple[pd.DataFrame, dict]:
    """Return (one row per seed, summary with mean/std/min/max of metric, baseline and epochs) of the
    runs of ``experiment`` with different seeds (``metrics_files``, one per run)."""
    table = build(metrics_files).sort_values("seed").reset_index(drop=True)
    columns = ["value", "baseline", "epochs_run"]
    stats = table[columns].astype(float).agg(["mean", "std", "min", "max"])
    summary = {
        "experiment": experiment,
        "metric": str(table["metric"].iloc[0]),
        "seeds": [int(s) for s in table["seed"]],
        "n": int(len(table)),
        **{f"{col}_{stat}": float(stats.loc[stat, col]) for col in columns for stat in stats.index},
    }
    return table[["experiment", "seed", "metric", "value", "baseline", "epochs_run"]], summary
