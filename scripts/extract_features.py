"""Run the frozen pretrained base once over the train and test images; save features and extractor."""

from pathlib import Path

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.core.base_model import users
    from dlwf.steps import transfer

    out, wildcards = snakemake.output, snakemake.wildcards
    where = " / ".join(users(snakemake.config, wildcards.dataset, wildcards.base))  # for messages only
    transfer.features(snakemake.params.base, str(Path(snakemake.input.classes).parent), out.extractor,
                      {"train": out.train, "test": out.test}, out.base, where=where)


run_with_tensorflow(main, snakemake)
