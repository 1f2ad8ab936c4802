# Episode 4: image classification with CNNs, dropout, a dropout sweep and keras-tuner.
# Datasets of kind `images` (Dollar Street 10 layout); the test files are the validation set.
# Every rule that trains an image model asks for one GPU (resources: gpu=1); a local run
# without `--resources gpu=N` does not limit it, so laptops run these rules on the CPU.


rule prepare_images:
    """Check the image arrays and class names and store them in the npy layout (prepared/)."""
    input:
        raw=from_plan("raw_files"),
    output:
        train_images="results/{dataset}/prepared/train_images.npy",
        train_labels="results/{dataset}/prepared/train_labels.npy",
        test_images="results/{dataset}/prepared/test_images.npy",
        test_labels="results/{dataset}/prepared/test_labels.npy",
        classes="results/{dataset}/prepared/classes.json",
    log:
        "logs/{dataset}/prepare_images.log",
    benchmark:
        "benchmarks/{dataset}/prepare_images.tsv"
    wildcard_constraints:
        dataset=datasets_of("images"),
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        dataset=from_plan("image_dataset"),
        code=code_version("prepare_images"),
    script:
        "../scripts/prepare_images.py"


# The same arrays from a folder (or archive) of class sub-folders of image files.
rule prepare_image_folder:
    """Read a folder (or archive) of class sub-folders of images into the npy layout (prepared/)."""
    input:
        raw=from_plan("raw_files"),
    output:
        train_images="results/{dataset}/prepared/train_images.npy",
        train_labels="results/{dataset}/prepared/train_labels.npy",
        test_images="results/{dataset}/prepared/test_images.npy",
        test_labels="results/{dataset}/prepared/test_labels.npy",
        classes="results/{dataset}/prepared/classes.json",
    log:
        "logs/{dataset}/prepare_images.log",
    benchmark:
        "benchmarks/{dataset}/prepare_images.tsv"
    wildcard_constraints:
        dataset=datasets_of("image_folder"),
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=4000,
    params:
        folder=from_plan("image_folder_settings"),
        code=code_version("prepare_image_folder"),
    script:
        "../scripts/prepare_image_folder.py"


rule plot_image_samples:
    """A grid of training images with their class names."""
    input:
        unpack(from_plan("prepared_images")),
    output:
        report(
            "results/{dataset}/exploration/sample_images.png",
            caption="../report/sample_images.rst",
            category="{dataset}",
            subcategory="exploration",
            labels={"figure": "sample images"},
        ),
    log:
        "logs/{dataset}/sample_images.log",
    benchmark:
        "benchmarks/{dataset}/sample_images.tsv"
    wildcard_constraints:
        dataset=datasets_of(*IMAGE_KINDS),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        code=code_version("plot_image_samples"),
    script:
        "../scripts/plot_image_samples.py"


rule train_image_classifier:
    """Train one image model (model.keras, history.csv, its reloaded outputs.npz)."""
    input:
        unpack(from_plan("prepared_images")),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        environment="results/{dataset}/{experiment}/train_environment.json",
    log:
        "logs/{dataset}/{experiment}/train.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train.tsv"
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["single"], tensorboard=False),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
        gpu=1,
    params:
        settings=from_plan("settings"),
        code=code_version("train_image_classifier"),
    script:
        "../scripts/train_image_classifier.py"


# The same for experiments with `training.tensorboard: true`: TensorBoard logs (train/ and
# validation/ event files) as a declared output directory. A killed job's backup
# (results/{dataset}/{experiment}/.backup/, not an output) holds its event files too, so the
# resumed job puts the epochs before the kill back.
use rule train_image_classifier as train_image_classifier_tensorboard with:
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        environment="results/{dataset}/{experiment}/train_environment.json",
        tensorboard=directory("results/{dataset}/{experiment}/tensorboard"),
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["single"], tensorboard=True),


# The lesson's dropout sweep is a grid (rules/grids.smk) whose points train like any image
# experiment; this rule adds the lesson's table and plot of the final validation loss per value.
rule aggregate_sweep:
    """The sweep's table and plots; metrics.json of the value with the lowest validation loss."""
    input:
        unpack(from_plan("grid_results")),
        unpack(from_plan("prepared_images")),
        raw=from_plan("raw_files"),
    output:
        table="results/{dataset}/{experiment}/sweep.csv",
        plot=report(
            "results/{dataset}/{experiment}/sweep_val_loss.png",
            caption="../report/sweep_val_loss.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "validation loss per value"},
        ),
        curves=report(
            "results/{dataset}/{experiment}/sweep_curves.png",
            caption="../report/sweep_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "curves per value"},
        ),
        metrics="results/{dataset}/{experiment}/metrics.json",
    log:
        "logs/{dataset}/{experiment}/aggregate_sweep.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/aggregate_sweep.tsv"
    wildcard_constraints:
        experiment=alternatives(PLAN.sweep_ids()),
    conda:
        "../envs/plot.yaml"
    threads: 1
    params:
        settings=from_plan("settings"),
        code=code_version("aggregate_sweep"),
    script:
        "../scripts/aggregate_sweep.py"


# keras-tuner keeps its project directory in the job's backup, results/{dataset}/{experiment}/.backup/
# (not an output, so Snakemake keeps it when a killed job is run again): an interrupted search
# resumes, finished trials are not run again. Two tuning experiments never share trials; the
# backup is removed when the job completes, and a changed config starts the search afresh.
rule tune_image_classifier:
    """keras-tuner grid search: every trial, the best model and its history."""
    input:
        unpack(from_plan("prepared_images")),
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        trials="results/{dataset}/{experiment}/trials.csv",
        trials_history="results/{dataset}/{experiment}/trials_history.csv",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        environment="results/{dataset}/{experiment}/train_environment.json",
    log:
        "logs/{dataset}/{experiment}/tune.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/tune.tsv"
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["tuner"], tensorboard=False),
    conda:
        "../envs/tuner.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
        gpu=1,
    params:
        settings=from_plan("settings"),
        code=code_version("tune_image_classifier"),
    script:
        "../scripts/tune_image_classifier.py"


# The same with TensorBoard logs: one subdirectory per trial (tensorboard/<trial>/execution0/).
use rule tune_image_classifier as tune_image_classifier_tensorboard with:
    output:
        model="results/{dataset}/{experiment}/model.keras",
        history="results/{dataset}/{experiment}/history.csv",
        trials="results/{dataset}/{experiment}/trials.csv",
        trials_history="results/{dataset}/{experiment}/trials_history.csv",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        environment="results/{dataset}/{experiment}/train_environment.json",
        tensorboard=directory("results/{dataset}/{experiment}/tensorboard"),
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["tuner"], tensorboard=True),


rule evaluate_image_classifier:
    """Score an image model on the validation images against the majority class; figures, model card."""
    input:
        unpack(from_plan("prepared_images")),
        model="results/{dataset}/{experiment}/model.keras",
        outputs="results/{dataset}/{experiment}/outputs.npz",
        history="results/{dataset}/{experiment}/history.csv",
        training_environment="results/{dataset}/{experiment}/train_environment.json",
        raw=from_plan("raw_files"),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        card="results/{dataset}/{experiment}/model_card.md",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
        curves=report(
            "results/{dataset}/{experiment}/training_curves.png",
            caption="../report/training_curves.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "training curves"},
        ),
        confusion_plot=report(
            "results/{dataset}/{experiment}/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="{dataset}",
            subcategory="{experiment}",
            labels={"figure": "confusion matrix"},
        ),
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["single", "tuner"]),
    conda:
        "../envs/plot.yaml"
    threads: 1
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
        code=code_version("evaluate_image_classifier"),
    script:
        "../scripts/evaluate_image_classifier.py"
