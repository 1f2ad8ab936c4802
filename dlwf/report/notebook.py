"""Per-dataset reports: what the notebooks show, and the run that makes reports/<dataset>.html.

The notebooks under notebooks/ only read result files: they call the table and figure functions
here. ``render`` executes a notebook with papermill (parameters injected), keeps the executed copy
and converts it to an HTML page without code cells that loads nothing from the internet.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from dlwf.core.dates import DATE, parse_dates
from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import atomic_path

from .leaderboard import baseline_value, read_record

TABLE_COLUMNS = ["experiment", "description", "metric", "value", "baseline", "beats_baseline", "epochs_run",
                 "n_parameters", "seed", "test_set", "test_set_md5"]
# A page may link to other sites, but must not need them to display: these tags load things.
_LOADING_TAG = re.compile(
    r"<(script|link|img|iframe|embed|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?((?:https?:)?//[^\s\"'>]+)",
    re.IGNORECASE,
)
REPO = Path(__file__).resolve().parents[1]


def load_records(experiments: dict) -> dict[str, dict]:
    """Return {experiment: its metrics.json record} for the experiments whose files name one."""
    return {
        name: read_record(spec["files"]["metrics.json"])
        for name, spec in experiments.items()
        if "metrics.json" in spec.get("files", {})
    }


def experiments_table(records: dict[str, dict], experiments: dict | None = None) -> pd.DataFrame:
    """Return one row per experiment: its primary metric next to the baseline on the same test set.

    ``experiments`` is the report's parameter of that name (the descriptions come from it).
    """
    experiments = experiments or {}
    rows = []
    for name, record in records.items():
        primary = record["primary_metric"]
        test_set = record.get("test_set") or {}
        rows.append({
            "experiment": name,
            "description": experiments.get(name, {}).get("description", ""),
            "metric": primary["name"],
            "value": primary["value"],
            "baseline": baseline_value(record),
            "beats_baseline": record.get("beats_baseline"),
            "epochs_run": record.get("epochs_run"),
            "n_parameters": record.get("n_parameters"),
            "seed": record.get("provenance", {}).get("config", {}).get("seed"),
            "test_set": test_set.get("file", ""),
            "test_set_md5": str(test_set.get("md5", ""))[:8],
        })
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    for column in ("epochs_run", "n_parameters", "seed"):
        table[column] = table[column].astype("Int64")
    return table


def comparison_figure(table: pd.DataFrame):
    """Return a figure with each experiment's primary metric as a bar and its baseline as a mark.

    One panel per metric (accuracy, RMSE, ...); returns None when the table is empty."""
    import matplotlib.pyplot as plt

    if table.empty:
        return None
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 0.45 * len(table) + 1.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = table[table["metric"] == metric].iloc[::-1]
        y = list(range(len(rows)))
        values = rows["value"].astype(float)
        colors = ["tab:green" if beats is True else "tab:gray" for beats in rows["beats_baseline"]]
        ax.barh(y, values, color=colors)
        for i, value in zip(y, values, strict=True):
            ax.annotate(f"{value:.3g}", (value, i), xytext=(-4, 0), textcoords="offset points", va="center",
                        ha="right", color="white", fontweight="bold")
        has_baseline = rows["baseline"].notna().to_list()
        if any(has_baseline):
            marks = [i for i, b in zip(y, has_baseline, strict=True) if b]
            ax.scatter(rows["baseline"][has_baseline].astype(float), marks, marker="|", s=400, color="black",
                       linewidths=2, zorder=3)
        ax.set_yticks(y, rows["experiment"])
        ax.set_xlabel(f"{metric} (bars); baseline on the same test set (black marks)")
    fig.suptitle("Each experiment against its baseline (green: beats it)")
    fig.tight_layout()
    return fig


def curves_figure(histories: dict[str, str], metric: str):
    """Return one plot of every experiment's validation ``metric`` per epoch (training values if none).

    Returns None when no history has the metric."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    drawn = False
    for name, path in histories.items():
        history = pd.read_csv(path)
        column = f"val_{metric}" if f"val_{metric}" in history else metric
        if column not in history:
            continue
        ax.plot(history["epoch"], history[column], label=f"{name} ({column})")
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per epoch on the validation data")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def days(frame: pd.DataFrame):
    """The x axis of a daily table: its DATE column as dates in whichever common format it is written
    (dlwf.core.dates), else the row numbers."""
    if DATE not in frame:
        return frame.index
    try:
        return parse_dates(frame[DATE], "view")
    except WorkflowInputError:
        return frame.index


def external_resources(html: str) -> list[str]:
    """Return the URLs of other sites a page loads (scripts, stylesheets, images, frames)."""
    return [match.group(2) for match in _LOADING_TAG.finditer(html)]


def render(notebook: str | os.PathLike, executed: str | os.PathLike, html: str | os.PathLike, parameters: dict,
           template: str | os.PathLike, show_code: bool = False, kernel: str = "python3", timeout: int = 600) -> None:
    """Execute ``notebook`` with ``parameters``, write the executed notebook and its HTML page.

    The kernel is the Python running this function (its environment's packages), started in the
    current directory, with this repository importable. The page shows no code cells unless
    ``show_code``. ``template`` is an nbconvert template file that leaves out the lab template's CDN
    scripts (MathJax, require.js, mermaid)."""
    import papermill
    from nbconvert import HTMLExporter

    # the environment's own kernelspec (whose `python` is sys.executable) before any user-level one
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    template = Path(template)
    with atomic_path(executed, suffix=".ipynb") as tmp_notebook, atomic_path(html, suffix=".html") as tmp_html:
        node = papermill.execute_notebook(
            str(notebook), str(tmp_notebook), parameters=parameters, kernel_name=kernel,
            progress_bar=False, execution_timeout=timeout, cwd=os.getcwd(),
        )
        exporter = HTMLExporter(template_name="lab", template_file=template.name,
                                extra_template_paths=[str(template.parent)], exclude_input=not show_code)
        title = f"{parameters.get('dataset', Path(html).stem)}: results of the workflow"
        body, _ = exporter.from_notebook_node(node, resources={"metadata": {"name": title}})
        external = external_resources(body)
        if external:
            raise RuntimeError(f"{html}: the page would load {external[:3]} from the internet; "
                               f"check the template {template}")
        tmp_html.write_text(body, encoding="utf-8")
