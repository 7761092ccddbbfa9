"""Fixtures for the analysis tests; the helpers live in analysis_fixtures.py."""

from __future__ import annotations

import pytest
from analysis_fixtures import run


@pytest.fixture(scope="session")
def check():
    return run
