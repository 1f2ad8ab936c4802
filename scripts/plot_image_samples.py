"""A 5x5 grid of training images titled with their class names (the lesson's first look)."""

from _rule import run

from dlwf import images, plots


def main(snakemake):
    classes = images.read_classes(snakemake.input.classes)
    pixels, labels = images.load_arrays(
        snakemake.input.train_images, snakemake.input.train_labels, classes["n_classes"]
    )
    plots.save_image_grid(pixels, labels, classes["class_names"], snakemake.output[0],
                          title=f"{snakemake.wildcards.dataset}: training images")


run(main, snakemake)
