"""Issue 15: the shared failing cases (../shared/cases) run through the real workflow.

Each case is one member of a kind of fault. Run as a user would (``snakemake --configfile
<case>/overlay.yaml``), it must end in the one line that names the key or file and the fix: an
``Invalid configuration`` before anything runs, or ``ERROR in rule RULE: ...`` from the job that
meets it, never "unexpected failure" or a traceback, and the failed job leaves no output.
Overlays written for the old dataset kind ``penguins`` are adapted to ``kind: table``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.workflow import REPO, copy_workflow, snakemake

pytestmark = pytest.mark.integration

CASES = (REPO.parent / "shared" / "cases").resolve()
if not CASES.is_dir():
    pytest.skip(f"shared cases not found at {CASES}", allow_module_level=True)

ONLY_PENGUINS = {"weather": {"enabled": False}, "dollar_street": {"enabled": False}}
PENGUINS_TABLE = {
    "kind": "table",
    "target": "species",
    "task": "classification",
    "features": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"],
}


def absolute(value):
    """The overlay with its ../shared/cases/ paths made absolute (the workflow runs in a copy)."""
    if isinstance(value, dict):
        return {k: absolute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [absolute(v) for v in value]
    if isinstance(value, str) and value.startswith("../shared/cases/"):
        return str(CASES / value[len("../shared/cases/") :])
    return value


def overlay(workdir: Path, case: str, name: str = "overlay.yaml", text: bool = False) -> Path:
    """Copy a case's overlay into ``workdir`` with absolute paths (``text``: byte for byte, as a YAML file
    whose text matters, e.g. its duplicate keys)."""
    source = CASES / case / name
    dest = workdir / f"{case}-{name}"
    if text:
        dest.write_text(source.read_text().replace("../shared/cases/", f"{CASES}/"))
    else:
        dest.write_text(yaml.safe_dump(absolute(yaml.safe_load(source.read_text())), sort_keys=False))
    return dest


def run(
    workdir: Path, config: Path, *targets: str, dry: bool = False, snakemake_traceback: bool = False
) -> tuple[int, str]:
    args = [*targets, "--configfile", str(config)] + (["--dry-run"] if dry else [])
    proc = snakemake(workdir, *args, check=False, timeout=900)
    console = proc.stdout + proc.stderr
    assert "unexpected failure" not in console, console[-3000:]
    if not snakemake_traceback:
        assert "Traceback (most recent call last)" not in console, console[-3000:]
    return proc.returncode, console


def leftovers(workdir: Path, *paths: str) -> list[str]:
    """Outputs of a failed job that exist, and any temporary file of an atomic write."""
    found = [p for p in paths if (workdir / p).exists()]
    results = workdir / "results"
    return found + ([str(p) for p in results.rglob("*.part*")] if results.exists() else [])


@pytest.fixture(scope="module")
def dry_dir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("cases") / "wf")


# ------------------------------------------------------------------ refused before anything runs


@pytest.mark.parametrize(
    "case, name, expected",
    [
        (
            "config-earlystop-without-validation",
            "overlay.yaml",
            [
                "config key experiments.dense10.training.early_stopping.monitor: 'val_loss' is never logged by this "
                "training (val_ quantities need validation data"
            ],
        ),
        (
            "early-stopping-monitor-unchecked",
            "es_valacc.yaml",
            [
                "config key experiments.es_valacc.training.early_stopping.monitor: 'val_acc' is never logged by this "
                "training (Keras 3 logs 'acc' as 'accuracy'); it logs ['loss', 'accuracy', 'val_loss', 'val_accuracy']"
            ],
        ),
        (
            "early-stopping-monitor-unchecked",
            "es_noval.yaml",
            [
                "config key experiments.es_noval.training.early_stopping.monitor: 'val_loss' is never logged",
                "config key experiments.es_nometric.training.early_stopping.monitor: 'val_accuracy' is never logged "
                "by this training (add accuracy to training.metrics)",
            ],
        ),
        (
            "config-regression-with-crossentropy",
            "overlay.yaml",
            ["config key experiments.dense_10_5.training.loss: the target is a number (regression); use mse"],
        ),
    ],
)
def test_settings_that_cannot_work_are_refused_before_anything_runs(dry_dir, case, name, expected):
    code, console = run(dry_dir, overlay(dry_dir, case, name), dry=True)
    assert code != 0
    assert "Invalid configuration (config/config.yaml and any --configfile/--config):" in console
    for line in expected:
        assert line in console, console[-3000:]


def test_a_key_written_twice_in_an_overlay_is_refused_naming_file_line_and_key(dry_dir):
    path = overlay(dry_dir, "config-yaml-duplicate-keys", text=True)
    code, console = run(dry_dir, path, dry=True)
    assert code != 0
    assert (
        f"config file {path}, line 9: key 'experiments.dense10.training' is written twice (first at line 6); "
        "YAML keeps only the last one"
    ) in console


def test_nested_values_given_with_config_say_to_use_an_overlay(dry_dir):
    proc = snakemake(dry_dir, "--dry-run", "--config", "experiments={dense10: {training: {epochs: 2}}}", check=False)
    console = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (
        "config key experiments.dense10.training.epochs: '2' has the wrong type, expected integer (given with "
        "--config? Values nested inside --config key={...} arrive as text: put nested settings in an overlay "
        "file and pass it with --configfile FILE)"
    ) in console


# ------------------------------------------------------------------ named by the job that meets them


PENGUINS_OUT = ["results/penguins/prepared.csv", "results/penguins/prepared.json"]
SPLIT_OUT = [
    "results/penguins/split/train.csv",
    "results/penguins/split/test.csv",
    "results/penguins/split/columns.json",
]


@pytest.mark.parametrize(
    "case, target, rule, expected, outputs",
    [
        (
            "penguins-inf",
            "results/penguins/prepared.csv",
            "prepare_table",
            "resources/penguins/penguins.csv: column 'body_mass_g' has an infinite value 'inf' in data row 2",
            PENGUINS_OUT,
        ),
        (
            "penguins-duplicate-header",
            "results/penguins/prepared.csv",
            "prepare_table",
            "resources/penguins/penguins.csv: column name(s) ['bill_length_mm'] appear more than once in the header",
            PENGUINS_OUT,
        ),
        (
            "penguins-singleton-species",
            SPLIT_OUT[0],
            "split_table",
            "config key datasets.penguins: class(es) {'Emperor': 1} have a single row",
            SPLIT_OUT,
        ),
        (
            "penguins-5rows",
            SPLIT_OUT[0],
            "split_table",
            "config key datasets.penguins: split.test_size 0.2 of 5 rows leaves 1 row(s) for the held-out set, fewer "
            "than the 2 classes {'Adelie': 3, 'Gentoo': 2}",
            SPLIT_OUT,
        ),
        (
            "config-test-size-0.99",
            SPLIT_OUT[0],
            "split_table",
            "config key datasets.penguins: split.test_size 0.995 of 342 rows leaves 1 row(s) for the training set, "
            "fewer than the 3 classes",
            SPLIT_OUT,
        ),
        (
            "weather-date-gaps",
            "results/weather/views/3y.csv",
            "prepare_weather_view",
            "resources/weather/weather.csv: column 'DATE' jumps from 2000-07-18 (data row 200) to 2000-08-18 (data row "
            "201): 30 missing day(s)",
            ["results/weather/views/3y.csv"],
        ),
        (
            "weather-duplicate-target-column",
            "results/weather/views/3y.csv",
            "prepare_weather_view",
            "resources/weather/weather.csv: column name(s) ['BASEL_sunshine'] appear more than once",
            ["results/weather/views/3y.csv"],
        ),
        (
            "weather-inf",
            "results/weather/views/3y.csv",
            "prepare_weather_view",
            "resources/weather/weather.csv: column 'DE_BILT_pressure' has an infinite value 'inf' in data row 501",
            ["results/weather/views/3y.csv"],
        ),
    ],
)
def test_bad_data_is_named_by_the_job_that_meets_it_and_leaves_nothing(tmp_path, case, target, rule, expected, outputs):
    workdir = copy_workflow(tmp_path / "wf")
    code, console = run(workdir, overlay(workdir, case), target)
    assert code != 0
    assert f"ERROR in rule {rule}: {expected}" in console, console[-3000:]
    assert not leftovers(workdir, *outputs)


def adapted(workdir: Path, case: str, dataset: dict) -> Path:
    """An old-form overlay (kind penguins, own dataset id) as a penguins table overlay."""
    config = absolute(yaml.safe_load((CASES / case / "overlay.yaml").read_text()))
    ((name, spec),) = config["datasets"].items()
    path = workdir / f"{case}.yaml"
    path.write_text(
        yaml.safe_dump(
            {"datasets": {**ONLY_PENGUINS, "penguins": {**dataset, "files": [{**spec["files"][0], "md5": None}]}}}
        )
    )
    return path


def test_class_labels_differing_only_in_case_are_refused(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = adapted(workdir, "penguins-singleton-class", PENGUINS_TABLE)
    code, console = run(workdir, config, "results/penguins/prepared.csv")
    assert code != 0
    assert (
        "ERROR in rule prepare_table: resources/penguins/penguins.csv: column 'species' has class labels that "
        "differ only in upper/lower case: [['Adelie', 'adelie']]; write each class one way"
    ) in console
    assert not leftovers(workdir, *PENGUINS_OUT)


def test_class_labels_with_spaces_are_normalised_saying_so(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    code, console = run(workdir, overlay(workdir, "penguins-species-whitespace"), "results/penguins/prepared.json")
    assert code == 0, console[-3000:]
    info = yaml.safe_load((workdir / "results/penguins/prepared.json").read_text())
    assert info["class_names"] == ["Adelie", "Chinstrap", "Gentoo"]
    note = "class label(s) ['Adelie '] had surrounding spaces, removed (so 'Adelie ' is 'Adelie')"
    assert info["notes"] == [note]
    assert f"note: {note}" in (workdir / "logs/penguins/prepare.log").read_text()


def test_iso_dates_are_read_as_dates_through_training_and_the_report(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = overlay(workdir, "weather-iso-date")
    spec = yaml.safe_load(config.read_text())
    spec["experiments"] = {
        "iso_dense": {
            "dataset": "wx_iso",
            "view": "short",
            "model": {"builder": "dense", "args": {"hidden_units": [4]}},
            "training": {"epochs": 2, "validation": "val"},
        }
    }
    config.write_text(yaml.safe_dump(spec))
    code, console = run(workdir, config, "reports/wx_iso.html", "results/wx_iso/iso_dense/metrics.json")
    assert code == 0, console[-3000:]
    view = (workdir / "results/wx_iso/views/short.csv").read_text().splitlines()
    assert view[1].startswith("2000-01-01,") and len(view) == 42  # header + rows 0..40
    predictions = (workdir / "results/wx_iso/iso_dense/predictions.csv").read_text()
    assert "2000-01-" in predictions  # the rows keep their dates


@pytest.mark.parametrize(
    "name, claim",
    [
        ("overlay.yaml", "(100000000, 64, 64, 3) (uint8), 1.1 TiB"),
        ("overlay-2GB.yaml", "(170000, 64, 64, 3) (uint8), 1.9 GiB"),
    ],
)
def test_an_npy_header_claiming_more_than_the_file_holds_is_named(tmp_path, name, claim):
    workdir = copy_workflow(tmp_path / "wf")
    code, console = run(
        workdir, overlay(workdir, "images-npy-huge-header-truncated", name), "results/imgprobe/prepared/classes.json"
    )
    assert code != 0
    assert (
        f"ERROR in rule prepare_images: resources/imgprobe/train_images.npy: the .npy header claims an array of "
        f"shape {claim}, but the file holds only 4.0 KiB after its header; it is truncated or corrupt"
    ) in console
    assert not (workdir / "results/imgprobe/prepared").exists() or not any(
        (workdir / "results/imgprobe/prepared").iterdir()
    )


# ------------------------------------------------------------------ files read back, a full disk


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A copy with penguins' dense10 trained for 2 epochs (dense10_normalized off, so the leaderboard is dense10's)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("trained") / "wf")
    config = workdir / "small.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "datasets": ONLY_PENGUINS,
                "experiments": {"dense10": {"training": {"epochs": 2}}, "dense10_normalized": {"enabled": False}},
            }
        )
    )
    code, console = run(workdir, config, "results/penguins/dense10/model.keras")
    assert code == 0, console[-3000:]
    return workdir, config


def test_a_garbage_history_is_named_not_read_as_zero_epochs(trained):
    workdir, config = trained
    history = workdir / "results/penguins/dense10/history.csv"
    kept = history.read_bytes()
    shutil.copy(CASES / "fault-corrupt-history" / "history.csv", history)
    try:
        code, console = run(workdir, config, "results/penguins/dense10/metrics.json")
        assert code != 0
        assert (
            "ERROR in rule evaluate_classifier: results/penguins/dense10/history.csv: not a training history "
            "(no column(s) ['epoch', 'loss']); delete it and run snakemake again"
        ) in console
        assert not leftovers(workdir, "results/penguins/dense10/metrics.json")
    finally:
        history.write_bytes(kept)


def test_a_truncated_metrics_json_is_named_with_delete_and_rerun(trained):
    workdir, config = trained
    code, console = run(workdir, config, "results/penguins/dense10/metrics.json")
    assert code == 0, console[-3000:]
    shutil.copy(CASES / "fault-truncated-metrics-json" / "metrics.json", workdir / "results/penguins/dense10")
    code, console = run(workdir, config, "results/leaderboard.csv")
    assert code != 0
    assert (
        "ERROR in rule leaderboard: results/penguins/dense10/metrics.json: not a valid metrics.json record "
        "(Unterminated string"
    ) in console
    assert "delete it and run snakemake again so the evaluation that writes it runs anew" in console
    assert not leftovers(workdir, "results/leaderboard.csv", "results/leaderboard.html")


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root")
def test_a_full_disk_names_the_path_and_the_free_space(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = workdir / "small.yaml"
    shutil.copy(CASES / "fault-disk-full" / "small.yaml", config)
    code, console = run(workdir, config, *SPLIT_OUT)
    assert code == 0, console[-3000:]
    full = workdir / "results/penguins/dense10"
    full.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(full)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        # Snakemake itself then fails to remove the mount point (Errno 16, its own traceback): a test artifact
        code, console = run(workdir, config, "results/penguins/dense10/model.keras", snakemake_traceback=True)
        files = sorted(p.name for p in full.iterdir())
    finally:
        subprocess.run(["umount", str(full)], check=True)
    assert code != 0
    # the first write that fails is the job's backup at the end of training (issue 17) or the model
    named = re.search(
        r"ERROR in rule train_tabular: (results/penguins/dense10/\S+): no space left on the device "
        r"while writing it \(0 bytes free in (\S+)\); free some space",
        console,
    )
    assert named, console[-3000:]
    assert named.group(1).startswith(("results/penguins/dense10/model.keras", "results/penguins/dense10/.backup/"))
    assert named.group(2).startswith(str(full))
    assert set(files) <= {".backup"}  # no output, partial or whole; the backup is not an output
