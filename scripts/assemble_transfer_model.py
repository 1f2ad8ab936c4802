"""Join the saved feature extractor and the trained head into model.keras (raw images -> logits)."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import transfer

    transfer.assemble(
        snakemake.params.settings, snakemake.input.extractor, snakemake.input.head, snakemake.output.model
    )


run_with_tensorflow(main, snakemake)
