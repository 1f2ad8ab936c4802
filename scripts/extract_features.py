"""Run the frozen pretrained base once over the train and test images; save features and extractor."""

from pathlib import Path

from _rule import backup, run_with_tensorflow


def main(snakemake):
    from dlwf.core.base_model import users
    from dlwf.core.fileio import backup_dir
    from dlwf.steps import transfer

    out, wildcards = snakemake.output, snakemake.wildcards
    where = " / ".join(users(snakemake.config, wildcards.dataset, wildcards.base))  # for messages only
    job = backup(snakemake, backup_dir(Path(out.base).parent), snakemake.params.base)
    transfer.features(
        snakemake.params.base,
        str(Path(snakemake.input.classes).parent),
        out.extractor,
        {"train": out.train, "test": out.test},
        out.base,
        where=where,
        backup=job,
    )


run_with_tensorflow(main, snakemake, announce=False)
