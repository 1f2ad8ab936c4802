"""Run the frozen pretrained base once over the train and test images; save features and extractor."""

from pathlib import Path

from _rule import run

from dlwf import runtime


def main(snakemake):
    device = runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import transfer

    base = snakemake.params.base
    config = transfer.base_config(base["config"], base["where"])
    if transfer.base_id(config) != snakemake.wildcards.base:  # rules/common.smk and dlwf disagree
        raise RuntimeError(f"base id {transfer.base_id(config)} != wildcard {snakemake.wildcards.base}")
    out = snakemake.output
    record = transfer.compute_features(
        base["config"],
        prepared_dir=str(Path(snakemake.input.classes).parent),
        extractor_out=out.extractor,
        features_out={"train": out.train, "test": out.test},
        base_json_out=out.base,
        where=base["where"],
        device=device,
    )
    print(f"forward passes (s): {record['forward_pass_s']} on {device}")


run(main, snakemake)
