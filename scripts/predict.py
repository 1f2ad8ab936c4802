"""Apply a trained model (model.keras, safe mode) to the new inputs of a `predict` entry."""

from _rule import run_with_tensorflow


def main(snakemake):
    from dlwf.steps import predict

    i, entry = snakemake.input, snakemake.config["predict"][snakemake.wildcards.entry]
    if "columns" in i.keys():
        predict.predict_table(snakemake.params.settings, i.model, i.columns, i.new[0], snakemake.output[0])
    else:
        predict.predict_images(
            snakemake.params.settings, i.model, i.classes, list(i.new), entry["path"], snakemake.output[0]
        )


run_with_tensorflow(main, snakemake)
