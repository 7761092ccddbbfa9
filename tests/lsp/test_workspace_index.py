"""The server's workspace index on its own: which files it takes, the bound, and indexing in
worker processes (the end-to-end tests use trees small enough to index in the server)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kvmlock.analysis.checks import registry
from kvmlock.lsp.workspace_index import (
    IN_PROCESS_FILES,
    ServerIndex,
    bounded,
    covered,
    kernel_roots,
    source_files,
)
from kvmlock.rules.builtin import builtin_rule_base

CALLER = """\
void caller_{n}(struct kvm_vcpu *vcpu)
{{
	mutex_lock(&vcpu->mutex);
	helper_{n}(vcpu->kvm);
	mutex_unlock(&vcpu->mutex);
}}
"""

HELPER = """\
void helper_{n}(struct kvm *kvm)
{{
	mutex_lock(&kvm->lock);
	mutex_unlock(&kvm->lock);
}}
"""


def test_in_a_kernel_tree_only_kvm_code_is_indexed(tmp_path: Path):
    for name in ("virt/kvm/kvm_main.c", "arch/x86/kvm/x86.c", "arch/x86/mm/fault.c",
                 "include/linux/kvm_host.h", "include/linux/sched.h", "drivers/x.c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    files = list(source_files(kernel_roots(tmp_path)))
    assert sorted(Path(f).relative_to(tmp_path).as_posix() for f in files) == [
        "arch/x86/kvm/x86.c",
        "include/linux/kvm_host.h",
        "virt/kvm/kvm_main.c",
    ]


def test_hidden_directories_are_skipped_and_the_walk_stops_at_the_bound(tmp_path: Path):
    for name in ("a.c", "b.h", "c.txt", ".git/d.c", "sub/.cache/e.c", "sub/f.c", "sub/g.c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    files = list(source_files(kernel_roots(tmp_path)))
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == [
        "a.c",
        "b.h",
        "sub/f.c",
        "sub/g.c",
    ]
    assert bounded(iter(files), 3) == (files[:3], True)
    assert bounded(iter(files), 4) == (files, False)


def test_many_files_are_indexed_in_worker_processes(tmp_path: Path):
    count = IN_PROCESS_FILES + 2
    for n in range(count):
        (tmp_path / f"caller_{n}.c").write_text(CALLER.format(n=n))
    (tmp_path / "helpers.c").write_text("".join(HELPER.format(n=n) for n in range(count)))
    files = sorted(str(p) for p in tmp_path.glob("*.c"))
    rules = builtin_rule_base()
    index = ServerIndex(lambda _path: rules, frozenset(registry()))
    reports: list[tuple[int, int]] = []
    asyncio.run(index.build(files, lambda done, total: reports.append((done, total)), workers=1))
    assert index.workspace is not None
    assert index.stats.files == count + 1
    assert index.stats.functions == 2 * count
    assert reports[-1] == (count + 1, count + 1)
    findings = index.workspace.findings()
    assert len(findings) == count
    assert {f.rule for f in findings} == {"lock-order"}


def test_covered_agrees_with_the_walk(tmp_path: Path):
    names = ("virt/kvm/a.c", "virt/kvm/.cache/b.c", "virt/kvm/c.txt", "arch/x86/kvm/d.h",
             "arch/x86/mm/e.c", "include/linux/kvm_host.h", "include/linux/sched.h")
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    roots = kernel_roots(tmp_path)
    walked = set(source_files(roots))
    for name in names:
        path = str(tmp_path / name)
        assert covered(path, roots) == (path in walked), name


def test_files_changed_on_disk_update_the_index(tmp_path: Path):
    (tmp_path / "caller.c").write_text(CALLER.format(n=0))
    helpers = tmp_path / "helpers.c"
    helpers.write_text(HELPER.format(n=0))
    rules = builtin_rule_base()
    index = ServerIndex(lambda _path: rules, frozenset(registry()))

    async def run() -> None:
        # Reported while the index is built: kept for afterwards.
        index.indexing = True
        assert await index.files_changed([str(helpers)]) == set()
        index.indexing = False
        await index.build(sorted(str(p) for p in tmp_path.glob("*.c")), lambda d, t: None)
        assert index.changed_while_indexing() == [str(helpers)]
        assert index.changed_while_indexing() == []
        assert [f.rule for f in index.workspace.findings()] == ["lock-order"]

        helpers.write_text(HELPER.format(n=0).replace("kvm->lock", "kvm->slots_lock"))
        paths = await index.files_changed([str(helpers)])
        assert paths is None or str(tmp_path / "caller.c") in paths
        assert index.workspace.findings() == []

        helpers.unlink()
        await index.files_changed([str(helpers)])
        assert str(helpers) not in index.indexed
        assert index.stats.files == 1
        assert index.stats.disk_updates == 2
        # A file that was never indexed and is gone: nothing to do.
        assert await index.files_changed([str(tmp_path / "never.c")]) == set()

    asyncio.run(run())
