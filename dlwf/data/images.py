"""Episodes 4-5: image datasets in the Dollar Street 10 file layout.

A prepared image dataset is a directory with ``train_images.npy`` (N, H, W, 3) uint8,
``train_labels.npy`` (N,) int64, ``test_images.npy``, ``test_labels.npy`` and
``classes.json`` (class names, image shape, counts). The test files are the validation
set, as in the lesson. Every array is loaded with ``allow_pickle=False`` and checked here;
:func:`scale` is the one place where pixels become floats in [0, 1].

Sources: four ``.npy`` files (Dollar Street 10 from Zenodo, any local directory in that
layout) or the official CIFAR-10 python tarball, converted by :func:`read_cifar10_tarball`
without extracting anything to disk and with an unpickler that can only build numpy arrays.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from dlwf.core.errors import WorkflowInputError
from dlwf.core.fileio import REBUILD, read_json_checked
from dlwf.core.resources import check_memory, human

PARTS = ("train", "test")
FILES = {part: {"images": f"{part}_images.npy", "labels": f"{part}_labels.npy"} for part in PARTS}
RAW_NPY_FILES = [FILES[p][k] for p in PARTS for k in ("images", "labels")]
CLASSES_FILE = "classes.json"
NPY_MAGIC = b"\x93NUMPY"


# ---------------------------------------------------------------------------- loading


RAW_FIX = "replace the file with a complete copy (a download or copy may have stopped early)"


def _npy_header(handle, path: Path) -> tuple[tuple[int, ...], np.dtype] | None:
    """(shape, dtype) the header of an open .npy file claims, the handle left at the data; None if unreadable."""
    try:
        version = np.lib.format.read_magic(handle)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if reader is None:
            return None
        shape, _, dtype = reader(handle)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError):
        return None  # np.load below names what is wrong
    return tuple(int(n) for n in shape), dtype


def _check_claimed_size(path: Path, fix: str) -> None:
    """Refuse an .npy file whose header claims more data than the file holds, or than the memory can take,
    before numpy allocates it (a 1 TiB claim would end in MemoryError)."""
    with open(path, "rb") as handle:
        header = _npy_header(handle, path)
        if header is None:
            return
        shape, dtype = header
        if dtype.hasobject:
            return  # refused by np.load as a pickled array
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        held = path.stat().st_size - handle.tell()
    if claimed > held:
        raise WorkflowInputError(
            f"{path}: the .npy header claims an array of shape {shape} ({dtype}), {human(claimed)}, but the file "
            f"holds only {human(held)} after its header; it is truncated or corrupt: {fix}"
        )
    check_memory(
        claimed,
        f"{path}: the array of shape {shape} ({dtype})",
        "use a machine with more memory, or fewer images (datasets.<id>.subset)",
    )


def load_npy(path: Path, fix: str = RAW_FIX) -> np.ndarray:
    """Return the array in ``path``; refuse pickled (object) arrays, non-npy files and size claims the
    file or the memory cannot back. ``fix`` says what to do about a broken file."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except FileNotFoundError as exc:
        raise WorkflowInputError(f"{path}: file not found") from exc
    if magic != NPY_MAGIC:
        raise WorkflowInputError(
            f"{path}: not a valid .npy file (it starts with {magic!r}, not the .npy header); "
            "a failed download often leaves an HTML page"
        )
    _check_claimed_size(path, fix)
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise WorkflowInputError(
                f"{path}: holds a pickled object array, which this workflow refuses to load "
                "(unpickling can run arbitrary code); save plain numeric arrays with np.save"
            ) from exc
        raise WorkflowInputError(f"{path}: not a valid .npy file ({exc}); {fix}") from exc
    except (OSError, EOFError) as exc:
        raise WorkflowInputError(f"{path}: not a valid .npy file ({exc}); {fix}") from exc
    if not isinstance(array, np.ndarray):  # np.load of an .npz gives an NpzFile
        raise WorkflowInputError(f"{path}: expected a single array saved with np.save, not an archive")
    return array


def check_images(images: np.ndarray, where: str | Path) -> np.ndarray:
    """Return ``images`` as uint8 (N, H, W, 3); raise naming ``where`` on a wrong shape, dtype or range."""
    if images.dtype == object or images.dtype.kind not in "ui":
        raise WorkflowInputError(
            f"{where}: images must hold integer pixel values 0..255 (uint8), got dtype {images.dtype}; "
            "the workflow scales images to [0, 1] itself"
        )
    if images.ndim != 4 or images.shape[-1] != 3:
        raise WorkflowInputError(f"{where}: images must have shape (N, height, width, 3) (RGB), got {images.shape}")
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise WorkflowInputError(f"{where}: no images (shape {images.shape})")
    low, high = int(images.min()), int(images.max())
    if low < 0 or high > 255:
        raise WorkflowInputError(f"{where}: pixel values must lie in 0..255, found {low}..{high}")
    return images.astype(np.uint8, copy=False)


def check_labels(labels: np.ndarray, n_classes: int, where: str | Path) -> np.ndarray:
    """Return ``labels`` as int64 (N,); accept (N,) or (N, 1); raise on a wrong shape, dtype or range."""
    if labels.dtype == object or labels.dtype.kind not in "ui":
        raise WorkflowInputError(f"{where}: labels must be integer class indices, got dtype {labels.dtype}")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise WorkflowInputError(
            f"{where}: labels must have shape (N,) or (N, 1) (one class index per image), got {labels.shape}"
        )
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_classes:
            raise WorkflowInputError(
                f"{where}: labels must lie in 0..{n_classes - 1} ({n_classes} class names configured), "
                f"found {low}..{high}"
            )
    return labels.astype(np.int64)


def check_pair(images: np.ndarray, labels: np.ndarray, images_where, labels_where, n_classes: int):
    """Return the checked (images, labels) of one split; their counts must agree."""
    images = check_images(images, images_where)
    labels = check_labels(labels, n_classes, labels_where)
    if len(images) != len(labels):
        raise WorkflowInputError(
            f"{labels_where}: {len(labels)} labels but {images_where} holds {len(images)} images; "
            "the two files must describe the same images in the same order"
        )
    return images, labels


def load_arrays(
    images_path: str | Path, labels_path: str | Path, n_classes: int, fix: str = RAW_FIX
) -> tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 (N, H, W, 3), labels int64 (N,)) from two .npy files, validated."""
    images_path, labels_path = Path(images_path), Path(labels_path)
    return check_pair(load_npy(images_path, fix), load_npy(labels_path, fix), images_path, labels_path, n_classes)


def _made_here(exc: WorkflowInputError) -> WorkflowInputError:
    """``exc`` about a file the workflow made (results/), with the fix for such files."""
    text = str(exc)
    return exc if "delete it" in text else WorkflowInputError(f"{text}; the workflow made this file: {REBUILD}")


def load_labels(labels_path: str | Path, n_classes: int) -> np.ndarray:
    """Return the validated int64 (N,) labels of one prepared .npy file (without loading the images)."""
    labels_path = Path(labels_path)
    try:
        return check_labels(load_npy(labels_path, REBUILD), n_classes, labels_path)
    except WorkflowInputError as exc:
        raise _made_here(exc) from exc


def scale(images: np.ndarray) -> np.ndarray:
    """Return uint8 pixel values 0..255 as float32 in [0, 1] (the lesson's normalisation)."""
    check_memory(
        int(np.size(images)) * 4,
        f"{len(images)} images of {tuple(np.shape(images)[1:])} as float32",
        "use fewer or smaller images (datasets.<id>.subset, image_size) or a machine with more memory",
    )
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def read_classes(prepared: str | Path) -> dict:
    """Return ``classes.json`` (class_names, n_classes, image_shape, counts) of a prepared dataset, checked.

    ``prepared`` is the prepared directory or the classes.json file itself.
    """
    path = Path(prepared)
    if path.is_dir():
        path = path / CLASSES_FILE
    if not path.is_file():
        raise WorkflowInputError(f"{path}: file not found; run the prepare_images rule first")
    classes = read_json_checked(path, ("class_names", "n_classes", "image_shape"), "classes.json")
    names, shape = classes["class_names"], classes["image_shape"]
    valid = (
        isinstance(names, list)
        and len(names) >= 2
        and all(isinstance(n, str) for n in names)
        and classes["n_classes"] == len(names)
        and isinstance(shape, list)
        and len(shape) == 3
        and all(isinstance(n, int) and n > 0 for n in shape)
    )
    if not valid:
        raise WorkflowInputError(
            f"{path}: not a valid classes.json (class_names, n_classes and image_shape disagree or are not lists of "
            f"names and sizes); {REBUILD}"
        )
    return classes


def load_split(prepared_dir: str | Path, part: str, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the validated (images uint8, labels int64) of ``part`` ('train' or 'test') of a prepared dataset."""
    if part not in FILES:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    prepared_dir = Path(prepared_dir)
    try:
        return load_arrays(
            prepared_dir / FILES[part]["images"], prepared_dir / FILES[part]["labels"], n_classes, REBUILD
        )
    except WorkflowInputError as exc:
        raise _made_here(exc) from exc


# ---------------------------------------------------------------------------- CIFAR-10 tarball

CIFAR_DIR = "cifar-10-batches-py"
CIFAR_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST_BATCH = "test_batch"
CIFAR_META = "batches.meta"


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds dicts, lists, bytes, str, numbers and numpy arrays, nothing else.

    Plain ``pickle.load`` would run any callable the file names; CIFAR-10's batches only
    need numpy's array reconstruction, so every other global is refused.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: np.dtype,
        # protocol-2 pickles written by Python 3 encode bytes with _codecs.encode(str, 'latin1')
        ("_codecs", "encode"): lambda: __import__("codecs").encode,
    }

    def find_class(self, module, name):
        factory = self.ALLOWED.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return factory()


def restricted_unpickle(data: bytes, where: str) -> object:
    """Return the object pickled in ``data``, allowing only plain containers and numpy arrays."""
    try:
        return _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 - any failure means the file is not a CIFAR batch
        raise WorkflowInputError(f"{where}: not a CIFAR-10 python batch ({exc})") from exc


def _decode_keys(obj: dict) -> dict:
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _safe_member_name(name: str, archive: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise WorkflowInputError(
            f"{archive}: archive member {name!r} would escape the extraction directory; refusing the archive"
        )
    return path


def _cifar_batch(blob: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    batch = restricted_unpickle(blob, where)
    if not isinstance(batch, dict):
        raise WorkflowInputError(f"{where}: expected a dict, got {type(batch).__name__}")
    batch = _decode_keys(batch)
    if "data" not in batch or "labels" not in batch:
        raise WorkflowInputError(f"{where}: keys 'data' and 'labels' expected, found {sorted(batch)}")
    data, labels = batch["data"], batch["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise WorkflowInputError(f"{where}: 'data' must be a uint8 array of shape (N, 3072)")
    if not isinstance(labels, list) or not all(isinstance(v, int) for v in labels):
        raise WorkflowInputError(f"{where}: 'labels' must be a list of integers")
    # rows hold the red, green and blue 32x32 planes one after the other
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), np.asarray(labels, dtype=np.int64)


def read_cifar10_tarball(path: str | Path) -> dict:
    """Return {'train': (images, labels), 'test': (...), 'label_names': [...]} from cifar-10-python.tar.gz.

    Members are read in memory (nothing is extracted); names that would escape the archive's
    directory, links and missing batches are refused.
    """
    path = Path(path)
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar.getmembers():
                name = _safe_member_name(member.name, str(path))
                if member.issym() or member.islnk():
                    raise WorkflowInputError(f"{path}: archive member {member.name!r} is a link; refusing the archive")
                if member.isfile() and len(name.parts) == 2 and name.parts[0] == CIFAR_DIR:
                    handle = tar.extractfile(member)
                    blobs[name.parts[1]] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise WorkflowInputError(f"{path}: not a readable tar archive ({exc})") from exc
    missing = [n for n in CIFAR_TRAIN_BATCHES + [CIFAR_TEST_BATCH, CIFAR_META] if n not in blobs]
    if missing:
        raise WorkflowInputError(
            f"{path}: not the CIFAR-10 python archive; missing {[f'{CIFAR_DIR}/{m}' for m in missing]}"
        )
    train = [_cifar_batch(blobs[n], f"{path}:{CIFAR_DIR}/{n}") for n in CIFAR_TRAIN_BATCHES]
    test = _cifar_batch(blobs[CIFAR_TEST_BATCH], f"{path}:{CIFAR_DIR}/{CIFAR_TEST_BATCH}")
    meta = restricted_unpickle(blobs[CIFAR_META], f"{path}:{CIFAR_DIR}/{CIFAR_META}")
    meta = _decode_keys(meta) if isinstance(meta, dict) else {}
    label_names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get("label_names", [])]
    return {
        "train": (np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train])),
        "test": test,
        "label_names": label_names,
    }


# ---------------------------------------------------------------------------- prepare


def _subset(images: np.ndarray, labels: np.ndarray, n: int | None, part: str, where: str):
    if n is None:
        return images, labels
    if n > len(images):
        raise WorkflowInputError(
            f"{where}: subset.{part} asks for the first {n} images but the {part} set has only {len(images)}"
        )
    return images[:n], labels[:n]


def read_raw(
    raw_files: list[str],
    class_names: list[str],
    source_format: str = "npy",
    subset: dict | None = None,
    where: str = "dataset",
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict]:
    """Return ({part: (images uint8 (N, H, W, 3), labels int64 (N,))}, classes.json record) of a raw dataset.

    ``raw_files`` are the four .npy files (any order, matched by name) or the CIFAR-10 tarball;
    ``subset`` {'train': n, 'test': m} keeps the first n/m images (the workshops' ``n``). Every
    array is validated; ``where`` (the dataset's config key) is named in errors about the config.
    """
    n_classes = len(class_names)
    subset = subset or {}
    if source_format == "npy":
        by_name = {Path(p).name: Path(p) for p in raw_files}
        missing = [n for n in RAW_NPY_FILES if n not in by_name]
        if missing:
            raise WorkflowInputError(f"{where}.files: missing file(s) {missing} of the image layout")
        splits = {
            part: load_arrays(by_name[FILES[part]["images"]], by_name[FILES[part]["labels"]], n_classes)
            for part in PARTS
        }
    elif source_format == "cifar10_python":
        if len(raw_files) != 1:
            raise WorkflowInputError(f"{where}.files: format cifar10_python expects one file, the tarball")
        content = read_cifar10_tarball(raw_files[0])
        if content["label_names"] and content["label_names"] != list(class_names):
            raise WorkflowInputError(
                f"{where}.class_names: {list(class_names)} differ from the archive's label names "
                f"{content['label_names']}"
            )
        splits = {
            part: check_pair(
                *content[part], f"{raw_files[0]} ({part} images)", f"{raw_files[0]} ({part} labels)", n_classes
            )
            for part in PARTS
        }
    else:
        raise WorkflowInputError(f"{where}.format: unknown format {source_format!r}")

    splits = {part: _subset(*splits[part], subset.get(part), part, where) for part in PARTS}
    shapes = {part: splits[part][0].shape[1:] for part in PARTS}
    if shapes["train"] != shapes["test"]:
        raise WorkflowInputError(
            f"{where}: train images are {shapes['train']} but test images are {shapes['test']}; "
            "both sets must have the same image size"
        )
    record = {
        "class_names": list(class_names),
        "n_classes": n_classes,
        "image_shape": list(shapes["train"]),
        "counts": {part: int(len(splits[part][1])) for part in PARTS},
        "class_counts": {
            part: {name: int(np.sum(splits[part][1] == i)) for i, name in enumerate(class_names)} for part in PARTS
        },
        "source_format": source_format,
        "subset": {part: subset.get(part) for part in PARTS},
    }
    return splits, record
