"""Datasets of kind `image_folder`: class sub-folders of JPEG/PNG/BMP/GIF files, or an archive of them."""

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlwf.core.errors import WorkflowInputError
from dlwf.data import image_folder

RNG = np.random.default_rng(0)


def pixels(h=12, w=10):
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def write_folder(root: Path, per_class=5, classes=("cat", "dog"), suffix=".png") -> Path:
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(pixels()).save(root / name / f"{i}{suffix}")
    return root


def test_a_folder_becomes_stratified_uint8_arrays_of_the_configured_size(tmp_path):
    root = write_folder(tmp_path / "photos", per_class=10)
    (root / ".DS_Store").write_bytes(b"junk")  # hidden files and a README beside the classes are not images
    (root / "README.txt").write_text("my photos")
    splits, record = image_folder.read_folder(root, (8, 6), test_size=0.2, random_state=0)
    train, test = splits["train"], splits["test"]
    assert train[0].shape == (16, 8, 6, 3) and train[0].dtype == np.uint8 and test[0].shape == (4, 8, 6, 3)
    assert record["class_names"] == ["cat", "dog"] and record["counts"] == {"train": 16, "test": 4}
    assert record["class_counts"]["test"] == {"cat": 2, "dog": 2}
    again, _ = image_folder.read_folder(root, (8, 6), test_size=0.2, random_state=0)
    assert np.array_equal(again["test"][0], test[0])  # the seed fixes the split


def test_greyscale_rgba_palette_and_gif_images_become_rgb(tmp_path):
    root = write_folder(tmp_path / "photos")
    Image.fromarray(pixels()).convert("L").save(root / "cat" / "grey.png")
    Image.fromarray(pixels()).convert("RGBA").save(root / "dog" / "alpha.png")
    Image.fromarray(pixels()).convert("P").save(root / "dog" / "palette.gif")
    Image.fromarray(pixels()).save(root / "cat" / "photo.jpg")
    Image.fromarray(pixels()).save(root / "cat" / "scan.bmp")
    splits, record = image_folder.read_folder(root, (8, 8), test_size=0.3)
    assert sum(record["counts"].values()) == 15 and splits["train"][0].shape[-1] == 3
    grey = image_folder.read_image((root / "cat" / "grey.png").read_bytes(), (8, 8), "grey.png")
    assert grey.shape == (8, 8, 3) and np.array_equal(grey[..., 0], grey[..., 2])


def test_unreadable_files_are_named_or_skipped_and_counted(tmp_path):
    root = write_folder(tmp_path / "photos")
    bad = root / "dog" / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(WorkflowInputError, match=rf"^{bad}: not a readable image .*skip_unreadable: true"):
        image_folder.read_folder(root, (8, 8))
    splits, record = image_folder.read_folder(root, (8, 8), skip_unreadable=True)
    assert record["skipped_unreadable"] == 1 and record["unreadable_files"] == [str(bad)]
    assert sum(record["counts"].values()) == 10


def test_train_and_test_folders_are_used_as_given(tmp_path):
    write_folder(tmp_path / "photos" / "train", per_class=4)
    write_folder(tmp_path / "photos" / "test", per_class=2)
    _, record = image_folder.read_folder(tmp_path / "photos", (8, 8), test_size=0.5)
    assert record["counts"] == {"train": 8, "test": 4} and record["split"] == "train/ and test/ folders"


def test_class_names_must_name_the_folders_and_a_class_needs_two_images(tmp_path):
    root = write_folder(tmp_path / "photos")
    with pytest.raises(WorkflowInputError, match=r"class_names: \['cat', 'cow'\] differ from the class folders"):
        image_folder.read_folder(root, (8, 8), class_names=["cat", "cow"], where="config key datasets.p")
    _, record = image_folder.read_folder(root, (8, 8), class_names=["dog", "cat"])
    assert record["class_names"] == ["dog", "cat"]  # the given order is the label order
    write_folder(root, per_class=1, classes=("bird",))
    with pytest.raises(WorkflowInputError, match=r"class folder\(s\) \{'bird': 1\} hold fewer than 2"):
        image_folder.read_folder(root, (8, 8))


def zip_of(folder: Path, dest: Path, prefix="photos/") -> Path:
    with zipfile.ZipFile(dest, "w") as archive:
        for path in sorted(folder.rglob("*.png")):
            archive.write(path, prefix + str(path.relative_to(folder)))
    return dest


def test_an_archive_is_read_in_memory_with_its_top_folder(tmp_path):
    folder = write_folder(tmp_path / "photos")
    archive = zip_of(folder, tmp_path / "photos.zip")
    from_zip, record = image_folder.read_folder(archive, (8, 8), random_state=1)
    from_folder, _ = image_folder.read_folder(folder, (8, 8), random_state=1)
    assert record["class_names"] == ["cat", "dog"]
    assert np.array_equal(from_zip["train"][0], from_folder["train"][0])
    tar = tmp_path / "photos.tar.gz"
    with tarfile.open(tar, "w:gz") as archive:
        archive.add(folder, arcname="photos")
    assert image_folder.read_folder(tar, (8, 8))[1]["counts"] == record["counts"]
    assert not (tmp_path / "cat").exists()  # nothing was extracted


def test_archive_members_leaving_the_folder_are_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    buffer = io.BytesIO()
    Image.fromarray(pixels()).save(buffer, format="PNG")
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("cat/1.png", buffer.getvalue())
        handle.writestr("../../outside.png", buffer.getvalue())
    with pytest.raises(WorkflowInputError, match=r"archive member '../../outside.png' would leave the folder"):
        image_folder.read_folder(archive, (8, 8))


def test_a_folder_without_class_folders_says_what_it_expects(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.fromarray(pixels()).save(tmp_path / "flat" / "1.png")
    with pytest.raises(WorkflowInputError, match=r"no image in a class folder; expected <class>/<image>"):
        image_folder.read_folder(tmp_path / "flat", (8, 8))
