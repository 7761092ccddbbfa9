"""The server's debounce queue on its own: a re-check for another document's sake (quiet:
published only if the diagnostics differ) never swallows a publish that is still due."""

from __future__ import annotations

import asyncio

from kvmlock.lsp.documents import OpenDocument
from kvmlock.lsp.server import KvmlockServer


def runs(steps) -> list[bool]:
    """Which `quiet` each analysis ran with, once the coroutine `steps(server, doc)` has
    scheduled them and they have all run."""
    server = KvmlockServer()
    doc = OpenDocument("file:///t.c", "/t.c", "int x;\n", 1)
    server.documents[doc.uri] = doc
    published: list[bool] = []
    server.publish = lambda d, quiet=False: published.append(quiet)

    async def go() -> None:
        await steps(server, doc)
        while server.pending:
            await asyncio.sleep(0.01)

    asyncio.run(go())
    return published


def test_a_quiet_recheck_replacing_a_due_publish_publishes():
    async def steps(server, doc):
        server.schedule(doc, delay=0.05)  # e.g. an edit, or the rules changed
        server.schedule(doc, delay=0, quiet=True)  # e.g. the index is ready

    assert runs(steps) == [False]


def test_a_quiet_recheck_alone_or_after_the_publish_ran_stays_quiet():
    async def alone(server, doc):
        server.schedule(doc, delay=0, quiet=True)

    assert runs(alone) == [True]

    async def after(server, doc):
        server.schedule(doc, delay=0)
        while server.pending:
            await asyncio.sleep(0.01)
        server.schedule(doc, delay=0, quiet=True)

    assert runs(after) == [False, True]
