"""The lesson's outlook: one central table of every result, compared on identical test sets.

The page (:func:`to_html`) is self-contained and readable offline: one section per comparison
group with a chart of each experiment's metric against its baseline (and the lesson's published
number where the data are the lesson's), a table whose columns sort on a click (a few lines of
inline script, no library), descriptions that wrap, and a list of what is missing. Every string
from the config or the data is escaped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import read_json_checked
from dlwf.core.markup import escape

RECORD_KEYS = ("experiment", "dataset", "primary_metric", "test_set", "epochs_run", "n_parameters", "provenance")
RECORD_FIX = "delete it and run snakemake again so the evaluation that writes it runs anew"

COLUMNS = [
    "comparison_group",
    "dataset",
    "experiment",
    "description",
    "model",
    "seed",
    "repeat_of",
    "metric",
    "value",
    "baseline",
    "beats_baseline",
    "higher_is_better",
    "lesson",
    "lesson_source",
    "epochs_run",
    "model_epoch",
    "n_parameters",
    "train_samples",
    "test_samples",
    "training_seconds",
    "training_device",
    "test_set",
    "test_set_md5",
    "dataset_md5",
    "git_commit",
    "config_hash",
]


def read_record(path: str | Path) -> dict:
    """Return a metrics.json record (see dlwf/evaluate/record.py), checked: a truncated or replaced file
    raises WorkflowInputError naming it and the fix."""
    record = read_json_checked(path, RECORD_KEYS, "metrics.json record", RECORD_FIX)
    primary, test_set = record["primary_metric"], record["test_set"]
    valid = (
        isinstance(primary, dict)
        and isinstance(primary.get("name"), str)
        and isinstance(primary.get("value"), int | float)
        and not isinstance(primary.get("value"), bool)
        and isinstance(test_set, dict)
        and isinstance(test_set.get("md5"), str)
        and isinstance(record["experiment"], str)
        and isinstance(record["dataset"], str)
        and isinstance(record["provenance"], dict)
        and isinstance(record["provenance"].get("dataset_md5", {}), dict)
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


def training_device(provenance: dict) -> str:
    """The device the model was trained on (the training job's, else the record's own job's), or ''."""
    environment = provenance.get("training_environment") or provenance.get("environment") or {}
    return environment.get("device", "")


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

    ``entry`` is what the plan says of the experiment: {'description', 'repeat_of', 'lesson'}.
    """
    entry = entry or {}
    prov = record.get("provenance", {})
    config = prov.get("config", {})
    dataset_md5 = ",".join(f"{k}:{v}" for k, v in sorted(prov.get("dataset_md5", {}).items()))
    test_md5 = record["test_set"]["md5"]
    group = hashlib.sha256(f"{dataset_md5}|{test_md5}".encode()).hexdigest()[:8]
    lesson = entry.get("lesson") or {}
    same_metric = lesson.get("metric") == record["primary_metric"]["name"]
    samples = record.get("samples") or {}
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
        "lesson": lesson.get("value") if same_metric else None,
        "lesson_source": lesson.get("where", "") if same_metric else "",
        "epochs_run": record.get("epochs_run"),
        "model_epoch": record.get("model_epoch"),
        "n_parameters": record.get("n_parameters"),
        "train_samples": samples.get("train"),
        "test_samples": samples.get("test"),
        "training_seconds": _training_seconds(record, benchmark_dir),
        "training_device": training_device(prov),
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

    ``experiments`` maps experiment ids to {'description', 'repeat_of', 'lesson'} from the plan.
    """
    benchmark_dirs = benchmark_dirs or [None] * len(metrics_files)
    records = [read_record(m) for m in metrics_files]
    experiments = experiments or {}
    rows = [
        row(record, b, experiments.get(record["experiment"])) for record, b in zip(records, benchmark_dirs, strict=True)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    if table.empty:
        return table
    table["_rank"] = table["value"].where(table["higher_is_better"], -table["value"])
    table = table.sort_values(["dataset", "comparison_group", "metric", "_rank"], ascending=[True, True, True, False])
    return table.drop(columns="_rank").reset_index(drop=True)


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:90em;line-height:1.4}
h2{margin-top:2em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:1em 0 2em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eee;cursor:pointer;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.text{min-width:16em;max-width:32em;white-space:normal;overflow-wrap:anywhere}
td.small{font-size:.8em;color:#555;font-family:monospace}
.missing{background:#fff4e5;border-left:4px solid #f0a020;padding:.5em 1em}
figure{margin:1em 0}
figcaption{font-size:.9em;color:#444}
"""

# Sorts a table by the clicked column (numbers by data-sort, text as shown); no data in the script.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var key = function (tr) {
      var cell = tr.cells[th.cellIndex], value = cell.getAttribute("data-sort");
      return value === null ? cell.textContent.trim().toLowerCase() : (value === "" ? NaN : Number(value));
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x === "number" || typeof y === "number") {
        if (isNaN(x)) return 1; if (isNaN(y)) return -1;
        return ascending ? x - y : y - x;
      }
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    }).forEach(function (tr) { body.appendChild(tr); });
  });
});
"""

# (column, heading, kind): kind 'num' sorts by number, 'text' wraps, 'small' is set small
SHOWN = [
    ("experiment", "experiment", "plain"),
    ("description", "description", "text"),
    ("model", "model", "plain"),
    ("seed", "seed", "num"),
    ("metric", "metric", "plain"),
    ("value", "value", "num"),
    ("baseline", "baseline", "num"),
    ("beats_baseline", "beats baseline", "plain"),
    ("lesson", "lesson's number", "num"),
    ("epochs_run", "epochs run", "num"),
    ("model_epoch", "model from epoch", "num"),
    ("n_parameters", "parameters", "num"),
    ("train_samples", "training samples", "num"),
    ("test_samples", "test samples", "num"),
    ("training_seconds", "training s", "num"),
    ("git_commit", "git commit", "small"),
    ("config_hash", "config hash", "small"),
]


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN


def _shown(column: str, value) -> str:
    number = _number(value)
    if column in ("value", "baseline", "lesson") and number is not None:
        return f"{number:.4g}"
    if column == "training_seconds" and number is not None:
        return f"{number:.1f}"
    if (
        column in ("seed", "epochs_run", "model_epoch", "n_parameters", "train_samples", "test_samples")
        and number is not None
    ):
        return f"{int(number):,}"
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _cell(column: str, kind: str, value, title: str = "") -> str:
    attributes = f' title="{escape(title)}"' if title else ""
    if kind == "num":
        number = _number(value)
        return (
            f'<td class="num" data-sort="{"" if number is None else repr(number)}"{attributes}>'
            f"{escape(_shown(column, value))}</td>"
        )
    css = f' class="{kind}"' if kind in ("text", "small") else ""
    return f"<td{css}{attributes}>{escape(_shown(column, value))}</td>"


def table_html(frame: pd.DataFrame) -> str:
    """One comparison group as a sortable HTML table; every value escaped."""
    head = "".join(f'<th scope="col">{escape(heading)}</th>' for _, heading, _ in SHOWN)
    rows = []
    for record in frame.to_dict("records"):
        cells = "".join(
            _cell(column, kind, record.get(column), record.get("lesson_source", "") if column == "lesson" else "")
            for column, _, kind in SHOWN
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def chart_svg(frame: pd.DataFrame, width: int = 760) -> str:
    """An inline SVG of one group: a bar per experiment (its metric), a black tick at its baseline
    and a red diamond at the lesson's number where there is one. Text is escaped."""
    rows = frame.to_dict("records")
    if not rows:
        return ""
    label_width, right, row_height, top = 210, 70, 26, 34
    values = [
        v for r in rows for v in (_number(r["value"]), _number(r["baseline"]), _number(r["lesson"])) if v is not None
    ]
    high = max(values + [0.0]) * 1.08 or 1.0
    plot = width - label_width - right
    height = top + row_height * len(rows) + 30

    def x(value: float) -> float:
        return label_width + plot * max(value, 0.0) / high

    metric = escape(rows[0]["metric"])
    direction = "higher is better" if rows[0].get("higher_is_better", True) else "lower is better"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="13">',
        f"<title>{metric} of each experiment against its baseline</title>",
        f'<text x="{label_width}" y="16">{metric} ({direction}); bar: the experiment, green when it beats its '
        "baseline;</text>",
        f'<text x="{label_width}" y="30">black tick: baseline on the same test set'
        + ("; red diamond: the lesson's number" if any(_number(r["lesson"]) is not None for r in rows) else "")
        + "</text>",
    ]
    for i, r in enumerate(rows):
        y = top + i * row_height
        value = _number(r["value"])
        colour = "#3a923a" if r.get("beats_baseline") is True else "#9a9a9a"
        parts.append(f'<text x="{label_width - 6}" y="{y + 17}" text-anchor="end">{escape(r["experiment"])}</text>')
        if value is not None:
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{x(value) - label_width:.1f}" height="18" '
                f'fill="{colour}"/>'
            )
            parts.append(f'<text x="{x(value) + 4:.1f}" y="{y + 17}">{escape(f"{value:.4g}")}</text>')
        baseline = _number(r["baseline"])
        if baseline is not None:
            parts.append(
                f'<line x1="{x(baseline):.1f}" x2="{x(baseline):.1f}" y1="{y + 1}" y2="{y + 25}" '
                'stroke="black" stroke-width="3"/>'
            )
        lesson = _number(r["lesson"])
        if lesson is not None:
            cx, cy = x(lesson), y + 13
            parts.append(
                f'<path d="M{cx:.1f} {cy - 7} L{cx + 7:.1f} {cy} L{cx:.1f} {cy + 7} L{cx - 7:.1f} {cy} Z" '
                f'fill="#d62728"><title>{escape(r.get("lesson_source", ""))}</title></path>'
            )
    axis_y = top + row_height * len(rows) + 4
    parts.append(f'<line x1="{label_width}" x2="{label_width + plot}" y1="{axis_y}" y2="{axis_y}" stroke="#666"/>')
    for k in range(5):
        tick = high * k / 4
        parts.append(
            f'<text x="{x(tick):.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#444">{escape(f"{tick:.3g}")}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def missing_html(missing: dict | None) -> str:
    """What the leaderboard leaves out: datasets whose data could not be fetched, and their experiments."""
    if not missing:
        return ""
    items = []
    for dataset, info in sorted(missing.items()):
        files = ", ".join(info.get("files", []))
        experiments = ", ".join(info.get("experiments", [])) or "none enabled"
        items.append(
            f"<li>dataset {escape(dataset)}: its data could not be fetched ({escape(files)}; the download "
            f"logs are in logs/download/{escape(dataset)}/). Experiments not run: {escape(experiments)}.</li>"
        )
    return (
        '<div class="missing"><h2>Missing</h2><p>These results are not in this leaderboard; it lists the '
        "experiments that finished. Supply the data (see the README, offline use) and run snakemake again.</p>"
        f"<ul>{''.join(items)}</ul></div>"
    )


def to_html(table: pd.DataFrame, missing: dict | None = None) -> str:
    """Return a standalone HTML page: per comparison group a chart and a sortable table, and the missing results."""
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Leaderboard</title>',
        f"<style>{STYLE}</style></head><body>",
        "<h1>Results of every experiment</h1>",
        "<p>Rows are compared only within a group: same dataset files (md5) and the identical test set "
        "(same md5, so the same split). Numbers from different groups are not comparable. Click a column "
        "heading to sort; hover over a lesson's number for where the lesson prints it.</p>",
        missing_html(missing),
    ]
    if table.empty:
        parts.append("<p>No experiment has finished yet.</p>")
    for (dataset, group), frame in table.groupby(["dataset", "comparison_group"], sort=False):
        first = frame.iloc[0]
        parts.append(
            f"<h2>{escape(dataset)}: test set {escape(first['test_set'])} "
            f"(md5 {escape(first['test_set_md5'])}, group {escape(group)})</h2>"
        )
        parts.append(f"<p>Data files: {escape(first['dataset_md5'].replace(',', ', '))}</p>")
        parts.append(
            f"<figure>{chart_svg(frame)}<figcaption>{escape(first['metric'])} of each experiment of "
            "this group</figcaption></figure>"
        )
        parts.append(table_html(frame))
    parts.append(f"<script>{SORT_SCRIPT}</script></body></html>")
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
