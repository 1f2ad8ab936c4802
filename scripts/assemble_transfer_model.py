"""Join the saved feature extractor and the trained head into model.keras (raw images -> logits)."""

from _rule import run

from dlwf import runtime


def main(snakemake):
    runtime.configure_tensorflow(snakemake.threads)  # before Keras is imported
    from dlwf import transfer

    transfer.assemble_model(
        snakemake.params.spec,
        extractor_path=snakemake.input.extractor,
        head_path=snakemake.input.head,
        model_out=snakemake.output.model,
    )


run(main, snakemake)
