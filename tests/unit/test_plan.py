"""The experiment plan (dlwf/plan) without Snakemake or TensorFlow: settings, checks, paths, targets."""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from dlwf import plan
from dlwf.plan import code, layout
from tests.workflow import REPO, default_config


@pytest.fixture
def config():
    return default_config()


def load(config) -> plan.Plan:
    return plan.load(copy.deepcopy(config))


def problems_of(config) -> list[str]:
    with pytest.raises(plan.PlanError) as error:
        plan.load(config)
    return error.value.problems


# ------------------------------------------------------------------ the default plan


def built(p) -> set[str]:
    """What `snakemake` builds by default: its targets and every file a report or the leaderboard reads."""
    files = set(p.targets()) | set(p.metrics_files())
    for dataset, spec in p.datasets.items():
        if spec.enabled and dataset not in p.unavailable_datasets():
            files |= set(p.report_inputs(dataset))
    return files


def test_default_plan_has_every_lesson_experiment_and_its_files(config):
    p = load(config)
    points = {f"dropout_sweep/dropout_{v}" for v in config["experiments"]["dropout_sweep"]["sweep"]["values"]}
    assert set(p.experiments) == set(config["experiments"]) | points
    dense10 = p.experiments["dense10"]
    assert (dense10.kind, dense10.task, dense10.mode, dense10.seed, dense10.view) == (
        "table",
        "classification",
        "single",
        2,
        None,
    )
    assert p.experiments["dropout_sweep"].mode == "grid" and p.experiments["tuning"].mode == "tuner"
    assert p.experiments["dropout_sweep/dropout_0.2"].grid_of == "dropout_sweep"
    assert p.experiments["transfer"].mode == "transfer" and p.experiments["basel_9y"].view == "basel_9y"
    targets = p.targets()
    assert len(targets) == len(set(targets))
    assert "reports/penguins.html" in targets and targets[-2:] == layout.LEADERBOARD
    assert "results/weather/dense_100_50/tensorboard" in targets  # no report reads it
    # every final file is a target or read by a report or the leaderboard (those are built for them)
    built = set(targets) | set(p.metrics_files())
    for dataset in ("penguins", "weather", "dollar_street"):
        built |= set(p.report_inputs(dataset))
        assert set(p.dataset_outputs(dataset)) <= built, dataset
    assert "results/penguins/dense10/metrics.json" in built and "results/penguins/dense10/metrics.json" not in targets
    assert "results/dollar_street/dropout_sweep/sweep_val_loss.png" in built
    # cifar10 is disabled: none of its files is a default target
    assert not [t for t in built if "/cifar10/" in t]
    # the leaderboard's rows: every trained run; a sweep's points, not its summary (its best point)
    outputs = [f for d in p.datasets if p.datasets[d].enabled for f in p.dataset_outputs(d)]
    assert p.metrics_files() == [
        f for f in outputs if f.endswith("/metrics.json") and f != "results/dollar_street/dropout_sweep/metrics.json"
    ]
    assert "results/dollar_street/dropout_sweep/dropout_0.2/metrics.json" in p.metrics_files()


def test_every_training_kind_gets_tensorboard_logs_and_a_backup_beside_its_outputs(config):
    """Issue 17: tensorboard/ is an output of CNNs, grid points, tuners and transfer heads too; the
    backup directory is next to the outputs, where the scripts find it (dlwf.core.fileio.backup_dir)."""
    from dlwf.core import fileio

    for name in ("cnn_pool", "dropout_sweep", "tuning", "transfer"):
        config["experiments"][name]["training"]["tensorboard"] = True
    p = load(config)
    targets = set(p.targets())
    for experiment in ("cnn_pool", "dropout_sweep/dropout_0.2", "dropout_sweep/dropout_0.95", "tuning", "transfer"):
        assert f"results/dollar_street/{experiment}/tensorboard" in targets, experiment
    assert "results/dollar_street/dropout_sweep/tensorboard" not in targets  # the grid itself trains nothing
    assert "results/dollar_street/cnn_small/tensorboard" not in targets
    assert layout.backup_dir("penguins", "dense10") == "results/penguins/dense10/.backup"
    assert layout.backup_dir("dollar_street", "dropout_sweep/dropout_0.2") == fileio.backup_dir(
        layout.experiment_dir(p.experiments["dropout_sweep/dropout_0.2"])
    )
    base = layout.transfer_base_id(p.experiments["transfer"])
    assert layout.features_backup_dir("dollar_street", base) == f"results/dollar_street/features/{base}/.backup"
    assert not [t for t in targets if ".backup" in t]


def test_report_parameters_name_only_the_datasets_own_result_files(config):
    p = load(config)
    parameters = p.report_parameters("weather")
    assert parameters["views"] == {v: f"results/weather/views/{v}.csv" for v in ("3y", "all", "basel_9y")}
    files = parameters["experiments"]["dense_100_50"]["files"]
    assert files["metrics.json"] == "results/weather/dense_100_50/metrics.json"
    assert "model.keras" not in files and "tensorboard" not in files
    assert all(f.startswith(("results/weather/", "resources/weather/")) for f in p.report_inputs("weather"))
    # the download records name the data file used and its md5 on the page
    assert parameters["sources"] == {
        "weather_prediction_dataset_light.csv": "resources/weather/weather_prediction_dataset_light.csv.provenance.json"
    }


# ------------------------------------------------------------------ canonical settings (the rules' params)


def test_settings_ignore_key_order_defaults_spelled_out_and_descriptions(config):
    before = load(config).experiments["dense10"].settings()
    spec = config["experiments"]["dense10"]
    spec["description"] = "another description"
    spec["enabled"] = True
    spec["training"] = dict(reversed(list({**spec["training"], "optimizer": "adam", "learning_rate": None}.items())))
    spec["model"]["args"] = {"activation": "relu", **spec["model"]["args"], "batch_norm": False}
    after = load(config).experiments["dense10"].settings()
    assert after == before and repr(after) == repr(before)
    assert "description" not in after and "repeats" not in after and "enabled" not in after


def test_a_changed_setting_changes_the_settings(config):
    before = load(config).experiments["dense10"].settings()
    config["experiments"]["dense10"]["training"]["batch_size"] = 16
    assert load(config).experiments["dense10"].settings() != before


def test_repeats_are_experiments_with_the_next_seeds_and_the_same_settings_otherwise(config):
    config["experiments"]["dense10"]["repeats"] = 3
    p = load(config)
    assert p.repeat_ids("dense10") == ["dense10", "dense10_seed3", "dense10_seed4"]
    original = p.experiments["dense10"].settings()
    assert load(default_config()).experiments["dense10"].settings() == original  # raising repeats retrains nothing
    repeat = p.experiments["dense10_seed3"]
    assert repeat.repeat_of == "dense10" and repeat.settings() == {**original, "seed": 3}
    assert "results/penguins/dense10/repeats.json" in built(p)


def test_a_sweep_points_settings_do_not_depend_on_the_other_values(config):
    before = load(config).settings("dropout_sweep/dropout_0.4")
    config["experiments"]["dropout_sweep"]["sweep"]["values"].append(0.5)
    after = load(config).settings("dropout_sweep/dropout_0.4")
    assert after == before and after["model"]["args"]["dropout"] == 0.4 and "sweep" not in after


def test_renaming_a_transfer_experiment_keeps_its_features_directory(config):
    base = load(config).base_ids()
    config["experiments"]["transfer_renamed"] = config["experiments"].pop("transfer")
    config["experiments"]["transfer_renamed"]["base_model"]["pooling"] = "max"  # a default spelled out
    p = load(config)
    assert p.base_ids() == base
    assert p.base_settings("dollar_street", base[0]) == load(default_config()).base_settings("dollar_street", base[0])


def test_download_params_are_the_url_and_md5_only(config):
    p = load(config)
    assert p.download_url(dataset="penguins", filename="penguins.csv").startswith("package://")
    config["download"] = {"attempts": 9, "backoff": 0.1, "timeout": 1}
    assert load(config).download_md5(dataset="penguins", filename="penguins.csv") == p.download_md5(
        dataset="penguins", filename="penguins.csv"
    )


def test_whole_numbers_written_for_float_settings_are_the_same_settings(config):
    before = load(config).experiments["cnn_pool"].settings()
    config["experiments"]["cnn_pool"]["model"]["args"]["dropout"] = 0
    assert repr(load(config).experiments["cnn_pool"].settings()) == repr(before)


# ------------------------------------------------------------------ checks name the config key


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda c: c["experiments"]["dense10"].update(dataset="penguinz"),
            "config key experiments.dense10.dataset: unknown dataset 'penguinz'",
        ),
        (
            lambda c: c["experiments"].update(split=c["experiments"]["dense10"]),
            "config key experiments.split: 'split' is reserved for workflow files",
        ),
        (
            lambda c: c["experiments"]["basel_9y"].update(view="basel_10y"),
            "config key experiments.basel_9y.view: unknown view 'basel_10y'",
        ),
        (
            lambda c: c["experiments"]["dense10"].update(view="3y"),
            "config key experiments.dense10.view: only experiments on weather datasets have a view",
        ),
        (
            lambda c: c["experiments"]["dense10"].update(sweep={"arg": "hidden_units", "values": [1]}),
            "config key experiments.dense10.sweep: only experiments on image datasets support sweep",
        ),
        (
            lambda c: c["experiments"]["tuning"].update(sweep={"arg": "dropout", "values": [0.1]}),
            "config key experiments.tuning: set either sweep or tuner, not both",
        ),
        (
            lambda c: c["experiments"]["transfer"].update(tuner=c["experiments"]["tuning"]["tuner"]),
            "config key experiments.transfer.tuner: a transfer experiment (base_model) trains one head",
        ),
        (
            lambda c: c["experiments"]["cnn_pool"]["model"].update(builder="dense", args={}),
            "config key experiments.cnn_pool.model.builder: 'dense' does not fit a dataset of kind 'images'",
        ),
        (
            lambda c: c["experiments"]["cnn_pool"]["training"].update(loss="mse"),
            "config key experiments.cnn_pool.training.loss: image labels are class indices",
        ),
        (
            lambda c: c["experiments"]["tuning"]["tuner"]["hyperparameters"].update(
                units={"type": "choice", "values": [1]}
            ),
            "config key experiments.tuning.tuner.hyperparameters.units: 'units' is not an argument of builder 'cnn'",
        ),
        (
            lambda c: c["experiments"]["dense10"]["model"]["args"].update(units=3),
            "config key experiments.dense10.model.args.units: unknown key",
        ),
        (
            lambda c: c["experiments"]["transfer"]["base_model"].update(weights_include_top=True),
            "config key experiments.transfer.base_model.weights_include_top: applies to a local weights file only",
        ),
        (
            lambda c: c["datasets"]["dollar_street"]["files"].pop(),
            "config key datasets.dollar_street.files: format 'npy' needs exactly the files",
        ),
        (
            lambda c: c["datasets"]["weather"].pop("views"),
            "config key datasets.weather: 'views' is a required property",
        ),
    ],
)
def test_each_config_problem_names_its_key(config, change, expected):
    change(config)
    problems = problems_of(config)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(config):
    config["experiments"]["dense10"]["view"] = "3y"
    config["experiments"]["cnn_pool"]["training"]["loss"] = "mse"
    problems = problems_of(config)
    assert len(problems) == 2
    assert "Invalid configuration" in str(plan.PlanError(problems))


def test_a_repeat_id_that_clashes_with_an_experiment_is_refused(config):
    config["experiments"]["dense10"]["repeats"] = 2
    config["experiments"]["dense10_seed3"] = copy.deepcopy(config["experiments"]["dense10"])
    config["experiments"]["dense10_seed3"]["repeats"] = 1
    assert any(
        "config key experiments.dense10_seed3: clashes with repeat 2 of experiments.dense10" in p
        for p in problems_of(config)
    )


def test_nested_settings_given_as_strings_say_how_to_pass_them(config):
    config["datasets"] = "{penguins: {enabled: false}}"
    assert any("--configfile" in p and "config key datasets" in p for p in problems_of(config))


# ------------------------------------------------------------------ code inputs and the package's layers


def test_a_scripts_code_is_its_helpers_and_the_package_modules_it_reaches():
    files = [p.relative_to(REPO).as_posix() for p in code.code_files("train_tabular")]
    assert files == sorted(files)
    assert {
        "scripts/train_tabular.py",
        "scripts/_rule.py",
        "dlwf/steps/tabular.py",
        "dlwf/nn/training.py",
        "dlwf/__init__.py",
    } <= set(files)
    assert not [p for p in files if p.startswith(("dlwf/plan", "dlwf/report"))]


def test_the_code_version_follows_code_not_comments_docstrings_or_the_checkout(tmp_path):
    from tests.workflow import copy_workflow

    def version(root):
        code.code_version.cache_clear()
        code._syntax.cache_clear()
        return code.code_version("train_tabular", root)

    first, second = copy_workflow(tmp_path / "a"), copy_workflow(tmp_path / "b")
    original = version(first)
    assert version(second) == original  # a copied or moved checkout reruns nothing
    training = first / "dlwf" / "nn" / "training.py"
    text = training.read_text()
    training.write_text(text.replace('"""', '"""Edited: ', 1) + "\n# a comment\n\n")
    assert version(first) == original  # the module docstring, a comment, blank lines
    training.write_text(text.replace("def ", "def _unused_helper():\n    return 1\n\n\ndef ", 1))
    assert version(first) != original  # code
    (first / "dlwf" / "report" / "page.py").write_text("x = 1\n")
    training.write_text(text)
    assert version(first) == original  # a module the script does not run


# what each layer of the package may import (DESIGN: core <- data <- nn <- evaluate <- steps; plan, report beside)
ALLOWED = {
    "core": {"core"},
    "data": {"core", "data"},
    "nn": {"core", "data", "nn"},
    "evaluate": {"core", "evaluate"},
    "report": {"core", "report"},
    "plan": {"core", "plan"},
    "steps": {"core", "data", "nn", "evaluate", "report", "steps"},
}


def _package_imports(path: Path) -> set[str]:
    """The dlwf layers a module imports (absolute or relative)."""
    layer = path.relative_to(REPO / "dlwf").parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(layer)
            elif node.level == 1:
                found.add(layer)
            elif node.level > 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.module and node.module.startswith("dlwf."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("dlwf.")}
    return found


def test_imports_run_one_way_between_the_layers():
    problems = []
    for path in sorted((REPO / "dlwf").rglob("*.py")):
        if path.parent == REPO / "dlwf":
            continue
        layer = path.relative_to(REPO / "dlwf").parts[0]
        wrong = _package_imports(path) - ALLOWED[layer]
        if wrong:
            problems.append(f"{path.relative_to(REPO)} ({layer}) imports {sorted(wrong)}")
    assert not problems, "\n".join(problems)


def test_the_plan_runs_without_tensorflow_or_snakemake():
    import subprocess

    program = (
        "import sys, yaml; from dlwf import plan; "
        "p = plan.load(yaml.safe_load(open('config/config.yaml'))); p.targets(); p.report_parameters('weather'); "
        "loaded = {'tensorflow', 'keras', 'snakemake', 'matplotlib'} & set(sys.modules); "
        "print(sorted(loaded)); sys.exit(1 if loaded else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_order_of_keys_in_the_config_changes_nothing(config):
    """Snakemake merges an overlay's keys first, so the order of the merged config follows the overlays."""
    before = load(config)
    config["experiments"] = dict(reversed(list(config["experiments"].items())))
    config["datasets"] = dict(reversed(list(config["datasets"].items())))
    after = load(config)
    assert repr(after.report_parameters("weather")) == repr(before.report_parameters("weather"))
    assert repr(after.leaderboard_entries()) == repr(before.leaderboard_entries())
    assert after.targets() == before.targets() and list(after.experiments) == sorted(after.experiments)


def test_a_grid_written_in_another_key_order_names_and_orders_its_points_the_same(config):
    """Point names are directories: reordering a grid's keys (an overlay may) must rename nothing."""
    grid = {"training.learning_rate": [0.001, 0.01], "model.args.hidden_units": [[8], [16, 8]], "seed": [1, 2]}
    config["experiments"]["dense10"]["grid"] = grid
    before = load(config)
    config["experiments"]["dense10"]["grid"] = dict(reversed(list(grid.items())))
    after = load(config)
    points = [e.id for e in before.grid_points("dense10")]  # in the grid's order
    assert points == [e.id for e in after.grid_points("dense10")]
    assert points[0] == "dense10/hidden_units_8__seed_1__learning_rate_0.001" and len(points) == 8
    assert "dense10/hidden_units_16-8__seed_2__learning_rate_0.01" in points
    assert repr(after.grid_points_table("dense10")) == repr(before.grid_points_table("dense10"))
    assert after.settings("dense10/hidden_units_8__seed_1__learning_rate_0.001")["training"]["learning_rate"] == 0.001


# ------------------------------------------------------------------ your own data (kinds table and image_folder)


CONTRACT = """
datasets:
  wine:
    kind: table
    files: [{name: wine.csv, url: /data/wine.csv}]
    target: cultivar
    task: classification
  photos:
    kind: image_folder
    path: /data/photos          # photos/<class>/<image files>
    image_size: [32, 32]
    test_size: 0.2
experiments:
  wine_dense:
    dataset: wine
    model: {builder: dense, args: {hidden_units: [16], normalize: true}}
    training: {epochs: 60}
  photos_cnn:
    dataset: photos
    model: {builder: cnn, args: {conv_layers: 2, dense_units: [50]}}
    training: {epochs: 5}
predict:
  wine_new: {experiment: wine_dense, url: /data/wine_new.csv}
  photos_new: {experiment: photos_cnn, path: /data/new_photos}
"""


def contract_config(tmp_path) -> dict:
    """The issue's config contract merged into the default config, with its folders under tmp_path."""
    import yaml

    text = CONTRACT.replace("/data/", f"{tmp_path}/").replace("    test_size: 0.2\n", "    split: {test_size: 0.2}\n")
    overlay = yaml.safe_load(text)
    config = default_config()
    config["datasets"].update(overlay["datasets"])
    config["experiments"].update(overlay["experiments"])
    config["predict"] = overlay["predict"]
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "photos" / "cat" / "1.png").write_bytes(b"png")
    (tmp_path / "photos" / ".DS_Store").write_bytes(b"junk")
    return config


def test_the_issues_config_contract_plans_the_experiments_predictions_and_model_cards(tmp_path):
    p = load(contract_config(tmp_path))
    wine, photos = p.experiments["wine_dense"], p.experiments["photos_cnn"]
    # training settings left out come from the task
    assert (wine.training["loss"], wine.training["metrics"], wine.model["args"]["output_activation"]) == (
        "categorical_crossentropy",
        ["accuracy"],
        "softmax",
    )
    assert (photos.training["loss"], photos.training["from_logits"], photos.training["validation"]) == (
        "sparse_categorical_crossentropy",
        True,
        "test",
    )
    targets = p.targets()
    assert "results/wine/wine_dense/predictions/wine_new.csv" in targets
    assert "results/photos/photos_cnn/predictions/photos_new.csv" in targets
    assert "results/wine/wine_dense/model_card.md" in targets and "results/wine/prepared.json" in built(p)
    assert p.raw_files("photos") == [str(tmp_path / "photos" / "cat" / "1.png")]  # hidden files are not data
    assert p.prediction_inputs(entry="wine_new") == {"new": ["resources/predict/wine_new/wine_new.csv"]}
    assert p.report_notebook(dataset="photos").endswith("notebooks/images.ipynb")
    assert p.report_notebook(dataset="wine").endswith("notebooks/table.ipynb")


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda c: c["datasets"]["wine"].pop("task"), "config key datasets.wine: 'task' is a required property"),
        (
            lambda c: c["datasets"]["wine"].update(views={"v": {}}),
            "config key datasets.wine.views: not used by datasets of kind 'table'",
        ),
        (
            lambda c: c["experiments"]["wine_dense"]["training"].update(validation="val"),
            "config key experiments.wine_dense.training.validation: 'val' needs a validation split",
        ),
        (
            lambda c: c["experiments"]["wine_dense"]["training"].update(loss="mse"),
            "config key experiments.wine_dense.training.loss: the table's classes are one-hot encoded targets",
        ),
        (
            lambda c: (
                c["datasets"]["wine"].update(task="regression")
                or c["experiments"]["wine_dense"]["model"]["args"].update(output_activation="softmax")
            ),
            "config key experiments.wine_dense.model.args.output_activation: a regression's output is linear",
        ),
        (
            lambda c: c["experiments"]["wine_dense"]["model"]["args"].update(output_activation=None),
            "config key experiments.wine_dense.model.args.output_activation: None with training.from_logits False",
        ),
        (
            lambda c: c["predict"]["wine_new"].update(path="/x", url=None) or c["predict"]["wine_new"].pop("url"),
            "config key predict.wine_new: 'wine_dense' learns from a table; give the new rows as `url`",
        ),
        (
            lambda c: c["predict"]["photos_new"].update(experiment="nope"),
            "config key predict.photos_new.experiment: unknown experiment 'nope'",
        ),
        (
            lambda c: c["datasets"]["photos"].update(files=[{"name": "p.zip", "url": "/p.zip"}]),
            "config key datasets.photos",
        ),
        (
            lambda c: c["datasets"]["photos"].pop("image_size"),
            "config key datasets.photos: 'image_size' is a required property",
        ),
    ],
)
def test_own_data_problems_name_their_key(tmp_path, change, expected):
    config = contract_config(tmp_path)
    change(config)
    assert any(expected in p for p in problems_of(config)), problems_of(config)


@pytest.mark.parametrize("example", sorted((REPO / "config" / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_config_is_valid(example, config, tmp_path):
    """config/examples/*.yaml are complete: merged into the default config (as --configfile does) they load."""
    import yaml

    overlay = yaml.safe_load(example.read_text().replace("/data/", f"{tmp_path}/"))
    for kind in ("datasets", "experiments", "predict"):
        config.setdefault(kind, {}).update(overlay.get(kind, {}))
    for folder in ("photos/cat", "photos/dog", "new_photos"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    p = load(config)
    assert set(overlay["experiments"]) <= set(p.experiments)


# ------------------------------------------------------------------ reports: text, missing data, episodes


def test_config_text_in_params_holds_no_markup_and_comes_back_exactly(config):
    from dlwf.core import markup
    from tests.html_safety import DESCRIPTION

    config["experiments"]["dense10"]["description"] = DESCRIPTION
    config["datasets"]["penguins"]["description"] = DESCRIPTION
    p = load(config)
    for params in (p.leaderboard_entries(), p.report_parameters("penguins")):
        assert "<" not in repr(params) and ">" not in repr(params)  # nothing can end Snakemake's <script> block
    assert markup.from_params(p.leaderboard_entries())["dense10"]["description"] == DESCRIPTION
    restored = markup.from_params(p.report_parameters("penguins"))
    assert restored["description"] == DESCRIPTION and restored["experiments"]["dense10"]["description"] == DESCRIPTION
    for text in ["&amp;", "&lt", "a & b < c > d", "&#60;", "\\u003c", "&&;;", ""]:
        assert markup.from_params(markup.for_params({"t": [text]})) == {"t": [text]}


def test_default_descriptions_state_no_number_a_result_can_contradict(config):
    counts = re.compile(
        r"\d[\d,.]*\s*(parameters|trainable|epochs|trials|images|days|classes|columns|rows|places)"
        r"|\b\d+x\d+x\d+\b|light version",
        re.IGNORECASE,
    )
    texts = {f"datasets.{d}": spec.get("description", "") for d, spec in config["datasets"].items()}
    texts |= {f"experiments.{e}": spec.get("description", "") for e, spec in config["experiments"].items()}
    offline = yaml.safe_load((REPO / "config" / "offline.yaml").read_text())
    texts |= {f"offline datasets.{d}": spec.get("description", "") for d, spec in offline["datasets"].items()}
    texts |= {f"offline experiments.{e}": spec.get("description", "") for e, spec in offline["experiments"].items()}
    found = {key: counts.search(text).group(0) for key, text in texts.items() if counts.search(text)}
    assert not found
    assert counts.search("cnn_pool: 514,510 parameters") and counts.search("64x64x3 images")  # the check can fail


def test_the_lessons_numbers_are_shown_only_on_the_lessons_data(config):
    p = load(config)
    assert p.leaderboard_entries()["dense_100_50"]["lesson"]["value"] == 4.0778
    assert p.leaderboard_entries()["transfer"]["lesson"]["metric"] == "accuracy"
    assert p.leaderboard_entries()["dense10"]["lesson"] is None  # the lesson prints no penguins accuracy
    assert p.report_parameters("weather")["experiments"]["basel_9y"]["lesson"]["value"] == 3.3762
    offline = yaml.safe_load((REPO / "config" / "offline.yaml").read_text())
    config["datasets"]["weather"]["files"] = offline["datasets"]["weather"]["files"]  # the full file
    config["datasets"]["cifar10-subset"] = offline["datasets"]["cifar10-subset"]
    config["experiments"]["transfer"]["dataset"] = "cifar10-subset"
    for name in (
        "cnn_small",
        "cnn_pool",
        "dense_only",
        "cnn_extra_layer",
        "cnn_dropout",
        "dropout_sweep",
        "tuning",
        "tuning_activation_kernel",
    ):
        config["experiments"][name]["dataset"] = "cifar10-subset"
    other = load(config)
    assert all(entry["lesson"] is None for entry in other.leaderboard_entries().values())
    # a mirror copy is the lesson's data: the configured URL decides, with or without its query
    config["datasets"]["weather"]["files"] = default_config()["datasets"]["weather"]["files"]
    config["datasets"]["weather"]["files"][0]["url"] = config["datasets"]["weather"]["files"][0]["url"].split("?")[0]
    assert load(config).leaderboard_entries()["all_years"]["lesson"]["value"] == 3.23


def test_a_dataset_whose_download_failed_is_left_out_and_listed_as_missing(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = load(config)
    assert p.unavailable_datasets() == {}  # a fresh checkout: nothing tried yet, everything is a target
    full = p.targets()
    weather = layout.raw_file("weather", "weather_prediction_dataset_light.csv")
    Path(layout.failure_marker("weather", "weather_prediction_dataset_light.csv")).parent.mkdir(parents=True)
    Path(layout.failure_marker("weather", "weather_prediction_dataset_light.csv")).write_text("{}")
    assert p.unavailable_datasets() == {"weather": [weather]}
    targets = p.targets()
    assert weather in targets  # the download is tried again by every run
    assert not [t for t in targets if t.startswith(("results/weather/", "reports/weather"))]
    assert not [m for m in p.metrics_files() if "/weather/" in m] and targets[-2:] == layout.LEADERBOARD
    assert set(targets) < set(full) | {weather}
    missing = p.leaderboard_missing()
    assert list(missing) == ["weather"] and missing["weather"]["files"] == [weather]
    assert "dense_100_50" in missing["weather"]["experiments"]
    assert "dense_100_50" not in p.leaderboard_entries()
    # the file arrives (a mirror, a copy): the dataset is back, marker or not
    Path(weather).write_text("DATE\n")
    assert p.unavailable_datasets() == {} and p.targets() == full


def test_the_download_step_writes_the_marker_the_plan_reads(tmp_path):
    from dlwf.steps import download

    data = tmp_path / layout.raw_file("weather", "w.csv")
    with pytest.raises(Exception, match="not found|No such|does not exist"):
        download.download_file(
            "weather",
            "w.csv",
            str(tmp_path / "nowhere.csv"),
            None,
            str(data),
            str(tmp_path / "w.provenance.json"),
            attempts=1,
        )
    marker = tmp_path / layout.failure_marker("weather", "w.csv")
    assert marker.is_file() and "nowhere.csv" in json.loads(marker.read_text())["error"]
    (tmp_path / "here.csv").write_text("DATE\n1\n")
    download.download_file(
        "weather", "w.csv", str(tmp_path / "here.csv"), None, str(data), str(tmp_path / "w.provenance.json"), attempts=1
    )
    assert data.is_file() and not marker.exists()


def test_episodes_come_from_the_experiments_and_build_their_own_pages(config):
    p = load(config)
    episodes = {name: [e.id for e in exps] for name, exps in p.episodes().items()}
    assert list(episodes) == layout.EPISODES
    assert episodes["episode2"] == ["dense10", "dense10_normalized"] and episodes["episode5"] == ["transfer"]
    assert "dropout_sweep" in episodes["episode4"] and "transfer" not in episodes["episode4"]
    assert p.episode_dataset("episode3") == "weather"
    four = p.episode_targets("episode4")
    assert four[-2:] == ["reports/episode4.html", "reports/episode4.ipynb"]
    assert "results/dollar_street/cnn_pool/metrics.json" in four
    assert not [t for t in four if "/transfer/" in t or "/features/" in t or t.startswith("results/penguins")]
    parameters = p.report_parameters(episode="episode5")
    assert parameters["dataset"] == "dollar_street" and list(parameters["experiments"]) == ["transfer"]
    assert p.report_notebook(episode="episode5").endswith("notebooks/images.ipynb")
    assert set(p.report_inputs(episode="episode5")) < set(p.report_inputs("dollar_street"))
    lesson = p.lesson_targets()
    assert lesson[-2:] == layout.LEADERBOARD and set(four) < set(lesson)
    # the offline overlay moves episode 4 and 5 to another dataset: the episodes follow their experiments
    offline = yaml.safe_load((REPO / "config" / "offline.yaml").read_text())
    for key in ("datasets", "experiments"):
        for name, spec in offline[key].items():
            config[key].setdefault(name, {}).update(spec)
    assert load(config).episode_dataset("episode4") == "cifar10-subset"


def test_an_episode_shows_one_dataset_and_no_dataset_is_named_like_an_episode(config):
    config["experiments"]["dense10"]["episode"] = 3
    config["datasets"]["episode2"] = dict(config["datasets"]["penguins"])
    problems = problems_of(config)
    assert any("episode 3 run on datasets ['penguins', 'weather']" in p for p in problems)
    assert any("config key datasets.episode2: 'episode2' is the name of an episode's report" in p for p in problems)


def test_ids_and_file_names_cannot_carry_markup(config):
    """Ids become paths, wildcards and page text unescaped by Snakemake's report: the schema allows none of
    these characters in them (descriptions and class names, which may hold anything, are escaped)."""
    from tests.html_safety import PAYLOADS

    config["experiments"][PAYLOADS["script"]] = dict(config["experiments"]["dense10"])
    config["datasets"][PAYLOADS["img"]] = dict(config["datasets"]["penguins"])
    config["datasets"]["weather"]["views"]["<b>"] = {"last_row": 10}
    config["datasets"]["penguins"]["files"][0]["name"] = "x<script>.csv"
    problems = "\n".join(problems_of(config))
    for name in (PAYLOADS["script"], PAYLOADS["img"], "<b>", "x<script>.csv"):
        assert repr(name) in problems or name in problems, name
