"""Issue 15: each KIND of foreseeable fault is named before or where it happens.

One section per kind of the issue (1-11). Every test feeds one or more members of the kind into
the plan (parse time) or the reader/step that meets it (run time) on tiny data and checks the
message: it names the config key or the file (and column, row, class, path and amount) and says
what to do, and a failing step leaves nothing behind. The README's troubleshooting table lists
these kinds; ``tests/integration/test_cases.py`` runs the shared case files through Snakemake.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dlwf.core import runtime

runtime.configure_tensorflow(1)  # before Keras is imported (as the scripts do)

import keras  # noqa: E402

from dlwf import plan  # noqa: E402
from dlwf.core import fileio, resources  # noqa: E402
from dlwf.core.errors import ResourceError, WorkflowInputError  # noqa: E402
from dlwf.data import images, tables, weather  # noqa: E402
from dlwf.nn import training  # noqa: E402
from dlwf.nn.builders import build_model  # noqa: E402
from dlwf.plan import checks  # noqa: E402
from dlwf.plan.config import config_file_problems  # noqa: E402
from dlwf.report import leaderboard  # noqa: E402
from dlwf.steps import common as common_steps  # noqa: E402
from dlwf.steps import report as report_steps  # noqa: E402
from dlwf.steps import tables as table_steps  # noqa: E402
from dlwf.steps import transfer as transfer_steps  # noqa: E402
from dlwf.steps import weather as weather_steps  # noqa: E402
from tests.unit.test_bad_inputs import files_in, run_script  # noqa: E402
from tests.workflow import REPO, default_config, merge  # noqa: E402

CASES = REPO.parent / "shared" / "cases"


def problems_of(overlay: dict, config_files=()) -> list[str]:
    """The plan's problems for the default config with ``overlay`` merged in ([] when it loads)."""
    config = default_config()
    merge(config, overlay)
    try:
        plan.load(config, config_files=config_files)
    except plan.PlanError as exc:
        return exc.problems
    return []


def experiment(name: str, **blocks) -> dict:
    """An overlay changing blocks of experiment ``name``."""
    return {"experiments": {name: blocks}}


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# ------------------------------------------------------------------ 1. quantities training never logs


@pytest.mark.parametrize(
    "training, expected",
    [
        (
            {"early_stopping": {"monitor": "val_acc"}},
            "config key experiments.dense10.training.early_stopping.monitor: 'val_acc' is never logged by this "
            "training (Keras 3 logs 'acc' as 'accuracy'); it logs ['loss', 'accuracy', 'val_loss', 'val_accuracy']",
        ),
        (
            {"validation": None, "early_stopping": {"monitor": "val_loss", "patience": 1}},
            "config key experiments.dense10.training.early_stopping.monitor: 'val_loss' is never logged by this "
            "training (val_ quantities need validation data: set training.validation to test or val); it logs ['loss', "
            "'accuracy']",
        ),
        (
            {"validation": None, "early_stopping": {}},  # the default monitor is val_loss
            "'val_loss' is never logged by this training (val_ quantities need validation data",
        ),
        (
            {"metrics": [], "early_stopping": {"monitor": "val_accuracy"}},
            "'val_accuracy' is never logged by this training (add accuracy to training.metrics); it logs ['loss', "
            "'val_loss']",
        ),
        ({"early_stopping": {"monitor": "val_rmse"}}, "'val_rmse' is never logged by this training (add rmse"),
    ],
)
def test_early_stopping_on_a_quantity_training_never_logs_is_refused_at_parse_time(training, expected):
    assert expected in only(problems_of(experiment("dense10", training=training)))


def test_tuner_objective_and_sweeps_need_what_they_read():
    message = only(problems_of(experiment("tuning", tuner={"objective": "val_accuracy"}, training={"metrics": []})))
    assert message.startswith("config key experiments.tuning.tuner.objective: 'val_accuracy' is never logged")
    message = only(problems_of(experiment("dropout_sweep", training={"metrics": [], "early_stopping": None})))
    assert message.startswith(
        "config key experiments.dropout_sweep.training.metrics: a sweep records each value's "
        "validation accuracy; include accuracy"
    )


@pytest.mark.parametrize(
    "name, training",
    [
        ("dense10", {"validation": None, "early_stopping": {"monitor": "loss"}}),
        ("dense10", {"validation": None, "early_stopping": {"monitor": "accuracy"}}),
        ("dense_10_5", {"metrics": ["rmse", "mae"], "early_stopping": {"monitor": "val_mae"}}),
        ("transfer", {}),  # the lesson's val_accuracy
    ],
)
def test_quantities_that_are_logged_are_accepted(name, training):
    assert problems_of(experiment(name, training=training)) == []


@pytest.mark.parametrize(
    "metrics, validation, n_outputs, loss",
    [
        (["accuracy"], True, 3, "categorical_crossentropy"),
        ([], False, 3, "categorical_crossentropy"),
        (["rmse", "mae"], True, 1, "mse"),
        (["mae"], False, 1, "mse"),
    ],
)
def test_the_plan_knows_exactly_what_keras_logs(metrics, validation, n_outputs, loss):
    """checks.logged_names is the parse-time copy of Keras' log names: it must equal history.csv's columns."""
    settings = {
        "training": {
            "metrics": metrics,
            "validation": "test" if validation else None,
            "loss": loss,
            "from_logits": False,
            "learning_rate": None,
            "optimizer": "adam",
            "batch_size": 4,
            "epochs": 1,
            "early_stopping": None,
            "tensorboard_histograms": 0,
        }
    }
    keras.utils.set_random_seed(0)
    model = build_model(
        "dense", (2,), n_outputs, {"hidden_units": [2], "output_activation": "softmax" if n_outputs > 1 else None}
    )
    training.compile_model(model, settings["training"])
    x = np.zeros((6, 2), np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]] if n_outputs > 1 else np.zeros((6, 1), np.float32)
    history = training.fit(model, x, y, settings["training"], (x, y) if validation else None)
    assert sorted(set(history.columns) - {"epoch"}) == sorted(checks.logged_names(settings["training"]))


# ------------------------------------------------------------------ 2. non-finite and overflowing numbers


def csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "value, expected",
    [
        ("inf", "column 'x' has an infinite value 'inf' in data row 2"),
        ("-Infinity", "column 'x' has an infinite value '-inf' in data row 2"),
        ("1e999", "column 'x' has an infinite value 'inf' in data row 2"),
        (
            "1e39",
            "column 'x' has the value '1e+39' in data row 2, beyond the largest number a network computes with "
            "(float32, 3.4e+38), so it would become infinite: rescale the column",
        ),
    ],
)
def test_non_finite_or_float32_overflowing_values_are_refused_like_nan(tmp_path, value, expected):
    path = csv(tmp_path, "t.csv", f"x,y\n1,a\n{value},b\n3,a\n4,b\n")
    with pytest.raises(WorkflowInputError) as info:
        tables.read_table(path, "y", "classification")
    assert str(info.value).startswith(f"{path}: {expected}")


def weather_table(n: int = 30, **columns) -> pd.DataFrame:
    dates = pd.date_range("2000-01-01", periods=n, freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "DATE": dates.strftime("%Y%m%d").astype(int),
            "MONTH": dates.month,
            "BASEL_sunshine": rng.uniform(0, 10, n).round(1),
            "BASEL_temp_mean": rng.uniform(0, 20, n).round(1),
        }
    )
    for name, values in columns.items():
        frame[name] = values
    return frame


def test_infinite_value_in_a_weather_view_or_split_file_is_refused(tmp_path):
    raw = tmp_path / "weather.csv"
    weather_table().to_csv(raw, index=False)
    view = tmp_path / "view.csv"
    weather_steps.prepare_view(str(raw), "BASEL_sunshine", None, [], str(view), "config key datasets.w.views.v")
    frame = pd.read_csv(view)
    frame.loc[20, "BASEL_sunshine_next_day"] = np.inf  # a view file edited by hand
    frame.to_csv(view, index=False)
    out = tmp_path / "split"
    with pytest.raises(
        WorkflowInputError,
        match=rf"^{view}: column 'BASEL_sunshine_next_day' has an infinite value "
        r"'inf' in data row 21",
    ):
        weather_steps.split(
            str(view),
            "BASEL_sunshine",
            0.3,
            0.5,
            0,
            str(out / "train.csv"),
            str(out / "val.csv"),
            str(out / "test.csv"),
            str(out / "columns.json"),
        )
    assert not out.exists()


def test_non_finite_cached_features_are_refused(tmp_path):
    features = np.ones((3, 4), np.float32)
    features[1, 2] = np.nan
    np.save(tmp_path / "train.npy", features)
    with pytest.raises(
        WorkflowInputError,
        match=r"train.npy: image 2 has non-finite \(NaN or infinite\) features; "
        "delete it and run snakemake again",
    ):
        transfer_steps.load_features(str(tmp_path / "train.npy"), 3)


# ------------------------------------------------------------------ 3. ambiguous names


@pytest.mark.parametrize(
    "header, expected",
    [
        ("a,b,a,y", "column name(s) ['a'] appear more than once in the header"),
        ("a,b,a ,y", "column names ['a', 'a '] differ only in surrounding spaces or upper/lower case"),
        ("a,B,b,y", "column names ['B', 'b'] differ only in surrounding spaces or upper/lower case"),
        ("a,,b,y", "column(s) [2] of the header have no name"),
    ],
)
def test_ambiguous_column_names_are_refused_naming_what_clashed(tmp_path, header, expected):
    path = csv(tmp_path, "t.csv", f"{header}\n1,2,3,p\n4,5,6,q\n")
    with pytest.raises(WorkflowInputError) as info:
        tables.read_table(path, "y", "classification")
    assert str(info.value).startswith(f"{path}: {expected}")


def test_rows_with_more_fields_than_the_header_are_refused_not_shifted(tmp_path):
    path = csv(tmp_path, "t.csv", "a,b,y\n1,2,3,p\n4,5,6,q\n")
    with pytest.raises(
        WorkflowInputError,
        match="the data rows have more fields than the header .3 names., so every column would be shifted",
    ):
        tables.read_table(path, "y", "classification")


def test_a_name_that_differs_only_by_spaces_or_case_is_pointed_out(tmp_path):
    path = csv(tmp_path, "t.csv", "a,Species \n1,p\n2,q\n")
    with pytest.raises(WorkflowInputError) as info:
        tables.read_table(path, "species", "classification")
    assert (
        "missing column(s) ['species'] ('species' is written 'Species ' in the file: spaces and upper/lower case "
        "count)" in str(info.value)
    )


def test_duplicated_weather_target_column_is_refused(tmp_path):
    path = tmp_path / "w.csv"
    frame = weather_table()
    frame.insert(2, "BASEL_sunshine ", frame["BASEL_sunshine"])
    frame.to_csv(path, index=False)
    with pytest.raises(WorkflowInputError, match="column names \\['BASEL_sunshine ', 'BASEL_sunshine'\\] differ only"):
        weather.read_weather(str(path), "BASEL_sunshine")


def test_class_labels_differing_by_spaces_are_normalised_saying_so_and_by_case_refused(tmp_path):
    path = csv(tmp_path, "t.csv", "x,y\n1,Adelie \n2,Adelie\n3,Gentoo\n")
    table, info = tables.read_table(path, "y", "classification")
    assert info["class_names"] == ["Adelie", "Gentoo"]
    assert info["notes"] == ["class label(s) ['Adelie '] had surrounding spaces, removed (so 'Adelie ' is 'Adelie')"]
    path = csv(tmp_path, "u.csv", "x,y\n1,adelie\n2,Adelie\n3,Gentoo\n")
    with pytest.raises(
        WorkflowInputError,
        match=r"class labels that differ only in upper/lower case: "
        r"\[\['Adelie', 'adelie'\]\]",
    ):
        tables.read_table(path, "y", "classification")


def test_categorical_values_differing_by_spaces_or_case_are_named_in_the_notes(tmp_path):
    path = csv(tmp_path, "t.csv", "x,island,y\n1,Biscoe ,a\n2,Biscoe,b\n3,biscoe,a\n4,Dream,b\n")
    table, info = tables.read_table(path, "y", "classification")
    assert sorted(set(table["island"])) == ["Biscoe", "Dream", "biscoe"]
    assert info["notes"] == [
        "column 'island': value(s) ['Biscoe '] had surrounding spaces, removed",
        "column 'island': values [['Biscoe', 'biscoe']] differ only in upper/lower case and count as different "
        "categories; write each one way if they are the same",
    ]


def test_class_folders_or_class_names_differing_by_case_are_refused(tmp_path):
    from PIL import Image

    from dlwf.data import image_folder

    for label in ("Cat", "cat", "dog"):
        (tmp_path / "photos" / label).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (i, 0, 0)).save(tmp_path / "photos" / label / f"{i}.png")
    with pytest.raises(
        WorkflowInputError,
        match=r"class folders \['Cat', 'cat'\] of .*photos differ only in "
        "upper/lower case or spaces",
    ):
        image_folder.read_folder(tmp_path / "photos", (8, 8))
    names = ["cat", "Cat "] + [f"c{i}" for i in range(8)]
    message = only(problems_of({"datasets": {"dollar_street": {"class_names": names}}}))
    assert message.startswith("config key datasets.dollar_street.class_names: ['cat', 'Cat '] differ only in")


def test_ids_the_workflow_writes_beside_are_refused():
    assert only(problems_of({"datasets": {"penguins": {"id_column": "predicted"}}})).startswith(
        "config key datasets.penguins.id_column: 'predicted' is a column the predictions files add"
    )
    predict = {"kind": "table", "files": [{"name": "x.csv", "url": "x.csv"}], "target": "y", "task": "regression"}
    assert only(problems_of({"datasets": {"predict": predict}})).startswith(
        "config key datasets.predict: 'predict' is reserved for workflow files (resources/predict/"
    )


@pytest.mark.parametrize(
    "dataset, expected",
    [
        (
            {"features": ["bill_length_mm", "species"]},
            "config key datasets.penguins.features: ['species'] is the target",
        ),
        ({"id_column": "species"}, "config key datasets.penguins.id_column: 'species' is the target"),
        ({"features": {"drop": ["species"]}}, "config key datasets.penguins.features.drop: ['species'] is the target"),
        ({"categorical": ["island"]}, "config key datasets.penguins.categorical: ['island'] are not feature columns"),
        ({"separator": '"'}, "config key datasets.penguins.separator: '\"' is the quote character"),
    ],
)
def test_table_settings_that_contradict_each_other_are_refused_at_parse_time(dataset, expected):
    assert only(problems_of({"datasets": {"penguins": dataset}})).startswith(expected)


# ------------------------------------------------------------------ 4. weather dates


@pytest.mark.parametrize(
    "fmt", ["%Y%m%d", "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S"]
)
def test_common_date_formats_are_read_and_the_view_keeps_them(tmp_path, fmt):
    frame = weather_table(40)
    days = pd.to_datetime(frame["DATE"].astype(str), format="%Y%m%d")
    frame["DATE"] = days.dt.strftime(fmt)
    raw = tmp_path / "w.csv"
    frame.to_csv(raw, index=False)
    data = weather.read_weather(str(raw), "BASEL_sunshine")
    assert list(weather.parse_dates(data["DATE"], raw)) == list(days)
    view = weather.make_view(data, "BASEL_sunshine")
    assert list(view["DATE"].astype(str)) == list(frame["DATE"].iloc[:-1].astype(str))


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda d: d.drop(index=range(10, 40)),
            "jumps from 2000-01-10 (data row 10) to 2000-02-10 (data row 11): "
            "30 missing day(s); the target is the next row's value",
        ),
        (
            lambda d: d.drop(index=[5, 12]),
            "jumps from 2000-01-05 (data row 5) to 2000-01-07 (data row 6): 1 missing day(s) (1 more step(s) like it)",
        ),
        (lambda d: pd.concat([d.iloc[:8], d.iloc[7:]]), "repeats 2000-01-08 in data rows 8 and 9"),
        (lambda d: d.iloc[[0, 1, 3, 2] + list(range(4, len(d)))], "jumps from 2000-01-02 (data row 2) to 2000-01-04"),
    ],
)
def test_dates_that_are_not_consecutive_days_name_the_first_gap(tmp_path, change, expected):
    raw = tmp_path / "w.csv"
    change(weather_table(60)).to_csv(raw, index=False)
    with pytest.raises(WorkflowInputError) as info:
        weather.read_weather(str(raw), "BASEL_sunshine")
    assert str(info.value).startswith(f"{raw}: column 'DATE' {expected}")


def test_reports_read_the_dates_in_any_accepted_format():
    from dlwf.report.page import days

    for values in (["2000-01-30", "2000-01-31", "2000-02-01"], [20000130, 20000131, 20000201]):
        assert [str(d.date()) for d in days(pd.DataFrame({"DATE": values}))] == [
            "2000-01-30",
            "2000-01-31",
            "2000-02-01",
        ]
    assert list(days(pd.DataFrame({"x": [1, 2]}))) == [0, 1]


def test_a_value_that_is_no_date_is_named_with_the_accepted_formats(tmp_path):
    frame = weather_table().astype({"DATE": object})
    frame.loc[4, "DATE"] = "yesterday"
    raw = tmp_path / "w.csv"
    frame.to_csv(raw, index=False)
    with pytest.raises(
        WorkflowInputError,
        match=r"column 'DATE' has the value 'yesterday' in data row 5, which is not "
        r"a date; write every date in one of the formats \['20000131', "
        r"'2000-01-31'",
    ):
        weather.read_weather(str(raw), "BASEL_sunshine")


def test_weather_target_must_be_a_measured_column():
    message = only(problems_of({"datasets": {"weather": {"target": "DATE"}}}))
    assert message.startswith("config key datasets.weather.target: 'DATE' is a calendar column")


# ------------------------------------------------------------------ 5. settings that cannot fit the task


@pytest.mark.parametrize(
    "name, blocks, expected",
    [
        (
            "cnn_pool",
            {"training": {"from_logits": False}},
            "config key experiments.cnn_pool.training.from_logits: builder 'cnn' ends in logits",
        ),
        (
            "transfer",
            {"training": {"from_logits": False}},
            "config key experiments.transfer.training.from_logits: builder 'transfer_head' ends in logits",
        ),
        (
            "dense10",
            {"model": {"args": {"output_activation": "sigmoid"}}},
            "config key experiments.dense10.model.args.output_activation: 'sigmoid' with training.from_logits False "
            "gives no class probabilities",
        ),
        (
            "dense10",
            {"model": {"args": {"output_activation": "sigmoid"}}, "training": {"from_logits": True}},
            "config key experiments.dense10.model.args.output_activation: 'sigmoid' with training.from_logits True "
            "gives no class probabilities",
        ),
        (
            "dense10",
            {"training": {"loss": "mse"}},
            "config key experiments.dense10.training.loss: the table's classes are one-hot encoded targets",
        ),
        (
            "dense_10_5",
            {"training": {"loss": "categorical_crossentropy"}},
            "config key experiments.dense_10_5.training.loss: the target is a number (regression); use mse",
        ),
        (
            "dense_10_5",
            {"model": {"args": {"output_activation": "softmax"}}},
            "config key experiments.dense_10_5.model.args.output_activation: a regression's output is linear",
        ),
        (
            "cnn_pool",
            {"training": {"loss": "categorical_crossentropy"}},
            "config key experiments.cnn_pool.training.loss: image labels are class indices",
        ),
        (
            "dense_10_5",
            {"training": {"metrics": ["accuracy"]}},
            "config key experiments.dense_10_5.training.metrics: accuracy does not apply to a regression",
        ),
    ],
)
def test_loss_output_and_labels_that_cannot_fit_the_task_are_refused(name, blocks, expected):
    assert only(problems_of(experiment(name, **blocks))).startswith(expected)


def test_a_target_of_the_other_task_is_named_with_the_task_to_set(tmp_path):
    rows = "\n".join(f"{i},{i * 1.37:.2f}" for i in range(120))
    path = csv(tmp_path, "t.csv", f"x,y\n{rows}\n")
    with pytest.raises(
        WorkflowInputError,
        match=r"column 'y' holds 120 different numbers in 120 rows, each taken as a "
        r"class \(task: classification\); for a number to predict set task: "
        "regression",
    ):
        tables.read_table(path, "y", "classification")
    tables.read_table(path, "y", "regression")
    path = csv(tmp_path, "u.csv", "x,y\n1,Adelie\n2,Gentoo\n")
    with pytest.raises(
        WorkflowInputError,
        match="non-numeric value 'Adelie' .* the target of a regression must be a "
        "number .for classes set task: classification.",
    ):
        tables.read_table(path, "y", "regression")
    small = csv(tmp_path, "v.csv", "x,y\n1,1\n2,2\n3,3\n4,1\n")  # a few numeric class codes stay classes
    assert tables.read_table(small, "y", "classification")[1]["class_names"] == ["1", "2", "3"]


def test_logits_with_from_logits_are_accepted():
    accepted = {"model": {"args": {"output_activation": "log_softmax"}}, "training": {"from_logits": True}}
    assert problems_of(experiment("dense10", **accepted)) == []
    assert (
        problems_of(experiment("dense10", model={"args": {"output_activation": None}}, training={"from_logits": True}))
        == []
    )


# ------------------------------------------------------------------ 6. config files and --config


def test_a_key_written_twice_in_a_config_file_is_refused_naming_file_line_and_key(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        "experiments:\n  dense10:\n    training:\n      epochs: 2\n      learning_rate: 0.01\n"
        "    training:\n      batch_size: 16\n"
    )
    config = yaml.safe_load(overlay.read_text())  # what Snakemake reads: the first block is gone
    assert config["experiments"]["dense10"]["training"] == {"batch_size": 16}
    message = only(problems_of(config, config_files=[overlay]))
    assert message == (
        f"config file {overlay}, line 6: key 'experiments.dense10.training' is written twice (first at "
        "line 3); YAML keeps only the last one, so the first would be ignored silently: merge the two "
        "into one"
    )


def test_duplicate_keys_anywhere_and_in_json_files_are_found(tmp_path):
    flow = tmp_path / "a.yaml"
    flow.write_text("datasets: {penguins: {enabled: false, enabled: true, notebook: table}}\n")
    assert config_file_problems(flow) == [
        f"config file {flow}, line 1: key 'datasets.penguins.enabled' is written twice (first at line 1); YAML keeps "
        "only the last one, so the first would be ignored silently: merge the two into one"
    ]
    js = tmp_path / "b.json"
    js.write_text('{"train_threads": 1,\n "train_threads": 2}\n')
    assert "line 2: key 'train_threads' is written twice (first at line 1)" in only(config_file_problems(js))
    tabs = tmp_path / "c.json"  # JSON that YAML cannot read (tab indentation), as Snakemake reads it
    tabs.write_text('{\n\t"train_threads": 1,\n\t"train_threads": 2\n}\n')
    message = only(config_file_problems(tabs))  # libyaml reads it as YAML (with line numbers), else the JSON way
    assert message.startswith(f"config file {tabs}") and "key 'train_threads' is written twice" in message
    tabs.write_text('{\n\t"train_threads": 1\n}\n')
    assert config_file_problems(tabs) == []
    assert config_file_problems(REPO / "config" / "config.yaml") == []
    for example in sorted((REPO / "config").rglob("*.yaml")):
        if example.name != "schema.yaml":
            assert config_file_problems(example) == [], example


def test_yaml_merge_keys_that_override_are_not_called_duplicates(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "base: &b {epochs: 2, batch_size: 8}\nexperiments:\n  dense10:\n    training:\n      <<: *b\n      epochs: 3\n"
    )
    assert config_file_problems(path) == []


@pytest.mark.parametrize(
    "overlay, expected",
    [
        (
            experiment("dense10", training={"epochs": "2"}),
            "config key experiments.dense10.training.epochs: '2' has the wrong type, expected integer (given with "
            "--config? Values nested inside --config key={...} arrive as text: put nested settings in an overlay file",
        ),
        (
            experiment("dense10", training={"validation": "null"}),
            "config key experiments.dense10.training.validation: 'null' is not one of ['test', 'val', None] (given "
            "with --config?",
        ),
        (
            {"datasets": {"weather": {"enabled": "false"}}},
            "config key datasets.weather.enabled: 'false' has the wrong type, expected boolean (given with --config?",
        ),
        ({"datasets": "{weather: {enabled: false}}"}, "put nested settings in an overlay file"),
        ({"mirror": "null"}, "config key mirror: 'null' is text, not a directory (--config mirror=null arrives as"),
        ({"datasets.weather.enabled": False}, "a dotted name is not a path: write the nesting in an overlay file"),
    ],
)
def test_values_that_arrive_as_text_from_config_say_to_use_an_overlay_file(overlay, expected):
    assert expected in only(problems_of(overlay))


def test_a_text_value_that_is_meant_as_text_gets_no_hint():
    message = only(problems_of(experiment("dense10", training={"optimizer": "nadam"})))
    assert "--config" not in message


# ------------------------------------------------------------------ 7. splits the data cannot support


def classes_table(counts: dict[str, int]) -> pd.DataFrame:
    labels = [name for name, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"x": np.arange(len(labels), dtype=float), "y": labels})


@pytest.mark.parametrize(
    "counts, test_size, validation_size, expected",
    [
        ({"a": 10, "b": 10, "c": 1}, 0.2, 0.0, "class(es) {'c': 1} have a single row"),
        (
            {"a": 3, "b": 2},
            0.2,
            0.0,
            "split.test_size 0.2 of 5 rows leaves 1 row(s) for the held-out set, fewer than "
            "the 2 classes {'a': 3, 'b': 2}",
        ),
        (
            {"a": 100, "b": 100, "c": 100},
            0.995,
            0.0,
            "split.test_size 0.995 of 300 rows leaves 1 row(s) for the training set, fewer than the 3 classes",
        ),
        (
            {"a": 6, "b": 6},
            0.5,
            0.4,
            "split.validation_size 0.4 (0.8 of the rows left after the test set) of 6 rows "
            "leaves 1 row(s) for the training set",
        ),
    ],
)
def test_splits_the_rows_cannot_support_name_the_class_counts_and_the_setting(
    counts, test_size, validation_size, expected
):
    with pytest.raises(WorkflowInputError) as info:
        tables.split_table(classes_table(counts), "y", "classification", test_size, validation_size, where="K")
    assert str(info.value).startswith(f"K: {expected}")


def test_regression_split_without_training_rows_is_refused():
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]})
    with pytest.raises(
        WorkflowInputError,
        match="^K: 2 rows cannot be split with split.test_size 0.9: it leaves 2 "
        "row.s. for the held-out set and 0 for training",
    ):
        tables.split_table(frame, "y", "regression", 0.9, where="K")


def test_shares_that_leave_no_training_rows_are_refused_at_parse_time():
    message = only(problems_of({"datasets": {"penguins": {"split": {"test_size": 0.5, "validation_size": 0.5}}}}))
    assert message.startswith("config key datasets.penguins.split: test_size 0.5 + validation_size 0.5 leave no rows")


@pytest.mark.parametrize("n_rows, test_size, holdout", [(2, 0.3, 0.5), (3, 0.3, 0.5), (20, 0.05, 0.5), (20, 0.3, 0.99)])
def test_weather_views_too_short_for_their_split_are_refused(tmp_path, n_rows, test_size, holdout):
    view = tmp_path / "view.csv"
    data = weather_table(n_rows + 1)
    weather.make_view(data, "BASEL_sunshine").to_csv(view, index=False)
    out = tmp_path / "split"
    with pytest.raises(WorkflowInputError) as info:
        weather_steps.split(
            str(view),
            "BASEL_sunshine",
            test_size,
            holdout,
            0,
            str(out / "train.csv"),
            str(out / "val.csv"),
            str(out / "test.csv"),
            str(out / "columns.json"),
            where="KEY",
        )
    assert str(info.value).startswith(
        f"KEY: a view of {n_rows} rows split with test_size {test_size} and holdout_test_size {holdout} gives "
    )
    assert "each needs at least one: use a longer view (last_row) or other shares" in str(info.value)
    assert not out.exists()


def test_weather_split_sizes_agree_with_scikit_learn():
    from sklearn.model_selection import train_test_split

    for n in (6, 7, 10, 33, 1096):
        for test_size, holdout in ((0.3, 0.5), (0.2, 0.3), (0.5, 0.6)):
            sizes = weather.split_sizes(n, test_size, holdout)
            train, held = train_test_split(np.arange(n), test_size=test_size, random_state=0)
            val, test = train_test_split(held, test_size=holdout, random_state=0)
            assert sizes == {"train": len(train), "validation": len(val), "test": len(test)}


# ------------------------------------------------------------------ 8. files read back


def metrics_record(experiment: str = "dense10") -> dict:
    return {
        "experiment": experiment,
        "dataset": "penguins",
        "epochs_run": 2,
        "n_parameters": 83,
        "primary_metric": {"name": "accuracy", "value": 0.9, "higher_is_better": True},
        "baseline": {"name": "majority", "accuracy": 0.4},
        "beats_baseline": True,
        "test_set": {"file": "test.csv", "md5": "t" * 32},
        "provenance": {
            "dataset_md5": {"penguins.csv": "a" * 32},
            "config": {"seed": 2},
            "config_hash": "h",
            "git_commit": "c",
        },
    }


@pytest.mark.parametrize(
    "content, expected",
    [
        (json.dumps(metrics_record())[:150], "not a valid metrics.json record ("),
        ("", "not a valid metrics.json record (Expecting value"),
        ("[1, 2]", "not a valid metrics.json record (a JSON list, not an object)"),
        (
            json.dumps({k: v for k, v in metrics_record().items() if k != "test_set"}),
            "not a valid metrics.json record (key(s) ['test_set'] missing)",
        ),
        (
            json.dumps({**metrics_record(), "primary_metric": {"name": "accuracy", "value": "high"}}),
            "not a valid metrics.json record (primary_metric, test_set, experiment or dataset is not what",
        ),
    ],
)
def test_a_broken_metrics_json_is_named_with_delete_and_rerun_by_every_reader(
    tmp_path, monkeypatch, capsys, content, expected
):
    monkeypatch.chdir(tmp_path)  # the leaderboard finds benchmarks/ beside results/, as in a run
    path = Path("results/penguins/dense10/metrics.json")
    path.parent.mkdir(parents=True)
    path.write_text(content)
    fix = "delete it and run snakemake again so the evaluation that writes it runs anew"
    with pytest.raises(WorkflowInputError) as info:
        leaderboard.read_record(path)
    assert str(info.value).startswith(f"{path}: {expected}") and str(info.value).endswith(fix)
    out = tmp_path / "out"
    code, console = run_script(
        "leaderboard",
        monkeypatch,
        capsys,
        input={"metrics": [str(path)]},
        output={"csv": str(out / "l.csv"), "html": str(out / "l.html")},
        params={"experiments": {}, "missing": {}},
    )
    assert code == 1 and f"ERROR in rule leaderboard: {path}: {expected}" in console
    assert "unexpected failure" not in console and not out.exists()


@pytest.mark.parametrize(
    "name, content, reader, expected",
    [
        ("classes.json", '{"class_names": ["a", "b"], "n_cl', images.read_classes, "not a valid classes.json"),
        (
            "classes.json",
            '{"class_names": ["a", "b"], "n_classes": 3, "image_shape": [8, 8, 3]}',
            images.read_classes,
            "not a valid classes.json (class_names, n_classes and image_shape disagree",
        ),
        (
            "columns.json",
            '{"task": "classification", "target": "y", "features": ["x"]}',
            tables.load_columns,
            "not a valid columns.json of a split (no class_names)",
        ),
        ("prepared.json", '{"numeric": []', table_steps.read_info, "not a valid prepared.json"),
        (
            "train_environment.json",
            '{"gpu_requested": 0}',
            common_steps.training_environment,
            "not a valid train_environment.json of the training job (key(s) ['device'] missing)",
        ),
        (
            "base.json",
            "garbage",
            lambda p: transfer_steps.read_json_checked(
                p, transfer_steps.BASE_JSON_KEYS, "base.json of the feature pass"
            ),
            "not a valid base.json of the feature pass",
        ),
        ("history.csv", "garbage\n", tables.read_history, "not a training history (no column(s) ['epoch', 'loss'])"),
        ("history.csv", "epoch,loss\n1,0.5\n3,0.4\n", tables.read_history, "not a training history (epochs are not"),
        ("train.tsv", "garbage", transfer_steps.benchmark_seconds, "not a Snakemake benchmark file"),
    ],
)
def test_every_file_read_back_is_validated_and_names_the_fix(tmp_path, name, content, reader, expected):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(WorkflowInputError) as info:
        reader(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: {expected}")
    assert "delete it and run snakemake again" in message


@pytest.mark.parametrize("content", ["garbage\n", ",a,b\na,1,x\nb,0,2\n", ",a,b\na,1,0\n"])
def test_a_broken_confusion_matrix_is_named(tmp_path, content):
    from dlwf.steps import plots as plot_steps

    path = csv(tmp_path, "confusion_matrix.csv", content)
    with pytest.raises(WorkflowInputError, match=f"^{path}: not a confusion matrix .*delete it and run snakemake"):
        plot_steps.confusion_matrix(str(path), str(tmp_path / "c.png"), "t")
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        ("split,true,predicted,baseline\ntest,1,2,3\n", "no rows of split(s) ['train']; delete it"),
        ("split,true,predicted,baseline\ntrain,1,x,3\ntest,1,2,3\n", "column 'predicted' has a non-numeric value 'x'"),
    ],
)
def test_broken_regression_predictions_are_named_before_plotting(tmp_path, content, expected):
    from dlwf.steps import plots as plot_steps

    path = csv(tmp_path, "predictions.csv", content)
    with pytest.raises(WorkflowInputError) as info:
        plot_steps.prediction_scatter(str(path), "y", "t", str(tmp_path / "a.png"), str(tmp_path / "b.png"))
    assert str(info.value).startswith(f"{path}: {expected}")


def prepared_dir(tmp_path: Path, n: int = 6) -> Path:
    directory = tmp_path / "prepared"
    directory.mkdir()
    pixels = np.random.default_rng(0).integers(0, 255, (n, 8, 8, 3), dtype=np.uint8)
    labels = np.arange(n) % 2
    for part in ("train", "test"):
        np.save(directory / f"{part}_images.npy", pixels)
        np.save(directory / f"{part}_labels.npy", labels)
    (directory / "classes.json").write_text(
        json.dumps({"class_names": ["a", "b"], "n_classes": 2, "image_shape": [8, 8, 3]})
    )
    return directory


def test_broken_prepared_arrays_say_the_workflow_made_them(tmp_path):
    directory = prepared_dir(tmp_path)
    path = directory / "test_images.npy"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(WorkflowInputError) as info:
        images.load_split(directory, "test", 2)
    assert str(info.value).startswith(
        f"{path}: the .npy header claims an array of shape (6, 8, 8, 3) (uint8), 1.1 KiB, but the file holds only "
    )
    assert str(info.value).endswith("delete it and run snakemake again so the rule that makes it runs anew")
    np.save(path, np.zeros((6, 8, 8), np.uint8))
    with pytest.raises(WorkflowInputError, match="images must have shape .* the workflow made this file: delete it"):
        images.load_split(directory, "test", 2)


def test_report_inputs_are_checked_before_the_notebook_runs(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(report_steps.PNG_MAGIC + b"rest")
    bad_png, empty_csv = tmp_path / "curves.png", tmp_path / "trials.csv"
    bad_png.write_text("<html>")
    empty_csv.write_text("trial,score\n")
    report_steps.check_result_file(str(good))
    for path, expected in ((bad_png, "not a PNG image"), (empty_csv, "the table has no rows")):
        with pytest.raises(WorkflowInputError, match=f"^{path}: {expected}; delete it and run snakemake again"):
            report_steps.check_result_file(str(path))
    parameters = {
        "exploration": [str(good)],
        "views": {},
        "data": {},
        "experiments": {"e": {"files": {"trials.csv": str(empty_csv)}}},
    }
    with pytest.raises(WorkflowInputError, match="trials.csv: the table has no rows"):
        report_steps.dataset_report(
            "nb.ipynb", "t.j2", parameters, False, str(tmp_path / "o.ipynb"), str(tmp_path / "o.html")
        )
    assert not (tmp_path / "o.html").exists()


# ------------------------------------------------------------------ 10. resources: size claims, full disk, memory


def test_npy_header_claiming_more_than_the_file_holds_is_refused_before_allocating(tmp_path):
    path = tmp_path / "train_images.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "|u1", "fortran_order": False, "shape": (100_000_000, 64, 64, 3)}
        )
        handle.write(bytes(4096))
    with pytest.raises(WorkflowInputError) as info:
        images.load_npy(path)
    assert str(info.value).startswith(
        f"{path}: the .npy header claims an array of shape (100000000, 64, 64, 3) "
        "(uint8), 1.1 TiB, but the file holds only 4.0 KiB after its header; it is "
        "truncated or corrupt: replace the file"
    )


@pytest.mark.skipif(not (CASES / "images-npy-huge-header-truncated").is_dir(), reason="no shared cases")
def test_the_shared_huge_header_case_is_refused():
    path = CASES / "images-npy-huge-header-truncated" / "train_images.npy"
    with pytest.raises(WorkflowInputError, match=r"claims an array of shape \(100000000, 64, 64, 3\)"):
        images.load_npy(path)


def test_available_memory_is_what_the_process_may_still_use():
    available = resources.available_memory()
    assert available is None or 0 < available < 2**50
    assert resources.human(1536) == "1.5 KiB" and resources.human(12) == "12 bytes"
    assert resources.human(1.1 * 2**40) == "1.1 TiB"


def test_npy_larger_than_the_memory_is_refused_naming_both_amounts(tmp_path, monkeypatch):
    path = tmp_path / "a.npy"
    np.save(path, np.zeros((64, 64, 3), np.uint8))
    monkeypatch.setattr(resources, "available_memory", lambda: 1000)
    with pytest.raises(
        ResourceError,
        match=rf"^{path}: the array of shape \(64, 64, 3\) \(uint8\) needs 12.0 KiB of "
        r"memory, but only 1000 bytes is available; use a machine with more "
        "memory",
    ):
        images.load_npy(path)


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_full_disk_while_writing_names_the_path_and_the_free_space_and_keeps_nothing(tmp_path, wrapped):
    dest = tmp_path / "out" / "model.keras"

    def full(tmp):
        tmp.write_bytes(b"partial")
        error = OSError(errno.ENOSPC, "No space left on device")
        if wrapped:  # as a library that wraps it (e.g. h5py in Keras) raises it
            try:
                raise error
            except OSError as exc:
                raise RuntimeError("could not save") from exc
        raise error

    with pytest.raises(ResourceError) as info:
        with fileio.atomic_path(dest) as tmp:
            full(tmp)
    message = str(info.value)
    assert message.startswith(f"{dest}: no space left on the device while writing it (")
    assert f"free in {dest.parent})" in message and "free some space" in message
    assert files_in(tmp_path / "out") == []


def test_other_write_errors_are_not_called_a_full_disk(tmp_path):
    with pytest.raises(PermissionError):
        with fileio.atomic_path(tmp_path / "x.csv"):
            raise PermissionError(errno.EACCES, "denied")


def test_scripts_name_a_full_disk_or_exhausted_memory_met_outside_the_package(tmp_path, monkeypatch, capsys):
    """scripts/_rule.py: a library writing its own files (TensorBoard, keras-tuner) or an allocation beyond
    the memory never ends in 'unexpected failure'."""
    import sys

    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import _rule

    class Job:
        rule, log, output = "train", [], [str(tmp_path / "results/m.keras")]

    def disk_full(_):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "results/tensorboard/events"))

    def no_memory(_):
        raise MemoryError("Unable to allocate 1.12 TiB for an array")

    class ResourceExhaustedError(Exception):  # what TensorFlow raises when a tensor does not fit (GPU or host)
        pass

    def read_only(_):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "results/m.keras"))

    def no_device_memory(_):
        raise ResourceExhaustedError("OOM when allocating tensor with shape[100000,100000]\nmore")

    for main, expected in (
        (
            disk_full,
            f"ERROR in rule train: {tmp_path}/results/tensorboard/events: no space left on the device while writing it",
        ),
        (no_memory, "ERROR in rule train: out of memory (Unable to allocate 1.12 TiB for an array; "),
        (
            no_device_memory,
            "ERROR in rule train: out of memory (OOM when allocating tensor with shape[100000,100000]; ",
        ),
        (
            read_only,
            f"ERROR in rule train: {tmp_path}/results/m.keras: permission denied "
            "(Permission denied); make it (and its directory) readable and writable",
        ),
    ):
        with pytest.raises(SystemExit) as exit_info:
            _rule.run(main, Job())
        console = capsys.readouterr().err
        assert exit_info.value.code == 1 and expected in console, console
        assert "unexpected failure" not in console
    sys.modules.pop("_rule", None)


# ------------------------------------------------------------------ 9 (runtime half). library limits moved to the plan


@pytest.mark.parametrize(
    "overlay, expected",
    [
        (
            experiment("tuning", tuner={"hyperparameters": {"activation": {"type": "choice", "values": ["relu", 1]}}}),
            "config key experiments.tuning.tuner.hyperparameters.activation.values: ['relu', 1] mix int and str; "
            "keras-tuner's Choice takes one type of value",
        ),
        (
            experiment(
                "tuning", tuner={"hyperparameters": {"filters": {"type": "float", "min": 8, "max": 16, "step": 4}}}
            ),
            "config key experiments.tuning.tuner.hyperparameters.filters: 'filters' takes whole numbers; use type int",
        ),
        (
            experiment(
                "tuning",
                tuner={"hyperparameters": {"dropout": {"type": "float", "min": 0.5, "max": 1.0, "step": 0.25}}},
            ),
            "config key experiments.tuning.tuner.hyperparameters.dropout.max: value 1.0: model.args.dropout: 1.0 is "
            "greater than or equal to the maximum of 1",
        ),
        (
            experiment(
                "tuning", tuner={"hyperparameters": {"activation": {"type": "choice", "values": ["relu", "swish2"]}}}
            ),
            "config key experiments.tuning.tuner.hyperparameters.activation.values: value 'swish2': "
            "model.args.activation",
        ),
        (
            experiment("transfer", base_model={"name": "MobileNet", "alpha": 0.3}),
            "config key experiments.transfer.base_model.alpha: Keras has ImageNet weights of MobileNet for alpha "
            "[0.25, 0.5, 0.75, 1.0] only, not 0.3",
        ),
        (
            experiment("dense10", training={"tensorboard_histograms": 1}),
            "config key experiments.dense10.training.tensorboard_histograms: needs tensorboard: true",
        ),
        (
            experiment("dense10", seed=2**32),
            "config key experiments.dense10.seed: 4294967296 is greater than the maximum",
        ),
        (
            experiment("dense10", seed=2**32 - 1, repeats=2),
            "config key experiments.dense10.repeats: seeds 4294967295..4294967296 pass numpy's largest seed",
        ),
        (
            experiment("dense10", training={"metrics": ["accuracy", "accuracy"]}),
            "config key experiments.dense10.training.metrics: ['accuracy', 'accuracy'] has non-unique elements",
        ),
        (
            {"datasets": {"penguins": {"split": {"random_state": 2**32}}}},
            "config key datasets.penguins.split.random_state: 4294967296 is greater than the maximum of 4294967295",
        ),
        (
            {"datasets": {"penguins": {"notebook": "nope"}}},
            "config key datasets.penguins.notebook: no notebooks/nope.ipynb; the notebooks: [",
        ),
    ],
)
def test_values_a_library_would_reject_are_refused_at_parse_time(overlay, expected):
    assert only(problems_of(overlay)).startswith(expected)


def image_folder_overlay(image_size, args) -> dict:
    return {
        "datasets": {"photos": {"kind": "image_folder", "path": "photos", "image_size": image_size}},
        "experiments": {
            "small": {"dataset": "photos", "model": {"builder": "cnn", "args": args}, "training": {"epochs": 1}}
        },
    }


@pytest.mark.parametrize(
    "image_size, args, fits",
    [
        ([32, 32], {"conv_layers": 3, "dense_units": [8]}, True),  # 30 15 13 6 4 2
        ([16, 16], {"conv_layers": 3, "dense_units": [8]}, False),  # 14 7 5 2 0
        ([16, 16], {"conv_layers": 3, "pooled_layers": 1}, True),  # 14 7 5 3
        ([12, 40], {"conv_layers": 1, "kernel_size": 13}, False),
        ([8, 8], {"conv_layers": 0}, True),
    ],
)
def test_cnn_layers_are_checked_against_an_image_folder_size_and_agree_with_keras(image_size, args, fits):
    problems = problems_of(image_folder_overlay(image_size, args))
    assert (problems == []) == fits, problems
    if not fits:
        assert only(problems).startswith("config key experiments.small.model.args: ")
        size = f"{image_size[0]}x{image_size[1]}"
        assert f"shrink images of {size} (datasets.photos.image_size) to nothing" in problems[0]
    full = {
        **plan.load({**default_config(), **image_folder_overlay([32, 32], {})}).experiments["small"].model["args"],
        **args,
    }
    if fits:
        build_model("cnn", (*image_size, 3), 2, full)
    else:
        with pytest.raises(
            WorkflowInputError,
            match=r"model.args: builder 'cnn' cannot build a model for inputs of "
            rf"shape \({image_size[0]}, {image_size[1]}, 3\)",
        ):
            build_model("cnn", (*image_size, 3), 2, full, where="model")


def test_tuner_choices_keep_their_type_and_mixed_numbers_become_one():
    """keras-tuner's Choice takes one type: [0, 0.5] becomes [0.0, 0.5]; [1, 2] of an integer argument stays whole."""
    overlay = experiment(
        "tuning",
        tuner={
            "hyperparameters": {
                "conv_layers": {"type": "choice", "values": [1, 2]},
                "dropout": {"type": "choice", "values": [0, 0.5]},
            }
        },
    )
    config = default_config()
    merge(config, overlay)
    spaces = plan.load(config).experiments["tuning"].tuner["hyperparameters"]
    assert repr(spaces["conv_layers"]["values"]) == "[1, 2]" and repr(spaces["dropout"]["values"]) == "[0.0, 0.5]"
    import keras_tuner

    from dlwf.nn import tuning

    values = tuning.declare(keras_tuner.HyperParameters(), spaces, "k")
    assert type(values["conv_layers"]) is int and type(values["dropout"]) is float


def test_images_too_small_for_a_sweep_point_are_refused():
    overlay = image_folder_overlay([16, 16], {"conv_layers": 1})
    overlay["experiments"]["small"]["sweep"] = {"arg": "conv_layers", "values": [1, 3]}
    assert "(with {'conv_layers': 3}) shrink images of 16x16" in only(problems_of(overlay))
