"""Rules of rules/report.smk: the leaderboard, the spread over repeated seeds, the dataset reports."""

from __future__ import annotations

from pathlib import Path

from dlwf.core import markup
from dlwf.core.fileio import atomic_path, write_csv, write_json
from dlwf.report import leaderboard as board
from dlwf.report import notebook


def leaderboard(
    metrics_files: list[str], experiments: dict, csv_out: str, html_out: str, missing: dict | None = None
) -> None:
    """Every finished experiment's metrics.json in one table (results/leaderboard.csv and .html).

    ``experiments`` maps ids to {'description', 'repeat_of', 'lesson'} (rule params, escaped for
    them: see :mod:`dlwf.core.markup`); ``missing`` lists the datasets that could not be fetched and
    their experiments. Each row's training time comes from the experiment's benchmark files
    (``benchmarks/<dataset>/<experiment>/``).
    """
    experiments = markup.from_params(experiments)
    missing = markup.from_params(missing or {})
    benchmark_dirs = [str(Path("benchmarks") / Path(m).parent.relative_to("results")) for m in metrics_files]
    table = board.build(metrics_files, benchmark_dirs, experiments)
    write_csv(table, csv_out)
    with atomic_path(html_out) as tmp:
        tmp.write_text(board.to_html(table, missing), encoding="utf-8")
    groups = table["comparison_group"].nunique() if not table.empty else 0
    print(f"{len(table)} rows in {groups} comparison group(s); missing datasets: {sorted(missing) or 'none'}")


def repeats(experiment: str, metrics_files: list[str], csv_out: str, summary_out: str) -> None:
    """Mean, std, min and max of an experiment's metrics over its repeated seeds."""
    table, summary = board.summarise_repeats(experiment, metrics_files)
    write_csv(table, csv_out)
    write_json(summary, summary_out)
    print(summary)


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_result_file(path: str) -> None:
    """Raise WorkflowInputError naming ``path`` when a result file a report reads is not what the workflow
    wrote (truncated, replaced): the notebook would otherwise fail deep inside papermill."""
    import pandas as pd

    from dlwf.core.errors import WorkflowInputError
    from dlwf.core.fileio import REBUILD, read_json_checked
    from dlwf.data.tables import read_history

    name = Path(path).name
    if name == "metrics.json":
        board.read_record(path)
    elif name.endswith(".json"):
        read_json_checked(path)
    elif name == "history.csv":
        read_history(path)
    elif name.endswith(".csv"):
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise WorkflowInputError(f"{path}: not a readable CSV table ({type(exc).__name__}); {REBUILD}") from exc
        if table.empty:
            raise WorkflowInputError(f"{path}: the table has no rows; {REBUILD}")
    elif name.endswith(".png"):
        with open(path, "rb") as handle:
            if handle.read(8) != PNG_MAGIC:
                raise WorkflowInputError(f"{path}: not a PNG image; {REBUILD}")


def report_files(parameters: dict) -> list[str]:
    """Every result file named in a report's parameters (see dlwf.plan.Plan.report_parameters)."""
    files = list(parameters.get("exploration", [])) + list(parameters.get("views", {}).values())
    files += list(parameters.get("data", {}).values()) + list(parameters.get("sources", {}).values())
    for spec in parameters.get("experiments", {}).values():
        files += list(spec.get("files", {}).values())
    return files


def dataset_report(
    notebook_path: str, template: str, parameters: dict, show_code: bool, notebook_out: str, html_out: str
) -> None:
    """Run the dataset's (or episode's) notebook on its result files; keep the executed notebook and its
    HTML page. ``parameters`` are the rule's params, escaped for them (see :mod:`dlwf.core.markup`).

    Every result file is checked first, so a broken one is named with its fix."""
    parameters = markup.from_params(parameters)
    for path in report_files(parameters):
        check_result_file(path)
    notebook.render(
        notebook_path, notebook_out, html_out, parameters=parameters, template=template, show_code=show_code
    )
    print(f"{html_out}: {len(parameters['experiments'])} experiment(s)")
