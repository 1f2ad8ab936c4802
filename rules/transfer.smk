# Episode 5: transfer learning. The lesson runs its frozen pretrained base forward for every
# image in every epoch; here the base runs ONCE per dataset and base configuration (rule
# features), the head trains on the stored features in seconds, and model.keras (base + head)
# is evaluated on the raw validation images. Rules that run the base ask for one GPU.


rule features:
    input:
        unpack(prepared_images),
        weights=transfer_weights_file,
        # the modules dlwf.transfer imports at its top (the evaluation's own come later)
        code=package_code(
            "runtime",
            "images",
            "transfer",
            "transfer_config",
            "provenance",
            "models",
            "training",
        ),
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
        dataset=alternatives(datasets_of_kind("images")),
        base=alternatives(transfer_base_ids()),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        base=transfer_base,
    script:
        "../scripts/extract_features.py"


rule train_transfer_head:
    input:
        unpack(prepared_images),
        train_features=lambda wc: transfer_features(wc)["train_features"],
        test_features=lambda wc: transfer_features(wc)["test_features"],
        code=package_code(
            "runtime",
            "images",
            "transfer",
            "transfer_config",
            "provenance",
            "models",
            "training",
        ),
    output:
        head="results/{dataset}/{experiment}/head.keras",
        history="results/{dataset}/{experiment}/history.csv",
    log:
        "logs/{dataset}/{experiment}/train_head.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/train_head.tsv"
    wildcard_constraints:
        experiment=alternatives(image_experiments("transfer")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=2000,
    params:
        spec=experiment_spec,
    script:
        "../scripts/train_transfer_head.py"


rule assemble_transfer_model:
    input:
        extractor=lambda wc: transfer_features(wc)["extractor"],
        head="results/{dataset}/{experiment}/head.keras",
        code=package_code(
            "runtime",
            "images",
            "transfer",
            "transfer_config",
            "provenance",
            "models",
            "training",
        ),
    output:
        model="results/{dataset}/{experiment}/model.keras",
    log:
        "logs/{dataset}/{experiment}/assemble.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/assemble.tsv"
    wildcard_constraints:
        experiment=alternatives(image_experiments("transfer")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=4000,
    params:
        spec=experiment_spec,
    script:
        "../scripts/assemble_transfer_model.py"


rule evaluate_transfer_model:
    input:
        unpack(prepared_images),
        unpack(transfer_benchmarks),
        model="results/{dataset}/{experiment}/model.keras",
        head="results/{dataset}/{experiment}/head.keras",
        history="results/{dataset}/{experiment}/history.csv",
        test_features=lambda wc: transfer_features(wc)["test_features"],
        base=lambda wc: transfer_features(wc)["base"],
        raw=raw_files_of,
        code=package_code(
            "runtime",
            "images",
            "transfer",
            "transfer_config",
            "provenance",
            "models",
            "training",
            "evaluation",
            "experiment",
            "tabular",
            "image_experiment",
            "image_models",
        ),
    output:
        metrics="results/{dataset}/{experiment}/metrics.json",
        predictions="results/{dataset}/{experiment}/predictions.csv",
        confusion="results/{dataset}/{experiment}/confusion_matrix.csv",
    log:
        "logs/{dataset}/{experiment}/evaluate.log",
    benchmark:
        "benchmarks/{dataset}/{experiment}/evaluate.tsv"
    wildcard_constraints:
        experiment=alternatives(image_experiments("transfer")),
    conda:
        "../envs/tensorflow.yaml"
    threads: config["train_threads"]
    resources:
        mem_mb=8000,
        gpu=1,
    params:
        spec=experiment_spec,
    script:
        "../scripts/evaluate_transfer_model.py"
