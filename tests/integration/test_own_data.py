"""Your own problem as config (issue 14): any table, any folder of images, predictions on new data.

Real public data that ships in packages: scikit-learn's bundled wine and breast cancer tables
(classification) and diabetes table (regression), written to CSV; an image folder written as PNG
files from a slice of the shared CIFAR-10 subset, plus a corrupt file and a greyscale one. The
config is the issue's contract, word for word but for the folders, plus the other two tables.
"""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from tests.workflow import REPO, copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

CLASSES = ["airplane", "automobile", "bird"]

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
    split: {test_size: 0.2}
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


def write_data(data, shared_data):
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    wine = load_wine(as_frame=True).frame.rename(columns={"target": "cultivar"})
    wine["cultivar"] = wine["cultivar"].map(dict(enumerate(load_wine().target_names)))
    # column names as they come: spaces and a slash
    wine = wine.rename(columns={"od280/od315_of_diluted_wines": "od280/od315 of diluted wines"})
    wine.to_csv(data / "wine.csv", index=False)
    wine.drop(columns=["cultivar"]).sample(7, random_state=0).to_csv(data / "wine_new.csv", index=False)
    cancer = load_breast_cancer(as_frame=True).frame
    cancer["target"] = cancer["target"].map(dict(enumerate(load_breast_cancer().target_names)))
    cancer.insert(0, "patient", [f"p{i:03d}" for i in range(len(cancer))])
    cancer.to_csv(data / "breast_cancer.tsv", sep="\t", index=False)
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(data / "diabetes.csv", index=False)
    images = np.load(shared_data / "cifar10-subset" / "train_images.npy")
    labels = np.load(shared_data / "cifar10-subset" / "train_labels.npy").ravel()
    for index, name in enumerate(CLASSES):
        folder = data / "photos" / name
        folder.mkdir(parents=True)
        for i, j in enumerate(np.flatnonzero(labels == index)[:30]):
            Image.fromarray(images[j]).save(folder / f"{i:02d}.png")
    grey = Image.fromarray(images[np.flatnonzero(labels == 0)[40]]).convert("L")
    grey.save(data / "photos" / "airplane" / "grey.png")
    (data / "photos" / "bird" / "broken.png").write_bytes(b"this is not a PNG file")
    (data / "new_photos").mkdir()
    for i, j in enumerate(np.flatnonzero(labels < 3)[200:206]):
        Image.fromarray(images[j]).save(data / "new_photos" / f"new_{i}.jpg")


def overlay(data) -> dict:
    config = yaml.safe_load(CONTRACT.replace("/data/", f"{data}/"))
    config["datasets"]["photos"]["skip_unreadable"] = True
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name in default["datasets"]:
        config["datasets"][name] = {"enabled": False}
    config["datasets"]["breast_cancer"] = {
        "kind": "table",
        "files": [{"name": "breast_cancer.tsv", "url": f"{data}/breast_cancer.tsv"}],
        "target": "target",
        "task": "classification",
        "id_column": "patient",
        "split": {"test_size": 0.2, "validation_size": 0.2, "random_state": 1},
    }
    config["datasets"]["diabetes"] = {
        "kind": "table",
        "files": [{"name": "diabetes.csv", "url": f"{data}/diabetes.csv"}],
        "target": "target",
        "task": "regression",
    }
    config["experiments"]["cancer_dense"] = {
        "dataset": "breast_cancer",
        "model": {"builder": "dense", "args": {"hidden_units": [8], "normalize": True}},
        "training": {"epochs": 20, "validation": "val"},
    }
    config["experiments"]["diabetes_dense"] = {
        "dataset": "diabetes",
        "model": {"builder": "dense", "args": {"hidden_units": [32], "normalize": True}},
        "training": {"epochs": 60, "learning_rate": 0.05},
    }
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("own")
    data = root / "data"
    data.mkdir()
    write_data(data, shared_data)
    workdir = copy_workflow(root / "wf")
    config = overlay(data)
    write_config(workdir, "own.yaml", config)
    snakemake(workdir, "--configfile", "own.yaml")
    return workdir, data, config


def metrics(workdir, dataset, experiment):
    return json.loads((workdir / "results" / dataset / experiment / "metrics.json").read_text())


def test_each_table_and_the_image_folder_train_and_beat_their_baseline(run):
    workdir, _, _ = run
    wine = metrics(workdir, "wine", "wine_dense")
    assert wine["task"] == "classification" and wine["primary_metric"]["name"] == "accuracy"
    assert wine["primary_metric"]["value"] >= 0.9 > wine["baseline"]["accuracy"]
    cancer = metrics(workdir, "breast_cancer", "cancer_dense")
    assert cancer["primary_metric"]["value"] >= 0.85 and cancer["beats_baseline"]
    diabetes = metrics(workdir, "diabetes", "diabetes_dense")
    assert diabetes["task"] == "regression" and diabetes["baseline"]["name"] == "the mean of the training targets"
    assert diabetes["primary_metric"]["value"] < diabetes["baseline"]["rmse"]
    photos = metrics(workdir, "photos", "photos_cnn")
    assert photos["skipped_unreadable"] == 1 and 0 <= photos["primary_metric"]["value"] <= 1
    for record in (wine, cancer, diabetes, photos):
        assert {"primary_metric", "baseline", "provenance", "test_set"} <= set(record)


def test_tables_keep_their_columns_split_and_classes(run):
    workdir, _, _ = run
    columns = json.loads((workdir / "results/wine/split/columns.json").read_text())
    assert "od280/od315 of diluted wines" in columns["features"] and len(columns["features"]) == 13
    assert columns["class_names"] == ["class_0", "class_1", "class_2"]
    cancer = json.loads((workdir / "results/breast_cancer/split/columns.json").read_text())
    assert "patient" not in cancer["features"] and cancer["id_column"] == "patient"
    split = workdir / "results/breast_cancer/split"
    sizes = {part: len(pd.read_csv(split / f"{part}.csv")) for part in ("train", "val", "test")}
    assert sizes == {"train": 341, "val": 114, "test": 114}
    classes = json.loads((workdir / "results/photos/prepared/classes.json").read_text())
    assert classes["class_names"] == CLASSES and classes["image_shape"] == [32, 32, 3]
    assert sum(classes["counts"].values()) == 3 * 30 + 1  # the greyscale image is in, the broken one out


def test_predictions_on_new_rows_and_images(run):
    workdir, data, _ = run
    rows = pd.read_csv(workdir / "results/wine/wine_dense/predictions/wine_new.csv")
    assert list(rows.columns) == ["row", "predicted", "p_class_0", "p_class_1", "p_class_2"] and len(rows) == 7
    assert np.allclose(rows.filter(like="p_").sum(axis=1), 1, atol=1e-5)
    truth = pd.read_csv(data / "wine.csv").loc[pd.read_csv(data / "wine.csv").sample(7, random_state=0).index]
    assert (rows["predicted"].to_numpy() == truth["cultivar"].to_numpy()).mean() >= 5 / 7
    images = pd.read_csv(workdir / "results/photos/photos_cnn/predictions/photos_new.csv")
    assert sorted(images["file"]) == [f"new_{i}.jpg" for i in range(6)]
    assert set(images["predicted"]) <= set(CLASSES)


def test_every_trained_model_has_a_model_card_and_a_leaderboard_row(run):
    workdir, _, _ = run
    card = (workdir / "results/wine/wine_dense/model_card.md").read_text()
    assert "# Model card: wine_dense" in card and "od280/od315 of diluted wines" in card
    assert "keras.models.load_model" in card and "wine.csv" in card
    board = pd.read_csv(workdir / "results/leaderboard.csv")
    assert set(board["experiment"]) == {"wine_dense", "cancer_dense", "diabetes_dense", "photos_cnn"}
    for dataset in ("wine", "breast_cancer", "diabetes", "photos"):
        assert (workdir / "reports" / f"{dataset}.html").stat().st_size > 10_000


def test_a_changed_input_reruns_its_prediction_only(run):
    workdir, data, _ = run
    assert planned_jobs(workdir, "--configfile", "own.yaml") == {}
    new = data / "wine_new.csv"
    frame = pd.read_csv(new)
    frame.iloc[:3].to_csv(new, index=False)
    jobs = planned_jobs(workdir, "--configfile", "own.yaml")
    assert jobs == {"fetch_prediction_input": 1, "predict": 1, "all": 1}
    snakemake(workdir, "--configfile", "own.yaml")
    assert len(pd.read_csv(workdir / "results/wine/wine_dense/predictions/wine_new.csv")) == 3
    Image.new("RGB", (20, 20), (255, 0, 0)).save(data / "new_photos" / "red.png")
    assert planned_jobs(workdir, "--configfile", "own.yaml") == {"predict": 1, "all": 1}
