# The rules' adapter to the experiment plan (dlwf/plan): the config is validated and turned into
# one plan object once; the rules read their inputs and params from it.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# This workflow's own directory, which holds the package dlwf. Not workflow.basedir: when another
# workflow uses this one as a module, that is the including workflow's directory.
WORKFLOW_DIR = Path(workflow.source_path("../Snakefile")).parent
sys.path.insert(0, str(WORKFLOW_DIR))
from dlwf import plan
from dlwf.plan import code, layout
from dlwf.plan.experiments import IMAGE_KINDS, TABLE_KINDS

try:
    # the config files too: a key written twice in one of them is refused, not silently dropped
    PLAN = plan.load(config, config_files=workflow.configfiles)
except plan.PlanError as exc:
    raise WorkflowError(str(exc)) from None
config.update(PLAN.config)  # the schema's defaults, for the scripts (snakemake.config)


def alternatives(names):
    """Regex matching exactly one of ``names`` (or nothing when empty), as a trie (dlwf/plan/layout.py)."""
    return layout.alternatives(names)


wildcard_constraints:
    dataset=alternatives(PLAN.datasets),
    experiment=alternatives(PLAN.experiments),
    filename=alternatives(PLAN.file_names()),
    view=alternatives(PLAN.view_ids()),
    base=alternatives(PLAN.base_ids()),
    entry=alternatives(PLAN.prediction_entries()),
    episode=alternatives(PLAN.episodes()),


def datasets_of(*kinds):
    return alternatives(PLAN.dataset_ids(kinds))


def experiments_of(kinds, modes=None, tensorboard=None, tasks=None):
    return alternatives(PLAN.experiment_ids(kinds, modes, tensorboard, tasks))


def from_plan(method):
    """An input or params function: the plan's ``method`` (dlwf/plan/rules.py) called with the
    job's wildcards as keyword arguments."""
    return lambda wildcards: getattr(PLAN, method)(**dict(wildcards.items()))


def code_version(script):
    """A digest of the code scripts/<script>.py runs (its package modules and helpers, without
    docstrings; dlwf/plan/code.py), as a param: changing that code reruns exactly the rules that
    run it, editing a comment or a docstring reruns nothing."""
    return code.code_version(script)


def workflow_file(path):
    """A file of the workflow itself, relative to the working directory."""
    return code.workflow_file(path)


# which datasets could not be fetched when this run started (see Plan.unavailable_datasets)
UNAVAILABLE_AT_START = PLAN.unavailable_datasets()


def report_run_end(failed):
    """After a run: list the dataset files that could not be fetched and how to supply them, and say
    when one more run builds more (data that arrived, or a leaderboard without what failed).
    """
    lines = []
    missing = PLAN.missing_raw_files()
    if failed and missing:
        lines += ["", "Dataset files that could not be fetched (see logs/download/):"]
        lines += [f"  - {path}  (dataset {dataset!r})" for dataset, path in missing]
        lines += [
            "Supply them without internet by placing copies as MIRROR/<dataset>/<file> and running",
            "  snakemake --cores all --config mirror=/path/to/MIRROR",
            "(checksums are still verified), or copy the file to the resources/ path above.",
        ]
    now = PLAN.unavailable_datasets()
    arrived = sorted(set(UNAVAILABLE_AT_START) - set(now))
    newly_failed = sorted(set(now) - set(UNAVAILABLE_AT_START))
    if arrived:
        lines += [
            "",
            f"The data of {', '.join(arrived)} arrived in this run: run snakemake again (make run does) to",
            "build their results, reports and leaderboard rows.",
        ]
    if newly_failed:
        lines += [
            "",
            f"Without the data of {', '.join(newly_failed)}, run snakemake again (make run does): it builds the",
            "leaderboard and reports from the datasets that finished and lists these as missing.",
        ]
    if lines:
        print("\n".join(lines), file=sys.stderr)
