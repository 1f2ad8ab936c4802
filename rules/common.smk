import copy
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, workflow.basedir)
from dlwf.configcheck import config_errors, load_schema
from dlwf.errors import WorkflowInputError
from dlwf.transfer_config import base_config, base_id, weights_path

SCHEMA = str(Path(workflow.basedir) / "config" / "schema.yaml")
CONFIG_PROBLEMS = config_errors(config, load_schema(SCHEMA))
if CONFIG_PROBLEMS:
    raise WorkflowError(
        "Invalid configuration (config/config.yaml and any --configfile/--config):\n  - "
        + "\n  - ".join(CONFIG_PROBLEMS)
    )
validate(config, schema=SCHEMA)  # fills in the schema's defaults

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


def expand_repeats():
    """Add experiment <id>_seed<S> for each extra seed of an experiment with `repeats` > 1."""
    for name, exp in list(EXPERIMENTS.items()):
        for offset in range(1, exp["repeats"]):
            seed = exp["seed"] + offset
            repeat_id = f"{name}_seed{seed}"
            if repeat_id in EXPERIMENTS:
                raise WorkflowError(
                    f"config key experiments.{repeat_id}: clashes with repeat {offset + 1} of "
                    f"experiments.{name} (repeats: {exp['repeats']}); rename one of them"
                )
            EXPERIMENTS[repeat_id] = {
                **copy.deepcopy(exp),
                "seed": seed,
                "repeats": 1,
                "repeat_of": name,
            }


def repeat_ids(experiment):
    """The ids of all runs of ``experiment`` (itself first) when it has repeats."""
    return [experiment] + [
        e for e, spec in EXPERIMENTS.items() if spec.get("repeat_of") == experiment
    ]


def repeat_metrics(wildcards):
    dataset = EXPERIMENTS[wildcards.experiment]["dataset"]
    return [
        f"results/{dataset}/{e}/metrics.json" for e in repeat_ids(wildcards.experiment)
    ]


def repeat_summaries():
    """repeats.json of every enabled experiment that has repeats."""
    return [
        f"{experiment_dir(e)}/repeats.json"
        for e, spec in EXPERIMENTS.items()
        if spec["repeats"] > 1
        and spec["enabled"]
        and DATASETS[spec["dataset"]]["enabled"]
    ]


expand_repeats()


def check_weather_views():
    """Fail at parse time on weather settings the schema cannot check (per-kind keys, view ids)."""
    for name, spec in DATASETS.items():
        for key in ("target", "views"):
            if spec["kind"] == "weather" and key not in spec:
                raise WorkflowError(
                    f"config key datasets.{name}.{key}: required for datasets of kind 'weather'"
                )
    for name, exp in EXPERIMENTS.items():
        dataset = DATASETS[exp["dataset"]]
        view = exp.get("view")
        if dataset["kind"] != "weather":
            if view is not None:
                raise WorkflowError(
                    f"config key experiments.{name}.view: only experiments on weather datasets "
                    f"have a view; dataset {exp['dataset']!r} is of kind {dataset['kind']!r}"
                )
        elif view not in dataset["views"]:
            problem = f"unknown view {view!r}" if view else "required here"
            raise WorkflowError(
                f"config key experiments.{name}.view: {problem}; views of dataset "
                f"{exp['dataset']!r}: {sorted(dataset['views'])}"
            )


check_weather_views()


wildcard_constraints:
    dataset="|".join(map(re.escape, DATASETS)),
    experiment="|".join(map(re.escape, EXPERIMENTS)) or "(?!)",
    filename="|".join(
        re.escape(f["name"]) for spec in DATASETS.values() for f in spec["files"]
    ),


def package_code(*modules):
    """Package modules a rule's script runs: declared as inputs so editing them reruns the rule."""
    names = ("__init__", "errors", "fileio") + modules
    return [str(Path(workflow.basedir) / "dlwf" / f"{m}.py") for m in names]


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
    """The split files an experiment trains on, plus its validation split if configured.

    Experiments on a view of their dataset (weather) use that view's split."""
    split_dir = f"results/{wildcards.dataset}/split"
    view = EXPERIMENTS[wildcards.experiment].get("view")
    if view:
        split_dir = f"{split_dir}/{view}"
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


def tabular_experiments(tensorboard):
    """Experiments trained by rule train_tabular (False) or train_tabular_tensorboard (True)."""
    return [
        e
        for e in experiments_of_kind("penguins", "weather")
        if EXPERIMENTS[e]["training"]["tensorboard"] == tensorboard
    ]


def regressor_outputs(experiment):
    d = experiment_dir(experiment)
    names = ["model.keras", "history.csv", "metrics.json", "predictions.csv"]
    names += ["training_curves.png", "predicted_vs_true_train.png"]
    names += ["predicted_vs_true_test.png"]
    outputs = [f"{d}/{n}" for n in names]
    if EXPERIMENTS[experiment]["training"]["tensorboard"]:
        outputs.append(f"{d}/tensorboard")
    return outputs


def view_ids(*kinds):
    """Every view id of the datasets of ``kinds`` (for wildcard constraints)."""
    return sorted({v for d in datasets_of_kind(*kinds) for v in DATASETS[d]["views"]})


def weather_view(wildcards):
    """The settings that define one view file (prepare_weather_view's params)."""
    views = DATASETS[wildcards.dataset]["views"]
    if wildcards.view not in views:
        raise WorkflowError(
            f"results/{wildcards.dataset}/views/{wildcards.view}.csv: no view {wildcards.view!r} "
            f"in config key datasets.{wildcards.dataset}.views ({sorted(views)})"
        )
    view = views[wildcards.view]
    return {
        "target": DATASETS[wildcards.dataset]["target"],
        "last_row": view["last_row"],
        "feature_prefixes": view["feature_prefixes"],
        "where": f"datasets.{wildcards.dataset}.views.{wildcards.view}",
    }


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


def weather_outputs(dataset):
    outputs = []
    for e in enabled_experiments(dataset):
        outputs += regressor_outputs(e)
    return outputs


# Images (episodes 4-5): prepared arrays, experiment modes, sweep points.
IMAGE_NPY_FILES = [
    "train_images.npy",
    "train_labels.npy",
    "test_images.npy",
    "test_labels.npy",
]


def image_mode(spec):
    """How an image experiment trains: 'sweep' (one job per value), 'tuner', 'transfer' or 'single'."""
    if "base_model" in spec:
        return "transfer"
    return "sweep" if "sweep" in spec else "tuner" if "tuner" in spec else "single"


def check_images_config():
    """Fail at parse time, naming the key, on image settings the schema cannot check."""
    for name in datasets_of_kind("images"):
        spec = DATASETS[name]
        names = [f["name"] for f in spec["files"]]
        if spec["format"] == "npy" and sorted(names) != sorted(IMAGE_NPY_FILES):
            raise WorkflowError(
                f"config key datasets.{name}.files: format 'npy' needs exactly the files "
                f"{IMAGE_NPY_FILES}, got {names}"
            )
        if spec["format"] == "cifar10_python" and len(names) != 1:
            raise WorkflowError(
                f"config key datasets.{name}.files: format 'cifar10_python' needs one file "
                f"(cifar-10-python.tar.gz), got {names}"
            )
    for name, exp in EXPERIMENTS.items():
        is_images = kind_of(exp["dataset"]) == "images"
        for key in ("sweep", "tuner"):
            if key in exp and not is_images:
                raise WorkflowError(
                    f"config key experiments.{name}.{key}: only experiments on datasets of "
                    f"kind 'images' support {key}"
                )
        if not is_images:
            continue
        if "sweep" in exp and "tuner" in exp:
            raise WorkflowError(
                f"config key experiments.{name}: set either sweep or tuner, not both"
            )
        training = exp["training"]
        if training["loss"] != "sparse_categorical_crossentropy":
            raise WorkflowError(
                f"config key experiments.{name}.training.loss: image labels are class "
                "indices; use sparse_categorical_crossentropy"
            )
        needs_test = image_mode(exp) != "single"
        if training["validation"] not in (("test",) if needs_test else ("test", None)):
            raise WorkflowError(
                f"config key experiments.{name}.training.validation: image datasets have "
                "train and test files only, the test files being the validation set; use "
                "'test'" + ("" if needs_test else " or null")
            )


check_images_config()


def image_experiments(mode):
    """Ids of the image experiments of one mode ('single', 'sweep' or 'tuner')."""
    return [
        e for e in experiments_of_kind("images") if image_mode(EXPERIMENTS[e]) == mode
    ]


def prepared_images(wildcards):
    """The prepared arrays and classes.json of the dataset in ``wildcards``."""
    d = f"results/{wildcards.dataset}/prepared"
    files = {Path(n).stem: f"{d}/{n}" for n in IMAGE_NPY_FILES}
    files["classes"] = f"{d}/classes.json"
    return files


def image_dataset_params(wildcards):
    spec = DATASETS[wildcards.dataset]
    return {
        "class_names": spec["class_names"],
        "format": spec["format"],
        "subset": spec["subset"],
        "where": f"datasets.{wildcards.dataset}",
    }


def sweep_points(experiment):
    """Directory name ('<arg>_<value>') -> value, per value of the experiment's sweep."""
    sweep = EXPERIMENTS[experiment]["sweep"]
    return {f"{sweep['arg']}_{v}": v for v in sweep["values"]}


def all_sweep_points():
    return sorted({p for e in image_experiments("sweep") for p in sweep_points(e)})


def sweep_point(wildcards):
    """The builder argument and value one sweep job trains with."""
    points = sweep_points(wildcards.experiment)
    if wildcards.point not in points:
        raise WorkflowError(
            f"{wildcards.point!r} is not a value of config key "
            f"experiments.{wildcards.experiment}.sweep (points: {sorted(points)})"
        )
    arg = EXPERIMENTS[wildcards.experiment]["sweep"]["arg"]
    return {"arg": arg, "value": points[wildcards.point]}


def sweep_results(wildcards):
    """Every point's evaluation and history (in the order of the configured values), plus
    the prepared labels and raw files that metrics.json's baseline and checksums need.
    """
    d = experiment_dir(wildcards.experiment)
    points = list(sweep_points(wildcards.experiment))
    return {
        "evaluations": [f"{d}/{p}/evaluation.json" for p in points],
        "histories": [f"{d}/{p}/history.csv" for p in points],
        "raw": raw_files(wildcards.dataset),
        **prepared_images(wildcards),
    }


def images_outputs(dataset):
    outputs = [
        f"results/{dataset}/prepared/classes.json",
        f"results/{dataset}/exploration/sample_images.png",
    ]
    for e in enabled_experiments(dataset):
        d = experiment_dir(e)
        mode = image_mode(EXPERIMENTS[e])
        if mode == "sweep":
            names = [
                "sweep.csv",
                "sweep_val_loss.png",
                "sweep_curves.png",
                "metrics.json",
            ]
            outputs += [f"{d}/{n}" for n in names]
        else:
            outputs += classifier_outputs(e)
        if mode == "tuner":
            outputs += [f"{d}/trials.csv", f"{d}/trials_history.csv"]
        if mode == "transfer":
            outputs += transfer_outputs(e)
    return outputs


# Transfer learning (episode 5): image experiments with a base_model block. The frozen base
# runs once per dataset and base configuration, into results/<dataset>/features/<base id>/.
def check_transfer_config():
    """Fail at parse time, naming the key, on base_model settings the schema cannot check."""
    for name, exp in EXPERIMENTS.items():
        if "base_model" not in exp:
            continue
        if kind_of(exp["dataset"]) != "images":
            raise WorkflowError(
                f"config key experiments.{name}.base_model: only experiments on datasets of "
                f"kind 'images' can use a pretrained base; dataset {exp['dataset']!r} is of "
                f"kind {kind_of(exp['dataset'])!r}"
            )
        for key in ("sweep", "tuner"):
            if key in exp:
                raise WorkflowError(
                    f"config key experiments.{name}.{key}: a transfer experiment (base_model) "
                    "trains one head on the cached features; remove one of the two"
                )
        try:
            base_config(exp["base_model"], f"experiments.{name}.base_model")
        except WorkflowInputError as exc:
            raise WorkflowError(str(exc)) from None


check_transfer_config()


def transfer_base_id(experiment):
    """'<name>_<hash of base_model>': experiments with the same base share its features."""
    return base_id(base_config(EXPERIMENTS[experiment]["base_model"]))


def transfer_base_ids():
    return sorted({transfer_base_id(e) for e in image_experiments("transfer")})


def transfer_base(wildcards):
    """The base_model block behind results/<dataset>/features/<base>/ and its config key."""
    for e in image_experiments("transfer"):
        spec = EXPERIMENTS[e]
        if (
            spec["dataset"] == wildcards.dataset
            and transfer_base_id(e) == wildcards.base
        ):
            return {
                "config": spec["base_model"],
                "where": f"experiments.{e}.base_model",
            }
    raise WorkflowError(
        f"results/{wildcards.dataset}/features/{wildcards.base}: no transfer experiment on "
        f"dataset {wildcards.dataset!r} has this base model"
    )


def transfer_weights_file(wildcards):
    """The base's local weights file, as an input so that replacing it recomputes the features.

    A missing file is no input here: the script then fails naming the config key and path.
    """
    path = weights_path(base_config(transfer_base(wildcards)["config"]))
    return [path] if path and Path(path).is_file() else []


def transfer_features_dir(experiment):
    dataset = EXPERIMENTS[experiment]["dataset"]
    return f"results/{dataset}/features/{transfer_base_id(experiment)}"


def transfer_features(wildcards):
    """The cached features (and their extractor) an experiment's head trains on."""
    d = transfer_features_dir(wildcards.experiment)
    return {
        "extractor": f"{d}/extractor.keras",
        "train_features": f"{d}/train.npy",
        "test_features": f"{d}/test.npy",
        "base": f"{d}/base.json",
    }


def transfer_benchmarks(wildcards):
    """Benchmark files of the feature pass and the head training (timings for metrics.json)."""
    base = transfer_base_id(wildcards.experiment)
    return {
        "features_benchmark": f"benchmarks/{wildcards.dataset}/features/{base}.tsv",
        "head_benchmark": f"benchmarks/{wildcards.dataset}/{wildcards.experiment}/train_head.tsv",
    }


def transfer_outputs(experiment):
    """A transfer experiment's files besides classifier_outputs()."""
    d = transfer_features_dir(experiment)
    names = ["train.npy", "test.npy", "base.json"]
    return [f"{experiment_dir(experiment)}/head.keras"] + [f"{d}/{n}" for n in names]


# Final files of a dataset, by its kind: one function per kind (dataset id -> paths).
KIND_OUTPUTS = {
    "penguins": penguins_outputs,
    "images": images_outputs,
    "weather": weather_outputs,
}


def dataset_outputs(dataset):
    """Every final file of one dataset, per its kind."""
    kind = kind_of(dataset)
    if kind not in KIND_OUTPUTS:
        raise WorkflowError(
            f"config key datasets.{dataset}.kind: unsupported kind {kind!r}"
        )
    return KIND_OUTPUTS[kind](dataset)


def enabled_dataset_outputs():
    outputs = []
    for dataset, spec in DATASETS.items():
        if spec["enabled"]:
            outputs += dataset_outputs(dataset)
    return outputs


def all_metrics_files():
    """metrics.json of every enabled experiment (the leaderboard's rows)."""
    return [p for p in enabled_dataset_outputs() if Path(p).name == "metrics.json"]


# Per-dataset reports: notebooks/<kind>.ipynb run by papermill on the dataset's own files only,
# so a result of another dataset never reruns them.
REPORT_FILE_TYPES = (".png", ".csv", ".json")


def report_parameters(dataset):
    """The papermill parameters of a dataset's report: its config and the files its notebook reads."""
    outputs = dataset_outputs(dataset)
    experiments = {}
    for e in enabled_experiments(dataset):
        spec = EXPERIMENTS[e]
        prefix = f"{experiment_dir(e)}/"
        mine = outputs + (repeat_files(e) if spec["repeats"] > 1 else [])
        files = {
            Path(p).name: p
            for p in mine
            if p.startswith(prefix)
            and "/" not in p[len(prefix) :]
            and p.endswith(REPORT_FILE_TYPES)
        }
        experiments[e] = {
            "description": spec["description"],
            "mode": image_mode(spec),
            "view": spec.get("view"),
            "repeat_of": spec.get("repeat_of"),
            "files": files,
        }
    views = sorted({spec["view"] for spec in experiments.values() if spec["view"]})
    exploration = f"results/{dataset}/exploration/"
    return {
        "dataset": dataset,
        "description": DATASETS[dataset]["description"],
        "exploration": [p for p in outputs if p.startswith(exploration)],
        "views": {v: f"results/{dataset}/views/{v}.csv" for v in views},
        "data": {
            Path(p).stem: p
            for p in outputs
            if p.startswith(f"results/{dataset}/prepared/") and p.endswith(".json")
        },
        "experiments": experiments,
    }


def repeat_files(experiment):
    return [f"{experiment_dir(experiment)}/repeats.{ext}" for ext in ("csv", "json")]


def report_inputs(wildcards):
    """Every file the report's notebook reads: a changed result reruns the report."""
    parameters = report_parameters(wildcards.dataset)
    files = parameters["exploration"] + list(parameters["views"].values())
    files += list(parameters["data"].values())
    for spec in parameters["experiments"].values():
        files += list(spec["files"].values())
    return files


def report_notebook(wildcards):
    notebooks = Path(workflow.basedir) / "notebooks"
    return str(notebooks / f"{kind_of(wildcards.dataset)}.ipynb")


# nbconvert template of the report pages (the lab template without its CDN scripts)
REPORT_TEMPLATE = str(
    Path(workflow.basedir) / "notebooks" / "templates" / "offline.html.j2"
)


def enabled_reports():
    return [
        f"reports/{d}.{ext}"
        for d, spec in DATASETS.items()
        if spec["enabled"]
        for ext in ("html", "ipynb")
    ]


def final_outputs():
    """What `snakemake` builds by default: all enabled datasets, their reports and the leaderboard."""
    return (
        enabled_dataset_outputs()
        + repeat_summaries()
        + enabled_reports()
        + ["results/leaderboard.csv", "results/leaderboard.html"]
    )


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
