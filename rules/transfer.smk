# Episode 5: transfer learning. The lesson runs its frozen pretrained base forward for every
# image in every epoch; here the base runs ONCE per dataset and base configuration (rule
# features), the head trains on the stored features in seconds, and model.keras (base + head)
# is evaluated on the raw validation images. Rules that run the base ask for one GPU.


rule features:
    """Run a frozen pretrained base once over a dataset's images (cached features)."""
    input:
        unpack(from_plan("prepared_images")),
        weights=from_plan("weights_files"),
    output:
        extractor="results/{dataset}/features/{base}/extractor.keras",
        train="results/{dataset}/features/{base}/train.npy",
        test="results/{dataset}/features/{base}/test.npy",
        base="results/{dataset}/features/{base}/base.json",
    log:
        "logs/{dataset}/features/{base}.log",
    benchmark:
        "benchmarks/{dataset}/features/{base}.tsv"
    wildcard_constraints:
        dataset=datasets_of(*IMAGE_KINDS),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        base=from_plan("base_settings"),
        code=code_version("extract_features"),
    script:
        "../scripts/extract_features.py"


rule train_transfer_head:
    """Train a transfer experiment's head on the cached features."""
    input:
        unpack(from_plan("prepared_images")),
        unpack(from_plan("head_features")),
    output:
        head="results/{dataset}/{experiment}/head.keras",
        history="results/{dataset}/{experiment}/history.csv",
        environment="results/{dataset}/{experiment}/train_environment.json",
    log:
        "logs/{dataset}/{experiment}/train_head.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train_head.tsv"
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["transfer"], tensorboard=False),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        settings=from_plan("settings"),
        code=code_version("train_transfer_head"),
    script:
        "../scripts/train_transfer_head.py"


# The same with TensorBoard logs of the head's training (`training.tensorboard: true`).
use rule train_transfer_head as train_transfer_head_tensorboard with:
    output:
        head="results/{dataset}/{experiment}/head.keras",
        history="results/{dataset}/{experiment}/history.csv",
        environment="results/{dataset}/{experiment}/train_environment.json",
        tensorboard=directory("results/{dataset}/{experiment}/tensorboard"),
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["transfer"], tensorboard=True),


rule assemble_transfer_model:
    """Join the frozen base and the trained head into one model.keras."""
    input:
        extractor=from_plan("feature_extractor"),
        head="results/{dataset}/{experiment}/head.keras",
    output:
        model="results/{dataset}/{experiment}/model.keras",
    log:
        "logs/{dataset}/{experiment}/assemble.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/assemble.tsv"
    wildcard_constraints:
        experiment=experiments_of(IMAGE_KINDS, ["transfer"]),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
    params:
        settings=from_plan("settings"),
        code=code_version("assemble_transfer_model"),
    script:
        "../scripts/assemble_transfer_model.py"


rule evaluate_transfer_model:
    """Score the assembled transfer model on the raw validation images; figures, model card."""
    input:
        unpack(from_plan("prepared_images")),
        unpack(from_plan("transfer_evaluation_inputs")),
        model="results/{dataset}/{experiment}/model.keras",
        head="results/{dataset}/{experiment}/head.keras",
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
        experiment=experiments_of(IMAGE_KINDS, ["transfer"]),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        settings=from_plan("settings"),
        code=code_version("evaluate_transfer_model"),
    script:
        "../scripts/evaluate_transfer_model.py"
