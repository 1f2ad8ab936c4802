import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, schema="../config/schema.yaml")

DATASETS = config["datasets"]
EXPERIMENTS = config["experiments"]
# Directory names the workflow itself uses inside results/<dataset>/.
RESERVED_IDS = {"split", "prepared", "exploration", "views", "features"}


def check_references():
    """Fail at parse time, naming the key, on references the JSON schema cannot check."""
    for name, exp in EXPERIMENTS.items():
        if exp["dataset"] not in DATASETS:
            raise WorkflowError(
                f"config key experiments.{name}.dataset: unknown dataset {exp['dataset']!r}; "
                f"defined datasets: {sorted(DATASETS)}"
            )
        if name in RESERVED_IDS:
            raise WorkflowError(
                f"config key experiments.{name}: {name!r} is reserved for workflow files; "
                "choose another experiment id"
            )


check_references()


wildcard_constraints:
    dataset="|".join(map(re.escape, DATASETS)),
    experiment="|".join(map(re.escape, EXPERIMENTS)) or "(?!)",
    filename="|".join(
        re.escape(f["name"]) for spec in DATASETS.values() for f in spec["files"]
    ),


def alternatives(names):
    """Regex matching exactly one of ``names`` (or nothing when empty)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def kind_of(dataset):
    return DATASETS[dataset]["kind"]


def datasets_of_kind(*kinds):
    return [d for d, spec in DATASETS.items() if spec["kind"] in kinds]


def experiments_of_kind(*kinds):
    return [e for e, spec in EXPERIMENTS.items() if kind_of(spec["dataset"]) in kinds]


def experiment_spec(wildcards):
    """The experiment's config (with schema defaults): the params that define its results."""
    return EXPERIMENTS[wildcards.experiment]


def raw_files(dataset):
    """Paths of a dataset's downloaded files."""
    return [f"resources/{dataset}/{f['name']}" for f in DATASETS[dataset]["files"]]


def raw_files_of(wildcards):
    return raw_files(wildcards.dataset)


def file_entry(dataset, filename):
    for entry in DATASETS[dataset]["files"]:
        if entry["name"] == filename:
            return entry
    raise WorkflowError(
        f"resources/{dataset}/{filename}: no file {filename!r} in config key datasets.{dataset}.files"
    )


def download_url(wildcards):
    """The canonical URL; the script swaps in MIRROR/<dataset>/<file> when `mirror` is set.

    The mirror is not a param: fetching the same checksummed file from elsewhere must not
    trigger a rerun."""
    return file_entry(wildcards.dataset, wildcards.filename)["url"]


def download_md5(wildcards):
    return file_entry(wildcards.dataset, wildcards.filename)["md5"]


def tabular_split(wildcards):
    """The split files an experiment trains on, plus its validation split if configured."""
    split_dir = f"results/{wildcards.dataset}/split"
    files = {
        "train": f"{split_dir}/train.csv",
        "test": f"{split_dir}/test.csv",
        "columns": f"{split_dir}/columns.json",
    }
    validation = EXPERIMENTS[wildcards.experiment]["training"]["validation"]
    if validation:
        files["validation"] = f"{split_dir}/{validation}.csv"
    return files


def experiment_dir(experiment):
    return f"results/{EXPERIMENTS[experiment]['dataset']}/{experiment}"


def classifier_outputs(experiment):
    d = experiment_dir(experiment)
    names = ["model.keras", "history.csv", "metrics.json", "predictions.csv"]
    names += ["confusion_matrix.csv", "confusion_matrix.png", "training_curves.png"]
    return [f"{d}/{n}" for n in names]


def enabled_experiments(dataset):
    return [
        e
        for e, spec in EXPERIMENTS.items()
        if spec["dataset"] == dataset and spec["enabled"]
    ]


def penguins_outputs(dataset):
    outputs = [f"results/{dataset}/exploration/pairplot.png"]
    for e in enabled_experiments(dataset):
        outputs += classifier_outputs(e)
    return outputs


# Final files of a dataset, by its kind: one function per kind (dataset id -> paths).
KIND_OUTPUTS = {
    "penguins": penguins_outputs,
}


def dataset_outputs(dataset):
    """Every final file of one dataset, per its kind."""
    kind = kind_of(dataset)
    if kind not in KIND_OUTPUTS:
        raise WorkflowError(
            f"config key datasets.{dataset}.kind: unsupported kind {kind!r}"
        )
    return KIND_OUTPUTS[kind](dataset)


def final_outputs():
    """What `snakemake` builds by default: all enabled datasets."""
    outputs = []
    for dataset, spec in DATASETS.items():
        if spec["enabled"]:
            outputs += dataset_outputs(dataset)
    return outputs


def report_missing_downloads():
    """After a failed run, list the dataset files that could not be fetched and how to supply them."""
    missing = [
        (d, f)
        for d, spec in DATASETS.items()
        if spec["enabled"]
        for f in raw_files(d)
        if not Path(f).exists()
    ]
    if not missing:
        return
    lines = ["", "Dataset files that could not be fetched (see logs/download/):"]
    lines += [f"  - {f}  (dataset {d!r})" for d, f in missing]
    lines += [
        "Supply them without internet by placing copies as MIRROR/<dataset>/<file> and running",
        "  snakemake --cores all --config mirror=/path/to/MIRROR",
        "(checksums are still verified), or copy the file to the resources/ path above.",
    ]
    print("\n".join(lines), file=sys.stderr)
