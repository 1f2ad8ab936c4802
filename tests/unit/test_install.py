"""Installing: the Makefile refuses interpreters and platforms the pins cannot install on, with a
message that says what to do (README, "Platforms")."""

import shutil
import subprocess
import sys

import pytest

from tests.workflow import REPO

CHECK = REPO / ".ci" / "check-python.sh"


def fake_python(tmp_path, answer: str):
    """An executable that answers the check's question ("VERSION SYSTEM MACHINE") like another interpreter."""
    path = tmp_path / "python"
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)
    return path


def check(python, kind="cpu"):
    return subprocess.run([str(CHECK), str(python), kind], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "answer", ["3.11 Linux x86_64", "3.12 Darwin arm64", "3.13 Windows AMD64", "3.12 Linux aarch64"]
)
def test_supported_interpreters_pass(tmp_path, answer):
    result = check(fake_python(tmp_path, answer))
    assert result.returncode == 0, result.stderr


def test_this_interpreter_passes():
    assert check(sys.executable).returncode == 0


@pytest.mark.parametrize(
    ("answer", "kind", "expected"),
    [
        ("3.14 Linux x86_64", "cpu", "is Python 3.14, but this project supports Python 3.11, 3.12 and 3.13 only"),
        ("3.10 Linux x86_64", "cpu", "PYTHON=python3.12"),
        ("3.12 Darwin x86_64", "cpu", "no wheel for Darwin x86_64 (e.g. Intel macOS)"),
        ("3.12 Darwin arm64", "gpu", "is for Linux x86_64 with an NVIDIA GPU"),
    ],
)
def test_unsupported_interpreters_are_refused_with_what_to_do(tmp_path, answer, kind, expected):
    result = check(fake_python(tmp_path, answer), kind)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "container" in result.stderr or kind == "gpu"


def test_a_missing_interpreter_is_named(tmp_path):
    result = check(tmp_path / "no-such-python")
    assert result.returncode == 1 and "cannot run" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_before_creating_a_venv(tmp_path):
    venv = tmp_path / "venv"
    for target, extra in (("venv", []), ("run", []), ("venv", ["GPU=1"])):
        python = fake_python(tmp_path, "3.14 Linux x86_64")
        result = subprocess.run(
            ["make", "-C", str(REPO), target, f"PYTHON={python}", f"VENV={venv}", *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, (target, extra)
        assert "supports Python 3.11, 3.12 and 3.13 only" in result.stderr, (target, extra)
        assert not venv.exists()
