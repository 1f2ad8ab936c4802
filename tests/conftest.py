import os

import pytest

from tests.workflow import SHARED_DATA, copy_workflow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def workflow_dir(tmp_path):
    """A fresh copy of the workflow's source in a temporary directory."""
    return copy_workflow(tmp_path / "wf")


@pytest.fixture(scope="session")
def shared_data():
    """The real datasets in ../shared/data (skip when this checkout has none)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA
