"""Issue 7: every bad input a user can feed in fails with a clear error and leaves nothing partial.

Each case asserts the exception type, that the message names the file (or config key) and says
what is wrong or how to fix it, and, where the step writes files, that none exist afterwards
(not even an atomic-write temp file). Script-level cases run the real rule script in-process with
a stand-in for Snakemake's ``snakemake`` object, so the console line a user sees is checked too.
The README's troubleshooting table lists these cases.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import runpy
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dlwf.core import runtime

runtime.configure_tensorflow(1)  # before Keras is imported (as the scripts do)

import keras  # noqa: E402

from dlwf import plan  # noqa: E402
from dlwf.core.errors import TrainingError, WorkflowInputError  # noqa: E402
from dlwf.data import images, tables, weather  # noqa: E402
from dlwf.nn import transfer_base  # noqa: E402
from dlwf.nn.builders import build_model  # noqa: E402
from dlwf.nn.model_io import load_model_checked  # noqa: E402
from dlwf.steps import images as image_steps  # noqa: E402
from dlwf.steps import tabular  # noqa: E402
from dlwf.steps import transfer as transfer_steps  # noqa: E402
from tests.workflow import REPO, default_config, experiment_settings  # noqa: E402

CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
PENGUINS = {
    "target": "species",
    "task": "classification",
    "features": FEATURES,
    "categorical": None,
    "missing": "drop",
    "id_column": None,
    "separator": None,
}


def prepare_penguins(path) -> pd.DataFrame:
    """The penguins dataset's prepare step (kind table, the lesson's four features)."""
    return tables.read_table(path, **PENGUINS)[0]


def files_in(directory: Path) -> list[str]:
    """Every file under ``directory`` (relative names), hidden temp files included."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


# ------------------------------------------------------------------ running a rule's script


class Named(dict):
    """Stand-in for Snakemake's Namedlist: attribute and key access, ``.get``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def run_script(name: str, monkeypatch, capsys, *, input=None, output=None, params=None, wildcards=None, config=None):
    """Run scripts/<name>.py as Snakemake would (no log: messages go to the console); return (exit code, text).

    ``config`` defaults to the default config with the schema's defaults, as the rules give it.
    """
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    fake = SimpleNamespace(
        input=Named(input or {}),
        output=Named(output or {}),
        params=Named(params or {}),
        wildcards=Named(wildcards or {}),
        log=[],
        rule=name,
        threads=1,
        config=config or plan.load(default_config()).config,
    )
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(REPO / "scripts" / f"{name}.py"), init_globals={"snakemake": fake}, run_name="__main__")
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out + captured.err


# ------------------------------------------------------------------ downloads (more cases in test_download.py)


def run_download(tmp_path, monkeypatch, capsys, url: str, md5: str | None):
    out = tmp_path / "resources" / "penguins"
    config = default_config()
    config["download"] = {"attempts": 2, "backoff": 0.01, "timeout": 5}
    code, console = run_script(
        "download",
        monkeypatch,
        capsys,
        output={"data": str(out / "penguins.csv"), "provenance": str(out / "penguins.csv.provenance.json")},
        params={"url": url, "md5": md5},
        wildcards={"dataset": "penguins", "filename": "penguins.csv"},
        config=plan.load(config).config,
    )
    return code, console, out


def test_checksum_mismatch_fails_the_download_job_and_keeps_nothing(tmp_path, monkeypatch, capsys):
    source = tmp_path / "source.csv"
    source.write_text("species\nAdelie\n")
    code, console, out = run_download(tmp_path, monkeypatch, capsys, str(source), "0" * 32)
    assert code == 1
    zeros = "0" * 32
    assert f"ERROR in rule download: checksum mismatch for penguins.csv from {source}: expected md5 {zeros}" in console
    assert "fix the source or the md5 in config/config.yaml" in console
    # no data, no partial file: only the record of the failure, which tells the next run the data are missing
    assert files_in(out) == ["penguins.csv.failed.json"]
    assert "checksum mismatch" in json.loads((out / "penguins.csv.failed.json").read_text())["error"]


def test_refused_connection_is_retried_then_names_the_file_and_the_offline_fix(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/penguins.csv"
    code, console, out = run_download(tmp_path, monkeypatch, capsys, url, None)
    assert code == 1
    assert f"attempt 1/2 for {url} failed (connection failed" in console
    assert f"ERROR in rule download: could not fetch penguins.csv from {url}: connection failed" in console
    assert "(after 2 attempt(s)). Without internet, put a copy at MIRROR/<dataset>/penguins.csv" in console
    assert files_in(out) == ["penguins.csv.failed.json"]  # no data, only the record of the failure


# ------------------------------------------------------------------ tabular: penguins


def raw_penguins(tmp_path: Path, **changes) -> Path:
    """A small raw penguins CSV (the palmerpenguins columns); ``changes`` replace/drop columns."""
    frame = pd.DataFrame(
        {
            "species": ["Adelie", "Gentoo", "Chinstrap", "Adelie", "Gentoo", "Chinstrap"] * 2,
            "island": ["Torgersen"] * 12,
            "bill_length_mm": np.linspace(35, 50, 12).round(1),
            "bill_depth_mm": np.linspace(13, 20, 12).round(1),
            "flipper_length_mm": np.linspace(180, 230, 12).round(0),
            "body_mass_g": np.linspace(3000, 6000, 12).round(0),
            "sex": ["male", "female"] * 6,
            "year": [2007] * 12,
        }
    )
    for column, values in changes.items():
        if values is None:
            frame = frame.drop(columns=[column])
        else:
            frame[column] = values
    path = tmp_path / "resources" / "penguins.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def test_empty_csv_names_the_file_and_says_it_is_empty(tmp_path):
    empty = tmp_path / "penguins.csv"
    empty.write_text("")
    with pytest.raises(WorkflowInputError) as info:
        prepare_penguins(str(empty))
    assert str(info.value) == f"{empty}: the file is empty; expected a CSV with a header row"


def test_header_only_csv_says_there_are_no_rows(tmp_path):
    header_only = tmp_path / "penguins.csv"
    header_only.write_text("species,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g\n")
    with pytest.raises(WorkflowInputError, match=rf"^{header_only}: the CSV has a header but no data rows$"):
        prepare_penguins(str(header_only))


def test_missing_target_column_is_named_with_the_columns_found(tmp_path):
    path = raw_penguins(tmp_path, species=None)
    with pytest.raises(WorkflowInputError) as info:
        prepare_penguins(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: missing column(s) ['species']")
    assert "the file has ['island', 'bill_length_mm'" in message  # what IS there, to spot a renamed column


def test_non_numeric_feature_names_file_column_value_and_row(tmp_path):
    values = np.linspace(180, 230, 12).round(0).astype(object)
    values[4] = "tall"
    path = raw_penguins(tmp_path, flipper_length_mm=values)
    with pytest.raises(WorkflowInputError) as info:
        prepare_penguins(str(path))
    assert str(info.value) == (
        f"{path}: column 'flipper_length_mm' has a non-numeric value 'tall' (data row 5); clean the file or "
        "drop the column"
    )


def test_rows_with_a_missing_target_are_dropped_but_none_complete_is_an_error(tmp_path):
    # the lesson drops incomplete rows (penguins.dropna()); a table where none is complete is refused
    path = raw_penguins(tmp_path, body_mass_g=[np.nan] * 12)
    with pytest.raises(WorkflowInputError, match=rf"^{path}: no row is complete in columns \["):
        prepare_penguins(str(path))
    species = ["Adelie", None, "Gentoo", "Chinstrap"] * 3
    assert len(prepare_penguins(str(raw_penguins(tmp_path, species=species)))) == 9


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"species": None}, "missing column(s) ['species']"),
        (
            {"bill_depth_mm": ["deep"] + [15.0] * 11},
            "column 'bill_depth_mm' has a non-numeric value 'deep' (data row 1)",
        ),
    ],
)
def test_prepare_script_fails_with_one_console_line_and_writes_nothing(
    tmp_path, monkeypatch, capsys, changes, expected
):
    raw = raw_penguins(tmp_path, **changes)
    out = tmp_path / "results" / "penguins"
    code, console = run_script(
        "prepare_table",
        monkeypatch,
        capsys,
        input={"raw": str(raw)},
        params={"table": PENGUINS},
        output={"prepared": str(out / "prepared.csv"), "info": str(out / "prepared.json")},
    )
    assert code == 1
    assert f"ERROR in rule prepare_table: {raw}: {expected}" in console
    assert "Traceback" not in console
    assert not out.exists() or files_in(out) == []


def test_empty_raw_file_fails_the_prepare_script(tmp_path, monkeypatch, capsys):
    raw = tmp_path / "penguins.csv"
    raw.write_text("")
    out = tmp_path / "out"
    code, console = run_script(
        "prepare_table",
        monkeypatch,
        capsys,
        input={"raw": str(raw)},
        params={"table": PENGUINS},
        output={"prepared": str(out / "p.csv"), "info": str(out / "p.json")},
    )
    assert code == 1 and f"ERROR in rule prepare_table: {raw}: the file is empty" in console
    assert not out.exists()


# ------------------------------------------------------------------ tabular: split files (training input)


def write_split(directory: Path, train: pd.DataFrame, test: pd.DataFrame | None = None) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    train.to_csv(directory / "train.csv", index=False)
    (split_frame(6) if test is None else test).to_csv(directory / "test.csv", index=False)
    columns = {"features": FEATURES, "target": "species", "task": "classification", "class_names": CLASSES}
    (directory / "columns.json").write_text(json.dumps(columns))
    return {"train": directory / "train.csv", "test": directory / "test.csv", "columns": directory / "columns.json"}


def split_frame(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "bill_length_mm": rng.uniform(35, 50, n),
            "bill_depth_mm": rng.uniform(13, 20, n),
            "flipper_length_mm": rng.uniform(180, 230, n),
            "body_mass_g": rng.uniform(3000, 6000, n),
        }
    )
    frame["species"] = [CLASSES[i % 3] for i in range(n)]
    return frame


SPEC = experiment_settings("dense10", {"training": {"epochs": 3, "validation": None}})


def train(split: dict, out: Path, spec: dict = SPEC):
    return tabular.train(
        "exp",
        spec,
        str(split["train"]),
        str(split["columns"]),
        str(out / "model.keras"),
        str(out / "history.csv"),
        str(out / "outputs.npz"),
        str(split["test"]),
    )


@pytest.mark.parametrize(
    "column, value, expected",
    [
        (
            "body_mass_g",
            np.nan,
            "column 'body_mass_g' has a missing (NaN) value in data row 4; missing values must "
            "be removed in the prepare step",
        ),
        ("species", "Emperor", r"unknown class(es) ['Emperor']; known: ['Adelie', 'Chinstrap', 'Gentoo']"),
        ("body_mass_g", np.inf, "column 'body_mass_g' has an infinite value 'inf' in data row 4"),
        ("bill_depth_mm", "12,5", "column 'bill_depth_mm' has a non-numeric value '12,5' (data row 4)"),
    ],
)
def test_nan_or_text_in_a_feature_or_target_stops_training_before_it_starts(tmp_path, column, value, expected):
    frame = split_frame().astype({column: object})
    frame.loc[3, column] = value
    split = write_split(tmp_path / "split", frame)
    out = tmp_path / "exp"
    with pytest.raises(WorkflowInputError) as info:
        train(split, out)
    assert str(info.value).startswith(f"{split['train']}: {expected}")
    assert not out.exists()


def test_split_file_without_a_target_column_is_named(tmp_path):
    split = write_split(tmp_path / "split", split_frame().drop(columns=["species"]))
    with pytest.raises(WorkflowInputError, match=rf"^{split['train']}: missing column\(s\) \['species'\]"):
        train(split, tmp_path / "exp")
    assert not (tmp_path / "exp").exists()


def test_columns_json_without_a_key_is_named(tmp_path):
    split = write_split(tmp_path / "split", split_frame())
    split["columns"].write_text(json.dumps({"features": FEATURES, "task": "classification"}))
    expected = rf"^{split['columns']}: not a valid columns.json of a split \(key\(s\) \['target'\] missing\); delete it"
    with pytest.raises(WorkflowInputError, match=expected):
        train(split, tmp_path / "exp")


def test_loss_that_becomes_nan_fails_training_and_keeps_no_model(tmp_path):
    split = write_split(tmp_path / "split", split_frame(40))
    out = tmp_path / "exp"
    out.mkdir()
    spec = experiment_settings("dense10", {"training": {"epochs": 20, "learning_rate": 1e20, "validation": None}})
    with pytest.raises(TrainingError) as info:
        train(split, out, spec)
    message = str(info.value)
    assert message.startswith("training loss became nan in epoch 1; training was stopped and no model was kept")
    assert "Lower training.learning_rate" in message
    assert files_in(out) == []


# ------------------------------------------------------------------ tabular: weather


def raw_weather(tmp_path: Path, n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    dates = pd.date_range("2000-01-01", periods=n, freq="D")
    return pd.DataFrame(
        {
            "DATE": dates.strftime("%Y%m%d").astype(int),
            "MONTH": dates.month,
            "BASEL_sunshine": rng.uniform(0, 12, n).round(1),
            "BASEL_temp_mean": rng.normal(10, 5, n).round(1),
        }
    )


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d.drop(columns=["BASEL_sunshine"]), r"missing column\(s\) \['BASEL_sunshine'\]"),
        (lambda d: d.drop(columns=["DATE"]), r"missing column\(s\) \['DATE'\]"),
        (
            lambda d: d.astype({"BASEL_sunshine": float}).assign(
                BASEL_sunshine=lambda f: f["BASEL_sunshine"].where(f.index != 7)
            ),
            r"column 'BASEL_sunshine' has a missing \(NaN\) value in data row 8",
        ),
        (
            lambda d: d.astype({"BASEL_temp_mean": object}).assign(
                BASEL_temp_mean=lambda f: f["BASEL_temp_mean"].where(f.index != 2, "warm")
            ),
            r"column 'BASEL_temp_mean' has a non-numeric value 'warm' \(data row 3\)",
        ),
        (lambda d: d.iloc[:0], "the CSV has a header but no data rows"),
    ],
)
def test_bad_weather_table_is_named(tmp_path, change, expected):
    path = tmp_path / "weather.csv"
    change(raw_weather(tmp_path)).to_csv(path, index=False)
    with pytest.raises(WorkflowInputError, match=rf"^{path}: {expected}"):
        weather.read_weather(str(path), "BASEL_sunshine")


def test_weather_view_script_fails_naming_the_file_and_writes_nothing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "weather.csv"
    data = raw_weather(tmp_path).astype({"BASEL_temp_mean": object})
    data.loc[5, "BASEL_temp_mean"] = "?"
    data.to_csv(path, index=False)
    out = tmp_path / "views"
    view = {"target": "BASEL_sunshine", "last_row": None, "feature_prefixes": []}
    code, console = run_script(
        "prepare_weather_view",
        monkeypatch,
        capsys,
        input={"raw": str(path)},
        output={"view": str(out / "v.csv")},
        params={"view": view},
        wildcards={"dataset": "w", "view": "v"},
    )
    assert code == 1
    expected = f"ERROR in rule prepare_weather_view: {path}: column 'BASEL_temp_mean' has a non-numeric value '?'"
    assert expected in console
    assert not out.exists()


# ------------------------------------------------------------------ images (.npy)


def save(path: Path, array) -> Path:
    np.save(path, array, allow_pickle=False)
    return path


def image_pair(tmp_path: Path, pixels: np.ndarray, labels: np.ndarray) -> tuple[Path, Path]:
    return save(tmp_path / "train_images.npy", pixels), save(tmp_path / "train_labels.npy", labels)


GOOD_PIXELS = np.zeros((4, 8, 8, 3), dtype=np.uint8)
GOOD_LABELS = np.array([0, 1, 2, 3], dtype=np.uint8)


@pytest.mark.parametrize(
    "pixels, labels, bad_file, expected",
    [
        (
            np.zeros((4, 8, 8), np.uint8),
            GOOD_LABELS,
            "train_images.npy",
            r"images must have shape \(N, height, width, 3\) \(RGB\), got \(4, 8, 8\)",
        ),
        (
            np.zeros((4, 8, 8, 4), np.uint8),
            GOOD_LABELS,
            "train_images.npy",
            r"images must have shape \(N, height, width, 3\) \(RGB\), got \(4, 8, 8, 4\)",
        ),
        (
            np.zeros((4, 8, 8, 3), np.float32),
            GOOD_LABELS,
            "train_images.npy",
            r"images must hold integer pixel values 0\.\.255 \(uint8\), got dtype float32; the workflow scales",
        ),
        (
            GOOD_PIXELS,
            np.array([0, 1, 2, 3], np.float64),
            "train_labels.npy",
            r"labels must be integer class indices, got dtype float64",
        ),
        (
            GOOD_PIXELS,
            np.array([0, 1, 2, 10], np.uint8),
            "train_labels.npy",
            r"labels must lie in 0\.\.9 \(10 class names configured\), found 0\.\.10",
        ),
        (
            GOOD_PIXELS,
            np.array([0, -1, 2, 3], np.int64),
            "train_labels.npy",
            r"labels must lie in 0\.\.9 \(10 class names configured\), found -1\.\.3",
        ),
        (
            GOOD_PIXELS,
            np.array([0, 1, 2], np.uint8),
            "train_labels.npy",
            r"3 labels but .*train_images\.npy holds 4 images; the two files must describe the same images",
        ),
    ],
)
def test_bad_image_arrays_name_the_file_and_the_expected_layout(tmp_path, pixels, labels, bad_file, expected):
    images_path, labels_path = image_pair(tmp_path, pixels, labels)
    with pytest.raises(WorkflowInputError, match=rf"^{tmp_path / bad_file}: {expected}"):
        images.load_arrays(images_path, labels_path, 10)


class _CreatesFile:
    """Unpickling this object calls os.mkdir(marker): what a malicious object array could do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def object_array_file(path: Path, marker: Path) -> Path:
    """Write an .npy object array whose unpickling creates ``marker`` (without unpickling it here)."""
    array = np.empty(1, dtype=object)
    array[0] = _CreatesFile(str(marker))
    with open(path, "wb") as handle:
        np.lib.format.write_array(handle, array, allow_pickle=True)
    return path


def test_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "code_ran"
    images_path = object_array_file(tmp_path / "train_images.npy", marker)
    labels_path = save(tmp_path / "train_labels.npy", np.zeros(1, np.uint8))
    with pytest.raises(WorkflowInputError) as info:
        images.load_arrays(images_path, labels_path, 10)
    assert str(info.value).startswith(f"{images_path}: holds a pickled object array, which this workflow refuses")
    assert "save plain numeric arrays with np.save" in str(info.value)
    assert not marker.exists()
    # control: the file really carries the payload; unpickling its data creates the marker
    with open(images_path, "rb") as handle:
        np.lib.format.read_magic(handle)
        np.lib.format.read_array_header_1_0(handle)
        pickle.load(handle)
    assert marker.is_dir()


def test_prepare_images_refuses_a_bad_test_file_and_writes_nothing(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    marker = tmp_path / "code_ran"
    for part in ("train", "test"):
        save(raw / f"{part}_images.npy", np.zeros((4, 8, 8, 3), np.uint8))
        save(raw / f"{part}_labels.npy", GOOD_LABELS)
    object_array_file(raw / "test_labels.npy", marker)  # train files are valid, the test labels are not
    out = tmp_path / "prepared"
    with pytest.raises(WorkflowInputError, match=rf"^{raw / 'test_labels.npy'}: holds a pickled object array"):
        image_steps.prepare(
            sorted(str(p) for p in raw.iterdir()), [f"c{i}" for i in range(10)], "npy", {}, str(out), "datasets.d"
        )
    assert not out.exists() and not marker.exists()


def test_prepare_images_script_reports_the_file_and_exits_1(tmp_path, monkeypatch, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    for part in ("train", "test"):
        save(raw / f"{part}_images.npy", np.zeros((4, 8, 8, 3), np.uint8))
        save(raw / f"{part}_labels.npy", GOOD_LABELS)
    save(raw / "test_images.npy", np.zeros((4, 8, 8, 3), np.float64))
    out = tmp_path / "prepared"
    code, console = run_script(
        "prepare_images",
        monkeypatch,
        capsys,
        input={"raw": sorted(str(p) for p in raw.iterdir())},
        output={"classes": str(out / "classes.json")},
        params={"dataset": {"class_names": [f"c{i}" for i in range(10)], "source_format": "npy", "subset": {}}},
        wildcards={"dataset": "d"},
    )
    assert code == 1
    assert f"ERROR in rule prepare_images: {raw / 'test_images.npy'}: images must hold integer pixel values" in console
    assert not out.exists()


def test_npz_archive_or_html_page_instead_of_npy_is_refused(tmp_path):
    npz = tmp_path / "train_images.npy"
    with open(npz, "wb") as handle:
        np.savez(handle, images=GOOD_PIXELS)
    labels = save(tmp_path / "train_labels.npy", GOOD_LABELS)
    with pytest.raises(WorkflowInputError, match=rf"^{npz}: (not a valid \.npy file|expected a single array)"):
        images.load_arrays(npz, labels, 10)
    npz.write_text("<html>429 Too Many Requests</html>")
    with pytest.raises(WorkflowInputError, match=rf"^{npz}: not a valid \.npy file"):
        images.load_arrays(npz, labels, 10)


# ------------------------------------------------------------------ archives (CIFAR-10 tarball)


def tarball(path: Path, members: dict[str, bytes], symlink: tuple[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type, info.linkname = tarfile.SYMTYPE, symlink[1]
            tar.addfile(info)
    return path


@pytest.mark.parametrize(
    "members, symlink, expected",
    [
        (
            {"cifar-10-batches-py/../../escaped.txt": b"x"},
            None,
            r"archive member 'cifar-10-batches-py/\.\./\.\./escaped\.txt' would escape the extraction directory",
        ),
        ({"/tmp/absolute.txt": b"x"}, None, r"archive member '/tmp/absolute\.txt' would escape"),
        (
            {},
            ("cifar-10-batches-py/data_batch_1", "/etc/passwd"),
            r"archive member 'cifar-10-batches-py/data_batch_1' is a link; refusing the archive",
        ),
    ],
)
def test_archive_members_escaping_the_directory_are_refused(tmp_path, members, symlink, expected):
    path = tarball(tmp_path / "cifar-10-python.tar.gz", members, symlink)
    before = files_in(tmp_path)
    with pytest.raises(WorkflowInputError, match=rf"^{path}: {expected}"):
        images.read_cifar10_tarball(path)
    assert files_in(tmp_path) == before  # members are read in memory; nothing is ever extracted
    assert not Path("/tmp/absolute.txt").exists()


def test_truncated_tarball_is_named(tmp_path):
    path = tarball(tmp_path / "cifar-10-python.tar.gz", {"cifar-10-batches-py/data_batch_1": b"x" * 5000})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(WorkflowInputError, match=rf"^{path}: not a readable tar archive"):
        images.read_cifar10_tarball(path)


# ------------------------------------------------------------------ transfer learning: pretrained weights


def base_config(block: dict) -> dict:
    """A base_model block with the schema's defaults, as the features rule gets it."""
    return experiment_settings("transfer", {"base_model": block})["base_model"]


def test_missing_pretrained_weights_file_names_the_key_the_path_and_the_choices(tmp_path):
    missing = tmp_path / "weights" / "densenet121_notop.h5"
    where = "experiments.transfer.base_model"
    config = base_config({"name": "DenseNet121", "weights": str(missing)})
    with pytest.raises(WorkflowInputError) as info:
        transfer_base.build_extractor(config, (32, 32, 3), where)
    message = str(info.value)
    assert message.startswith(f"config key {where}.weights: weights file {missing} not found")
    assert "'imagenet' for Keras' download, or null" in message


def test_weights_file_that_is_not_a_weights_file_is_named(tmp_path):
    bogus = tmp_path / "weights.h5"
    bogus.write_text("not hdf5")
    where = "experiments.transfer.base_model"
    config = base_config({"name": "MobileNet", "alpha": 0.25, "weights": str(bogus), "input_size": 32})
    with pytest.raises(WorkflowInputError, match=rf"^config key {where}\.weights: {bogus} could not be loaded"):
        transfer_base.build_extractor(config, (32, 32, 3), where)


# ------------------------------------------------------------------ a model file that is not a Keras model


def small_model() -> keras.Model:
    return build_model("dense", (4,), 3, {"hidden_units": [2], "output_activation": "softmax"})


def corrupt_files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.keras"
    small_model().save(good)
    cases = {
        "text": b"this is not a model\n",
        "empty": b"",
        "truncated": good.read_bytes()[: good.stat().st_size // 2],
        "html": b"<html><body>404 Not Found</body></html>",
    }
    paths = {}
    for name, blob in cases.items():
        paths[name] = tmp_path / name / "model.keras"
        paths[name].parent.mkdir()
        paths[name].write_bytes(blob)
    other_zip = tmp_path / "zip" / "model.keras"
    other_zip.parent.mkdir()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "a zip, but no config.json")
    paths["zip"] = other_zip
    hdf5_name = tmp_path / "h5" / "model.h5"
    hdf5_name.parent.mkdir()
    hdf5_name.write_bytes(good.read_bytes())
    paths["h5"] = hdf5_name
    return paths


def test_file_that_is_not_a_keras_model_is_named_with_the_fix(tmp_path):
    for name, path in corrupt_files(tmp_path).items():
        with pytest.raises(WorkflowInputError) as info:
            load_model_checked(path)
        message = str(info.value)
        assert message.startswith(f"{path}: not a "), (name, message)
        assert "delete it and run snakemake again" in message, (name, message)
        assert "File not found" not in message, (name, message)  # Keras' misleading text for an existing file


def test_missing_model_file_is_named(tmp_path):
    with pytest.raises(WorkflowInputError, match=rf"^{tmp_path / 'model.keras'}: model file not found"):
        load_model_checked(tmp_path / "model.keras")


def test_valid_model_loads(tmp_path):
    model = small_model()
    model.save(tmp_path / "m.keras")
    assert load_model_checked(tmp_path / "m.keras").count_params() == model.count_params()


def test_model_with_python_code_is_refused_by_safe_mode_and_the_code_never_runs(tmp_path):
    marker = tmp_path / "code_ran"
    # a Lambda whose function writes a file whenever the layer is built or called
    function = eval(f"lambda x: x * float(bool(__import__('pathlib').Path({str(marker)!r}).write_text('ran')))")
    inputs = keras.Input((2,))
    keras.Model(inputs, keras.layers.Lambda(function)(inputs)).save(tmp_path / "lambda.keras")
    marker.unlink()  # building the model ran it once
    with pytest.raises(WorkflowInputError) as info:
        load_model_checked(tmp_path / "lambda.keras")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'lambda.keras'}: refused to load: the model holds Python code")
    assert "safe_mode=False" not in message  # never advise turning the protection off
    assert not marker.exists()
    # control: loading it unsafely WOULD run the code
    keras.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    assert marker.exists()


def test_model_config_naming_a_non_keras_callable_is_refused(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        config = {"module": "os", "class_name": "mkdir", "config": {"path": str(marker)}, "registered_name": None}
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
    with pytest.raises(WorkflowInputError, match=rf"^{path}: not a loadable Keras model"):
        load_model_checked(path)
    assert not marker.exists()


def test_tabular_evaluation_refuses_a_replaced_model_or_garbage_outputs_and_writes_nothing(tmp_path):
    """Evaluation scores the outputs the training job computed from model.keras (reloaded in safe
    mode); a model.keras that is not that model, or an outputs file that is not one, is named."""
    split = write_split(tmp_path / "split", split_frame(24))
    out = tmp_path / "exp"
    train(split, out)
    files = {"train": str(split["train"]), "test": str(split["test"]), "columns": str(split["columns"])}

    def evaluate():
        tabular.evaluate(
            "exp",
            SPEC,
            str(out / "model.keras"),
            str(out / "outputs.npz"),
            str(out / "history.csv"),
            files,
            [],
            str(out / "metrics.json"),
            str(out / "predictions.csv"),
            str(out / "confusion_matrix.csv"),
        )

    evaluate()  # the trained state evaluates
    for name in ("metrics.json", "predictions.csv", "confusion_matrix.csv"):
        (out / name).unlink()
    model = out / "model.keras"
    original = model.read_bytes()
    model.write_text("garbage")
    with pytest.raises(WorkflowInputError, match=rf"^{model}: not the model that was trained .* delete it"):
        evaluate()
    model.write_bytes(original)
    (out / "outputs.npz").write_text("garbage")
    with pytest.raises(WorkflowInputError, match=rf"^{out / 'outputs.npz'}: not a model outputs file .*delete it"):
        evaluate()
    assert files_in(out) == ["history.csv", "model.keras", "outputs.npz"]


def test_image_evaluation_refuses_outputs_for_other_images(tmp_path):
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "classes.json").write_text(
        json.dumps({"class_names": ["a", "b"], "n_classes": 2, "image_shape": [8, 8, 3]})
    )
    for part in ("train", "test"):
        np.save(prepared / f"{part}_labels.npy", np.array([0, 1, 0, 1]))
    out = tmp_path / "exp"
    out.mkdir()
    (out / "model.keras").write_bytes(b"model")
    np.savez(out / "outputs.npz", test=np.zeros((3, 2), np.float32), n_parameters=np.asarray(10))
    with pytest.raises(WorkflowInputError, match=r"outputs.npz: 3 outputs for the 4 test samples"):
        image_steps.evaluate(
            "exp",
            SPEC,
            str(out / "model.keras"),
            str(out / "outputs.npz"),
            "h.csv",
            str(prepared),
            [],
            str(out / "metrics.json"),
            str(out / "predictions.csv"),
            str(out / "confusion_matrix.csv"),
        )
    assert files_in(out) == ["model.keras", "outputs.npz"]


def test_transfer_assembly_with_a_corrupt_extractor_names_it_and_writes_nothing(tmp_path):
    extractor = tmp_path / "features" / "extractor.keras"
    extractor.parent.mkdir()
    extractor.write_text("garbage")
    head = tmp_path / "exp" / "head.keras"
    head.parent.mkdir()
    small_model().save(head)
    with pytest.raises(WorkflowInputError, match=rf"^{extractor}: not a Keras model file"):
        transfer_steps.assemble(SPEC, str(extractor), str(head), str(tmp_path / "exp" / "model.keras"))
    assert files_in(tmp_path / "exp") == ["head.keras"]


# ------------------------------------------------------------------ the reader used everywhere


def test_csv_that_is_not_a_csv_is_named(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text('a,b\n1,"unterminated\n')
    with pytest.raises(WorkflowInputError, match=rf"^{path}: not a valid CSV file"):
        tables.read_csv_checked(path)
