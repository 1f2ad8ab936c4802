"""The workflow used as a Snakemake `module` by another workflow, from another directory, with that
workflow's own config (README, "Using the workflow inside another workflow")."""

import json
import textwrap

import pytest

from tests.workflow import copy_workflow, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.integration

# The including workflow's own config: one dataset, one experiment under a name the lesson's
# config/config.yaml does not have, few epochs.
OWN_CONFIG = {
    "datasets": {
        "penguins": {
            "kind": "table",
            "files": [
                {
                    "name": "penguins.csv",
                    "url": "package://palmerpenguins/data/penguins.csv",
                    "md5": "a06a0210251465a86fb970018292304d",
                }
            ],
            "target": "species",
            "task": "classification",
            "features": ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"],
        }
    },
    "experiments": {
        "tiny": {
            "dataset": "penguins",
            "model": {"builder": "dense", "args": {"hidden_units": [4], "output_activation": "softmax"}},
            "training": {"epochs": 3, "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
        }
    },
}


def includer(directory, module_snakefile, own_config=True):
    """An including workflow in ``directory``: the module, its rules, and one rule of its own that
    reads a result of the module."""
    directory.mkdir(parents=True)
    head = 'configfile: "config.yaml"\n\n\n' if own_config else ""
    config_line = "    config: config\n" if own_config else ""
    (directory / "Snakefile").write_text(
        head
        + textwrap.dedent(
            f"""\
            module dlwf:
                snakefile:
                    "{module_snakefile}"
            """
        )
        + config_line
        + textwrap.dedent(
            """

            use rule * from dlwf


            rule accuracy:
                input:
                    "results/penguins/tiny/metrics.json",
                output:
                    "accuracy.txt",
                run:
                    import json

                    value = json.load(open(input[0]))["metrics"]["accuracy"]
                    open(output[0], "w").write(f"{value}\\n")
            """
        )
    )
    if own_config:
        write_config(directory, "config.yaml", OWN_CONFIG)
    return directory


@pytest.fixture(scope="module")
def module_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("module")
    module = copy_workflow(root / "dlwf-workflow")
    analysis = includer(root / "analysis", module / "Snakefile")
    snakemake(analysis, "all", "accuracy.txt")
    return module, analysis


def test_the_including_workflow_builds_its_own_experiments(module_run):
    module, analysis = module_run
    results = analysis / "results" / "penguins" / "tiny"
    for name in ("model.keras", "history.csv", "metrics.json", "predictions.csv", "confusion_matrix.png"):
        assert (results / name).stat().st_size > 0, name
    assert (analysis / "reports" / "penguins.html").stat().st_size > 0  # the notebook imports dlwf from the module
    assert (analysis / "results" / "leaderboard.csv").exists()
    record = json.loads((results / "metrics.json").read_text())
    assert record["epochs_run"] == 3
    assert record["provenance"]["training_environment"]["device"].startswith("CPU")
    assert record["provenance"]["config"]["training"]["batch_size"] == 32  # the module's schema defaults
    assert float((analysis / "accuracy.txt").read_text()) == record["metrics"]["accuracy"]
    # only the includer's config: none of the lesson's other datasets or experiments
    assert sorted(p.name for p in (analysis / "results").iterdir()) == [
        "leaderboard.csv",
        "leaderboard.html",
        "penguins",
    ]
    assert not (analysis / "results" / "penguins" / "dense10").exists()
    # everything is written in the including workflow's directory, nothing inside the module
    assert not any((module / d).exists() for d in ("results", "logs", "resources", "reports", "benchmarks"))


def test_the_including_workflow_is_up_to_date_after_the_run(module_run):
    _, analysis = module_run
    assert planned_jobs(analysis, "all", "accuracy.txt") == {}


def test_a_module_without_its_includers_config_uses_its_own(tmp_path):
    module = copy_workflow(tmp_path / "dlwf-workflow")
    analysis = includer(tmp_path / "analysis", module / "Snakefile", own_config=False)
    jobs = planned_jobs(analysis, "all")
    # the lesson's config/config.yaml of the module: every dataset's experiments
    assert jobs["train_tabular"] >= 2 and jobs["train_image_classifier"] >= 1 and jobs["features"] == 1
