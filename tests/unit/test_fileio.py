"""Atomic writes: a failure never leaves a file that looks finished."""

import pytest

from dlwf.core.fileio import atomic_path, md5sum, read_json, write_json


def test_atomic_path_moves_file_into_place(tmp_path):
    with atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("done")
        assert not (tmp_path / "out.txt").exists()
    assert (tmp_path / "out.txt").read_text() == "done"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_json_roundtrip_and_md5(tmp_path):
    write_json({"b": 1, "a": [1, 2]}, tmp_path / "m.json")
    assert read_json(tmp_path / "m.json") == {"a": [1, 2], "b": 1}
    assert len(md5sum(tmp_path / "m.json")) == 32


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        write_json({"a": 1}, tmp_path / "m.json")
    finally:
        os.umask(umask)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o644
