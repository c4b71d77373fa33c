"""Fixtures of the extraction tests: the shipped organ KGs, loaded once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def kgs():
    """Every shipped organ KG, keyed by organ."""
    from kg import load_all

    return load_all()
