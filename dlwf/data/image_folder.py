"""Images kept the way most people keep them: a folder of class sub-folders of image files.

    photos/<class>/<image>                    split by a test share, stratified, with a seed
    photos/train/<class>/<image>, photos/test/<class>/<image>     split as given

The folder may also come as one .zip or .tar(.gz) archive, read in memory: nothing is extracted,
and member names that would leave the folder are refused. Every image is read with Pillow,
converted to RGB (greyscale, RGBA and palette images included; the first frame of a GIF) and
resized to the dataset's ``image_size``, giving the same arrays as the lesson's ``.npy`` layout
(uint8 (N, H, W, 3) and class indices), so every image experiment runs on it.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
from sklearn.model_selection import train_test_split

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import folder_files, is_listed
from dlwf.core.resources import check_memory

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLIT_FOLDERS = ("train", "test")


def read_image(data: bytes, size: tuple[int, int], where: str) -> np.ndarray:
    """Return the image in ``data`` as uint8 (height, width, 3) RGB, resized to ``size`` = (height, width).

    Raises WorkflowInputError naming ``where`` when Pillow cannot read it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            rgb = image.convert("RGB").resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise WorkflowInputError(f"{where}: not a readable image ({type(exc).__name__}: {exc})") from exc


def _safe(name: str, archive: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise WorkflowInputError(f"{archive}: archive member {name!r} would leave the folder; refusing the archive")
    return path


def _archive_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, content) of each regular file of a zip or tar archive, read in memory."""
    where = str(path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    name = str(_safe(info.filename, where))
                    if not info.is_dir() and is_listed(name):
                        yield name, archive.read(info)
            return
        with tarfile.open(path, "r:*") as archive:
            for member in archive.getmembers():
                name = str(_safe(member.name, where))
                if member.issym() or member.islnk():
                    raise WorkflowInputError(f"{where}: archive member {member.name!r} is a link; refusing the archive")
                if member.isfile() and is_listed(name):
                    handle = archive.extractfile(member)
                    yield name, handle.read() if handle else b""
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise WorkflowInputError(f"{where}: not a readable zip or tar archive ({exc})") from exc


def _strip_common_folder(files: dict[str, object]) -> dict[str, object]:
    """Drop a folder every file sits in (photos/cat/1.jpg -> cat/1.jpg) while it is not the class level."""
    while True:
        tops = {PurePosixPath(name).parts[0] for name in files}
        deep = all(len(PurePosixPath(name).parts) > 2 for name in files)
        if len(tops) != 1 or not deep or tops <= set(SPLIT_FOLDERS):
            return files
        files = {str(PurePosixPath(*PurePosixPath(name).parts[1:])): v for name, v in files.items()}


def _layout(files: dict[str, object], where: str) -> dict[str, dict[str, list[str]]]:
    """{'all' | 'train' | 'test': {class: [file names]}} from the relative names of the folder's files."""
    tops = {PurePosixPath(name).parts[0] for name in files if len(PurePosixPath(name).parts) > 1}
    split = tops and tops <= set(SPLIT_FOLDERS)
    if split and tops != set(SPLIT_FOLDERS):
        raise WorkflowInputError(f"{where}: has {sorted(tops)} but not both train/ and test/ class folders")
    layout: dict[str, dict[str, list[str]]] = {}
    for name in sorted(files):
        parts = PurePosixPath(name).parts
        depth = 3 if split else 2
        if len(parts) != depth:  # a file beside the class folders (a README) is not an image of a class
            continue
        part = parts[0] if split else "all"
        layout.setdefault(part, {}).setdefault(parts[-2], []).append(name)
    if not layout:
        raise WorkflowInputError(
            f"{where}: no image in a class folder; expected <class>/<image> or train/<class>/<image> and "
            "test/<class>/<image>"
        )
    return layout


def read_folder(
    source: str | Path,
    image_size: tuple[int, int],
    test_size: float = 0.2,
    random_state: int = 0,
    class_names: list[str] | None = None,
    skip_unreadable: bool = False,
    where: str = "image folder",
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """Return ({'train'|'test': (images uint8 (N, H, W, 3), labels int64 (N,))}, classes.json record).

    ``source`` is the folder or an archive of it. Classes are the class folders' names, sorted
    (or ``class_names``, which must name exactly those folders). Without train/ and test/
    folders, ``test_size`` of each class (stratified, ``random_state``) is the test set.
    Unreadable files are refused, naming each, or skipped (``skip_unreadable``, counted).
    """
    source = Path(source)
    if source.is_dir():
        files: dict[str, object] = {str(Path(p).relative_to(source).as_posix()): Path(p) for p in folder_files(source)}
    elif source.is_file():
        files = dict(_archive_members(source))
    else:
        raise WorkflowInputError(f"{where}: {source} is neither a folder nor an archive file")
    files = _strip_common_folder(files)
    layout = _layout(files, f"{where} ({source})")
    found = sorted({c for part in layout.values() for c in part})
    names = list(class_names) if class_names else found
    if sorted(names) != found:
        raise WorkflowInputError(f"{where}.class_names: {names} differ from the class folders {found} of {source}")
    if len(names) < 2:
        raise WorkflowInputError(f"{where}: {source} has a single class folder {found}; nothing to learn")
    by_key: dict[str, list[str]] = {}
    for name in found:
        by_key.setdefault(name.strip().casefold(), []).append(name)
    clashes = [v for v in by_key.values() if len(v) > 1]
    if clashes:
        raise WorkflowInputError(
            f"{where}: class folders {clashes[0]} of {source} differ only in upper/lower case or spaces; merge them "
            "into one folder, or rename one"
        )
    n_files = sum(len(v) for part in layout.values() for v in part.values())
    # every image is held twice while the arrays are stacked
    check_memory(
        2 * n_files * int(image_size[0]) * int(image_size[1]) * 3,
        f"{where}: {n_files} images of {image_size[0]}x{image_size[1]} pixels",
        f"lower {where}.image_size, or use a machine with more memory",
    )

    unreadable: list[str] = []

    def load(part: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
        pixels, labels = [], []
        for index, name in enumerate(names):
            for file in part.get(name, []):
                content = files[file]
                label = str(content) if isinstance(content, Path) else f"{source}:{file}"
                try:
                    data = content.read_bytes() if isinstance(content, Path) else content
                    pixels.append(read_image(data, image_size, label))
                except WorkflowInputError as exc:
                    if not skip_unreadable:
                        raise WorkflowInputError(
                            f"{exc}; remove or replace the file, or set skip_unreadable: true to leave such files out"
                        ) from exc
                    unreadable.append(label)
                    continue
                labels.append(index)
        images = np.stack(pixels) if pixels else np.zeros((0, *image_size, 3), np.uint8)
        return images, np.asarray(labels, dtype=np.int64)

    if "all" in layout:
        images, labels = load(layout["all"])
        counts = np.bincount(labels, minlength=len(names))
        if (counts < 2).any():
            rare = {names[i]: int(c) for i, c in enumerate(counts) if c < 2}
            raise WorkflowInputError(
                f"{where}: class folder(s) {rare} hold fewer than 2 readable images; a stratified split needs "
                "at least 2 per class (one for training, one for the test set)"
            )
        n_test = int(np.ceil(test_size * len(labels)))
        if n_test < len(names) or len(labels) - n_test < len(names):
            raise WorkflowInputError(
                f"{where}: split.test_size {test_size} of {len(labels)} images gives {n_test} test images for "
                f"{len(names)} classes; each class needs an image on each side: change test_size or add images"
            )
        index = np.arange(len(labels))
        train_index, test_index = train_test_split(
            index, test_size=test_size, random_state=random_state, shuffle=True, stratify=labels
        )
        splits = {"train": (images[train_index], labels[train_index]), "test": (images[test_index], labels[test_index])}
    else:
        splits = {part: load(layout[part]) for part in SPLIT_FOLDERS}
        for part, (_, labels) in splits.items():
            if len(labels) == 0:
                raise WorkflowInputError(f"{where}: {part}/ holds no readable image")
    record = {
        "class_names": names,
        "n_classes": len(names),
        "image_shape": [int(image_size[0]), int(image_size[1]), 3],
        "counts": {part: int(len(splits[part][1])) for part in SPLIT_FOLDERS},
        "class_counts": {
            part: {name: int(np.sum(splits[part][1] == i)) for i, name in enumerate(names)} for part in SPLIT_FOLDERS
        },
        "source_format": "image_folder",
        "split": "train/ and test/ folders" if "all" not in layout else f"test_size {test_size}, seed {random_state}",
        "skipped_unreadable": len(unreadable),
        "unreadable_files": unreadable,
    }
    return splits, record


def read_files(paths: list[str], size: tuple[int, int], root: str | Path | None = None) -> tuple[np.ndarray, list[str]]:
    """Return (uint8 (N, H, W, 3) images, their names relative to ``root``) of image files to predict on."""
    images, names = [], []
    for path in paths:
        data = Path(path).read_bytes()
        images.append(read_image(data, size, path))
        names.append(str(Path(path).relative_to(root)) if root else Path(path).name)
    return (np.stack(images) if images else np.zeros((0, *size, 3), np.uint8)), names
