"""Callee effects in the editor: a helper that releases its caller's lock, or returns holding
one, changes the caller's held set at the call — read from the file on disk, from an open
buffer, and followed as either is edited; the diagnostics always equal `kvmlock check` on the
same texts."""

from __future__ import annotations

import asyncio
import random
import textwrap
from pathlib import Path

import pytest_lsp
from lsp_fixtures import RST, SERVER, indexed, init_params, open_doc, session
from lsprotocol import types
from pytest_lsp import LanguageClient

from kvmlock.cli import main as cli_main

HELPERS = textwrap.dedent("""\
    void demo_queue_unlock(struct kvm *kvm, struct demo_irq *irq, unsigned long flags)
    {
    	lockdep_assert_held(&irq->lock);
    	if (irq->pending)
    		list_add(&irq->list, &kvm->irqs);
    	spin_unlock_irqrestore(&irq->lock, flags);
    }

    int demo_lock_two(struct kvm *a, struct kvm *b)
    {
    	if (mutex_lock_killable(&a->lock))
    		return -EINTR;
    	if (mutex_lock_killable_nested(&b->lock, 1)) {
    		mutex_unlock(&a->lock);
    		return -EINTR;
    	}
    	return 0;
    }
    """)

CALLER = textwrap.dedent("""\
    int demo_inject_all(struct kvm *kvm, struct demo_irq **irqs, int n)
    {
    	unsigned long flags;
    	int i;

    	for (i = 0; i < n; i++) {
    		struct demo_irq *irq = irqs[i];

    		spin_lock_irqsave(&irq->lock, flags);
    		if (!irq->enabled) {
    			spin_unlock_irqrestore(&irq->lock, flags);
    			continue;
    		}
    		demo_queue_unlock(kvm, irq, flags);
    	}
    	return 0;
    }

    int demo_move(struct kvm *dst, struct kvm *src)
    {
    	int r;

    	r = demo_lock_two(dst, src);
    	if (r)
    		return r;
    	if (dst->busy) {
    		r = -EBUSY;
    		goto out;
    	}
    	dst->count = src->count;
    out:
    	mutex_unlock(&src->lock);
    	mutex_unlock(&dst->lock);
    	return r;
    }
    """)

# The unlock gone: the caller's lock is held again at the next element and at the return.
HELPERS_KEEPING = HELPERS.replace("\tspin_unlock_irqrestore(&irq->lock, flags);\n", "")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, tmp_path: Path):
    rst = tmp_path / "Documentation" / "virt" / "kvm" / "locking.rst"
    rst.parent.mkdir(parents=True)
    rst.write_text(RST)
    kvm = tmp_path / "virt" / "kvm"
    kvm.mkdir(parents=True)
    (kvm / "helpers.c").write_text(HELPERS)
    (kvm / "caller.c").write_text(CALLER)
    async with session(lsp_client, init_params(tmp_path, options={"debounceMs": 0})):
        yield


async def settled(client: LanguageClient, uri: str, seconds: float = 0.4) -> list:
    """The diagnostics last published for `uri` once nothing new came for a while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    count = -1
    quiet_since = loop.time()
    while loop.time() < deadline:
        published = [p for p in client.published if p.uri == uri]
        if len(published) != count:
            count, quiet_since = len(published), loop.time()
        elif published and loop.time() - quiet_since > seconds:
            return list(published[-1].diagnostics)
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing settled for {uri}")


def key(diagnostics) -> list[tuple]:
    return sorted((d.code, d.range.start.line + 1, d.message) for d in diagnostics)


def checked(tmp_path: Path, texts: dict[str, str], capsys) -> list[tuple]:
    """`kvmlock check --format json` on the same texts, in another tree."""
    import json

    tree = tmp_path / "fresh"
    (tree / "virt" / "kvm").mkdir(parents=True, exist_ok=True)
    rst = tree / "Documentation" / "virt" / "kvm" / "locking.rst"
    rst.parent.mkdir(parents=True, exist_ok=True)
    rst.write_text(RST)
    for name, text in texts.items():
        (tree / "virt" / "kvm" / name).write_text(text)
    capsys.readouterr()
    cli_main(["check", "--format", "json", "-j", "1", str(tree / "virt" / "kvm" / "caller.c"),
              str(tree / "virt" / "kvm" / "helpers.c")])
    report = json.loads(capsys.readouterr().out)
    return sorted(
        (f["rule"], f["line"], f["message"].replace(str(tree), str(tmp_path)))
        for f in report["findings"]
        if f["path"].endswith("caller.c")
    )


async def test_a_helper_on_disk_releases_and_takes_the_callers_locks(
    client: LanguageClient, tmp_path: Path
):
    caller = (tmp_path / "virt" / "kvm" / "caller.c").as_uri()
    open_doc(client, caller, CALLER)
    await indexed(client)
    assert await settled(client, caller) == []  # no double-lock, no leak, no unheld unlock


async def test_editing_the_helper_changes_the_callers_findings(
    client: LanguageClient, tmp_path: Path, capsys
):
    caller = (tmp_path / "virt" / "kvm" / "caller.c").as_uri()
    helpers = (tmp_path / "virt" / "kvm" / "helpers.c").as_uri()
    open_doc(client, caller, CALLER)
    open_doc(client, helpers, HELPERS)
    await indexed(client)
    assert await settled(client, caller) == []

    def change(text: str, version: int) -> None:
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=helpers, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    change(HELPERS_KEEPING, 2)
    found = key(await settled(client, caller))
    assert [f[:2] for f in found] == [("double-lock", 9)]
    assert found == checked(tmp_path, {"caller.c": CALLER, "helpers.c": HELPERS_KEEPING}, capsys)
    change(HELPERS, 3)
    assert await settled(client, caller) == []


async def test_random_edits_to_the_helpers_match_kvmlock_check(
    client: LanguageClient, tmp_path: Path, capsys
):
    """Lines of the helpers come and go (the unlock, a lock, a return): after each edit the
    caller's diagnostics are those `kvmlock check` gives for the same two texts."""
    caller = (tmp_path / "virt" / "kvm" / "caller.c").as_uri()
    helpers = (tmp_path / "virt" / "kvm" / "helpers.c").as_uri()
    open_doc(client, caller, CALLER)
    open_doc(client, helpers, HELPERS)
    await indexed(client)
    await settled(client, caller)
    rng = random.Random(12)
    lines = HELPERS.split("\n")
    removable = [i for i, line in enumerate(lines) if "lock" in line or "return" in line]
    gone: set[int] = set()
    seen: set[tuple] = set()  # the caller's findings after each edit
    for version in range(2, 10):
        gone ^= {rng.choice(removable)}
        text = "\n".join(line for i, line in enumerate(lines) if i not in gone)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=helpers, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        got = key(await settled(client, caller))
        assert got == checked(tmp_path, {"caller.c": CALLER, "helpers.c": text}, capsys), gone
        seen.add(tuple(f[:2] for f in got))
    assert len(seen) >= 2, seen  # the edits did change what the caller is told
