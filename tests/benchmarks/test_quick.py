"""Keep the benchmarks alive: each one's --quick mode runs on generated input and writes
well-formed numbers. No timing is asserted here; the figures live in benchmarks/RESULTS.md."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"


def run_quick(script: str, tmp_path: Path) -> object:
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip()
    return json.loads(out.read_text())


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_parse_floor(tmp_path: Path) -> None:
    rows = run_quick("parse_floor.py", tmp_path)
    assert [r["file"] for r in rows] == ["gen1000.c", "gen3000.c"]
    for r in rows:
        for key in ("parse_ms", "rewrite_ms", "parse_rw_ms", "reparse_ms", "reparse_rw_ms"):
            assert positive(r[key]), key


def test_edit_latency(tmp_path: Path) -> None:
    rows = run_quick("edit_latency.py", tmp_path)
    assert len(rows) == 2
    for r in rows:
        for key in ("floor_p50_ms", "floor_rw_p50_ms", "server_p50_ms", "server_p99_ms"):
            assert positive(r[key]), key
        assert r["edits"] == 20
        # Every edit leaves new text: the edited function is analysed again each time.
        assert r["reanalysed_per_edit"] >= 1


def test_headless(tmp_path: Path) -> None:
    result = run_quick("headless.py", tmp_path)
    assert result["files"] == 4 and result["lines"] > 0
    assert {(r["jobs"], r["interprocedural"]) for r in result["runs"]} == {
        (1, False),
        (2, False),
        (1, True),
        (2, True),
    }
    for r in result["runs"]:
        assert positive(r["wall_s"]) and positive(r["parent_peak_mb"])
        assert r["findings"] > 0
    assert positive(result["phases_s"]["parse"]) and positive(result["phases_s"]["analysis"])


def test_server_lsp(tmp_path: Path) -> None:
    result = run_quick("server_lsp.py", tmp_path)
    assert set(result["open_ms"]) == {"gen1000.c", "gen2000.c"}
    assert all(positive(v) for v in result["peak_rss_mb"].values())
    for q in result["didchange_to_diagnostics_ms"].values():
        assert positive(q["p50"]) and q["p99"] >= q["p50"]


def test_startup(tmp_path: Path) -> None:
    result = run_quick("startup.py", tmp_path)
    assert positive(result["serve_initialize_ms"]["best"])
    assert positive(result["check_small_file_ms"]["best"])


def test_coccinelle_peer(tmp_path: Path) -> None:
    """Runs kvmlock, and spatch when Debian's coccinelle is installed (the test does not
    install it)."""
    result = run_quick("peers/coccinelle.py", tmp_path)
    kvmlock_rows = [r for r in result["rows"] if r["tool"].startswith("kvmlock")]
    assert len(kvmlock_rows) == 2
    for r in kvmlock_rows:
        assert positive(r["wall_s"]) and r["findings"] > 0
    spatch_rows = [r for r in result["rows"] if r["tool"].startswith("spatch")]
    assert len(spatch_rows) == 3
    for r in spatch_rows:
        assert "skipped" in r or (positive(r["wall_s"]) and r["findings"] >= 0)


@pytest.mark.parametrize("cocci", ["srcu_mutex.cocci", "slots_then_lock.cocci"])
def test_semantic_patches_are_ours(cocci: str) -> None:
    text = (BENCH / "peers" / cocci).read_text()
    assert "exists" in text and "guard" in text


def test_corpus_files_and_check(tmp_path: Path) -> None:
    """corpus.py lists only the KVM sources, and `--check` never fetches."""
    sys.path.insert(0, str(BENCH))
    try:
        from corpus import corpus_files
    finally:
        sys.path.remove(str(BENCH))
    for rel in (
        "virt/kvm/kvm_main.c",
        "arch/x86/kvm/mmu/mmu.c",
        "include/linux/kvm_host.h",
        "include/linux/list.h",
        "Documentation/virt/kvm/locking.rst",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("\n")
    names = [p.relative_to(tmp_path).as_posix() for p in corpus_files(tmp_path)]
    assert names == ["virt/kvm/kvm_main.c", "arch/x86/kvm/mmu/mmu.c", "include/linux/kvm_host.h"]
    proc = subprocess.run(
        [sys.executable, str(BENCH / "corpus.py"), "--check"],
        capture_output=True,
        text=True,
        env={"KVMLOCK_CORPUS_CACHE": str(tmp_path / "empty-cache"), "PATH": ""},
        timeout=60,
    )
    assert proc.returncode == 1 and not (tmp_path / "empty-cache").exists()


def test_edit_plan_never_repeats_a_text() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        from edit_latency import edit_plan
        from generate import generate
    finally:
        sys.path.remove(str(BENCH))
    text = generate(400).encode()
    seen = {text}
    for at, char in edit_plan(text, 40):
        assert 0 < at <= len(text) and len(char) == 1
        text = text[:at] + char + text[at:]
        assert text not in seen
        seen.add(text)


def test_soak(tmp_path: Path) -> None:
    """Edits, checks against a fresh open, a burst and open documents are all counted and
    measured; whether they matched is recorded, not asserted (benchmarks/soak.py)."""
    result = run_quick("soak.py", tmp_path)
    soak = result["soak"]
    assert soak["edits"] >= 60 and soak["checks"] >= 6
    assert sum(soak["kinds"].values()) == soak["edits"]
    assert isinstance(soak["mismatches"], list) and isinstance(soak["crashes"], list)
    assert soak["rss"] and all(positive(r["rss_mb"]) and r["hwm_mb"] >= r["rss_mb"]
                               for r in soak["rss"])
    burst = result["burst"]
    assert burst["changes"] == 100 and isinstance(burst["returned"], bool)
    for key in ("baseline_rss_mb", "peak_rss_mb", "after_rss_mb", "after_idle_rss_mb"):
        assert positive(burst[key]), key
    documents = result["documents"]
    assert documents["count"] == 3 and len(documents["rows"]) == 3
    assert all(positive(r["rss_mb"]) and r["lines"] >= 500 for r in documents["rows"])
    assert positive(documents["peak_rss_mb"]) and isinstance(documents["per_document_mb"], float)
