"""Fixtures for the flow tests: a Prefect test server, sample records and small datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.sample_records import REPORT_TEXT


@pytest.fixture(scope="session")
def phantom_cohort(tmp_path_factory) -> Path:
    """Four phantom cases, generated once per session; returns the case manifest."""
    from engine.cohort import make_phantom_cohort

    return make_phantom_cohort(4, tmp_path_factory.mktemp("phantom"), seed=3)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> str:
    """One Prefect test server for the whole session; returns its API URL for subprocesses."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield PREFECT_API_URL.value()


@pytest.fixture
def report_file(tmp_path: Path) -> Path:
    """A report text file matching the spans of ``make_sample``."""
    path = tmp_path / "report.txt"
    path.write_text(REPORT_TEXT, encoding="utf-8")
    return path
