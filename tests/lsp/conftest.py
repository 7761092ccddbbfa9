"""Fixtures for the end-to-end tests; helpers and texts live in lsp_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsp_fixtures import C_SOURCE, RST, SERVER, init_params, session
from pytest_lsp import LanguageClient


@pytest.fixture(scope="session")
def kernel_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("linux")
    rst = root / "Documentation" / "virt" / "kvm" / "locking.rst"
    rst.parent.mkdir(parents=True)
    rst.write_text(RST)
    source = root / "virt" / "kvm" / "thing.c"
    source.parent.mkdir(parents=True)
    source.write_text(C_SOURCE)
    return root


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, kernel_tree: Path):
    async with session(lsp_client, init_params(kernel_tree)):
        yield


@pytest_lsp.fixture(config=SERVER)
async def pull_client(lsp_client: LanguageClient, kernel_tree: Path):
    async with session(lsp_client, init_params(kernel_tree, pull=True)):
        yield


