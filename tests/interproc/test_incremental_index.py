"""The workspace index updated in place: an edit recomputes the summaries of the functions it
changed and of the callers that see a difference, and ends where a fresh build ends."""

from __future__ import annotations

import textwrap

from interproc_helpers import RULES, records

from kvmlock.analysis.live import LiveDocument
from kvmlock.interproc.records import RecordBuilder
from kvmlock.interproc.workspace import Workspace

HELPERS = """\
    void take_slots(struct kvm *kvm)
    {
    	mutex_lock(&kvm->slots_lock);
    	mutex_unlock(&kvm->slots_lock);
    }

    void leaf(struct kvm *kvm)
    {
    	int y = 2;
    }
    """

CALLERS = """\
    static void in_vcpu(struct kvm_vcpu *vcpu)
    {
    	mutex_lock(&vcpu->mutex);
    	leaf(vcpu->kvm);
    	take_slots(vcpu->kvm);
    	mutex_unlock(&vcpu->mutex);
    }

    void ioctl(struct kvm_vcpu *vcpu)
    {
    	in_vcpu(vcpu);
    }
    """

LEAF_TAKES_KVM_LOCK = HELPERS.replace(
    "int y = 2;", "mutex_lock(&kvm->lock);\n    \tmutex_unlock(&kvm->lock);"
)


def tree(helpers: str = HELPERS, callers: str = CALLERS) -> dict[str, str]:
    return {"/t/virt/kvm/helpers.c": helpers, "/t/virt/kvm/callers.c": callers}


def built(files: dict[str, str]) -> Workspace:
    workspace = Workspace(lambda _path: RULES)
    for record in records(files):
        workspace.set_file(record)
    workspace.findings()  # builds the index, the per-function findings and the cycles
    return workspace


def view(findings) -> list[tuple]:
    return sorted((f.path, f.span.line, f.span.column, f.rule, f.message) for f in findings)


def signatures(workspace: Workspace) -> dict:
    index = workspace.index
    return {key: summary.signature() for key, summary in index.summaries.items()}


def replace(workspace: Workspace, files: dict[str, str], path: str):
    (record,) = records({path: files[path]})
    return workspace.set_file(record)


def assert_same_as_fresh(workspace: Workspace, files: dict[str, str]) -> None:
    fresh = built(files)
    assert view(workspace.findings()) == view(fresh.findings())
    assert signatures(workspace) == signatures(fresh)
    assert workspace.index.summaries == fresh.index.summaries  # chains too: no cycles here


def test_edit_that_changes_nothing_the_index_reads_recomputes_nothing():
    workspace = built(tree())
    replace(workspace, tree(HELPERS.replace("int y = 2;", "int y = 3;")), "/t/virt/kvm/helpers.c")
    update = workspace.last_update
    assert update is not None
    assert (update.functions, update.summaries, update.recomputed) == (set(), set(), 0)


def test_edit_inside_a_leaf_that_keeps_its_summary_recomputes_one():
    workspace = built(tree())
    # A new call to a function outside the index: the leaf's record changes, not its summary.
    edited = tree(HELPERS.replace("int y = 2;", "int y = trace_leaf(kvm);"))
    paths = replace(workspace, edited, "/t/virt/kvm/helpers.c")
    update = workspace.last_update
    assert update is not None
    assert update.functions == {("/t/virt/kvm/helpers.c", "leaf", 0)}
    assert update.recomputed == 1
    assert update.summaries == set()
    assert paths == {"/t/virt/kvm/helpers.c"}
    assert_same_as_fresh(workspace, edited)


def test_edit_that_adds_a_lock_recomputes_the_leaf_and_its_callers():
    workspace = built(tree())
    assert view(workspace.findings()) == []
    edited = tree(LEAF_TAKES_KVM_LOCK)
    paths = replace(workspace, edited, "/t/virt/kvm/helpers.c")
    update = workspace.last_update
    assert update is not None
    # leaf, then in_vcpu (now takes kvm->lock through it), then ioctl: three of four.
    assert update.recomputed == 3
    assert {key[1] for key in update.summaries} == {"leaf", "in_vcpu", "ioctl"}
    assert paths == {"/t/virt/kvm/helpers.c", "/t/virt/kvm/callers.c"}
    (finding,) = workspace.findings(["/t/virt/kvm/callers.c"])
    assert finding.rule == "lock-order"
    assert "leaf(vcpu->kvm) takes kvm->lock" in finding.message
    assert_same_as_fresh(workspace, edited)


def test_callee_that_stops_taking_the_lock_clears_the_callers_finding():
    workspace = built(tree(LEAF_TAKES_KVM_LOCK))
    assert [f.rule for f in workspace.findings()] == ["lock-order"]
    replace(workspace, tree(), "/t/virt/kvm/helpers.c")
    assert workspace.findings() == []
    assert_same_as_fresh(workspace, tree())


def test_lines_moving_above_a_caller_renumber_its_findings():
    workspace = built(tree(LEAF_TAKES_KVM_LOCK))
    moved = tree(LEAF_TAKES_KVM_LOCK, "\n\n" + CALLERS)
    replace(workspace, moved, "/t/virt/kvm/callers.c")
    (finding,) = workspace.findings()
    assert finding.span.line == 6
    assert_same_as_fresh(workspace, moved)


EXTRA = """
    void extra(struct kvm *kvm)
    {
    	mutex_lock(&kvm->slots_lock);
    	mutex_unlock(&kvm->slots_lock);
    }
    """

CALLS_EXTRA = CALLERS.replace("in_vcpu(vcpu);", "in_vcpu(vcpu);\n    \textra(vcpu->kvm);")


def test_a_new_function_rebinds_only_the_calls_that_name_it():
    workspace = built(tree(callers=CALLS_EXTRA))
    assert workspace.index.calls[("/t/virt/kvm/callers.c", "ioctl", 0)][1].targets.keys == ()
    added = tree(LEAF_TAKES_KVM_LOCK + EXTRA, CALLS_EXTRA)
    paths = replace(workspace, added, "/t/virt/kvm/helpers.c")
    assert paths == {"/t/virt/kvm/helpers.c", "/t/virt/kvm/callers.c"}
    update = workspace.last_update
    assert update is not None and update.rebound
    # leaf changed (it takes kvm->lock now), extra is new, ioctl's call now binds to it.
    assert {key[1] for key in update.functions} == {"leaf", "extra", "ioctl"}
    assert_same_as_fresh(workspace, added)
    removed = tree(LEAF_TAKES_KVM_LOCK, CALLS_EXTRA)
    replace(workspace, removed, "/t/virt/kvm/helpers.c")
    assert workspace.last_update is not None
    assert workspace.last_update.removed == {("/t/virt/kvm/helpers.c", "extra", 0)}
    assert_same_as_fresh(workspace, removed)


RECURSIVE = {
    "/t/virt/kvm/walk.c": """\
    void walk_b(struct kvm *kvm, int n);

    void take(struct kvm *kvm)
    {
    	mutex_lock(&kvm->lock);
    	mutex_unlock(&kvm->lock);
    }

    void walk_a(struct kvm *kvm, int n)
    {
    	if (n)
    		walk_b(kvm, n - 1);
    	take(kvm);
    }

    void walk_b(struct kvm *kvm, int n)
    {
    	walk_a(kvm, n);
    }
    """,
}


def test_a_fact_lost_by_a_callee_does_not_keep_itself_alive_around_a_cycle():
    workspace = built(RECURSIVE)
    b = workspace.summary("/t/virt/kvm/walk.c", "walk_b")
    assert b is not None and "kvm->lock" in b.acquires
    quiet = {"/t/virt/kvm/walk.c": RECURSIVE["/t/virt/kvm/walk.c"].replace("mutex_", "// ")}
    replace(workspace, quiet, "/t/virt/kvm/walk.c")
    for name in ("walk_a", "walk_b", "take"):
        summary = workspace.summary("/t/virt/kvm/walk.c", name)
        assert summary is not None and summary.acquires == {}
    assert signatures(workspace) == signatures(built(quiet))


def test_typing_in_a_live_document_recomputes_only_the_edited_function():
    """The language server's path: per-function cache, records reused by identity."""
    path = "/t/virt/kvm/helpers.c"
    text = textwrap.dedent(HELPERS.replace("int y = 2;", "int y = trace_leaf(kvm);")).encode()
    live = LiveDocument(path)
    builder = RecordBuilder()
    enabled = Workspace(lambda _path: RULES).enabled
    live.update(text, RULES, enabled)
    first = builder.build(live.parsed, live.results)
    workspace = Workspace(lambda _path: RULES)
    workspace.set_file(first)
    workspace.set_file(records({"/t/virt/kvm/callers.c": CALLERS})[0])
    workspace.findings()

    at = text.index(b"trace_leaf") + len(b"trace_leaf")  # typing into the callee's name
    for step, typed in enumerate((b"y", b"yy", b"yyy")):
        live.update(text[:at] + typed + text[at:], RULES, enabled)
        record = builder.build(live.parsed, live.results)
        assert record.functions[0] is first.functions[0]  # take_slots: same object
        workspace.set_file(record)
        assert workspace.last_update is not None
        assert workspace.last_update.recomputed == 1, step
        assert workspace.last_update.summaries == set()


def test_newlines_above_functions_move_them_without_recomputing_summaries():
    """Typing Enter above functions moves them: no summary is recomputed, and findings in
    another file whose chain runs through them name the new lines."""
    path = "/t/virt/kvm/helpers.c"
    text = textwrap.dedent(LEAF_TAKES_KVM_LOCK).encode()
    live = LiveDocument(path)
    builder = RecordBuilder()
    enabled = Workspace(lambda _path: RULES).enabled
    live.update(text, RULES, enabled)
    workspace = Workspace(lambda _path: RULES)
    workspace.set_file(builder.build(live.parsed, live.results))
    workspace.set_file(records({"/t/virt/kvm/callers.c": CALLERS})[0])
    (before,) = workspace.findings()
    assert "via leaf at helpers.c:9" in before.message

    for lines in range(1, 4):
        moved = b"\n" * lines + text
        live.update(moved, RULES, enabled)
        paths = workspace.set_file(builder.build(live.parsed, live.results))
        assert paths is not None and "/t/virt/kvm/callers.c" in paths  # its message changed
        update = workspace.last_update
        assert update is not None
        assert update.recomputed == 0
        assert update.moved == {(path, "take_slots", 0), (path, "leaf", 0)}
        (finding,) = workspace.findings()
        assert f"via leaf at helpers.c:{9 + lines}" in finding.message
        files = {path: moved.decode(), "/t/virt/kvm/callers.c": textwrap.dedent(CALLERS)}
        fresh = Workspace(lambda _path: RULES)
        for record in records(files):
            fresh.set_file(record)
        assert view(workspace.findings()) == view(fresh.findings())
        assert workspace.index.summaries == fresh.index.summaries


CYCLE = {
    "/t/virt/kvm/first.c": """\
    void inner(struct kvm *kvm)
    {
    	mutex_lock(&kvm->first_lock);
    	mutex_unlock(&kvm->first_lock);
    }

    void one(struct kvm *kvm)
    {
    	mutex_lock(&kvm->first_lock);
    	mutex_lock(&kvm->second_lock);
    	mutex_unlock(&kvm->second_lock);
    	mutex_unlock(&kvm->first_lock);
    }
    """,
    "/t/virt/kvm/second.c": """\
    void two(struct kvm *kvm)
    {
    	mutex_lock(&kvm->second_lock);
    	inner(kvm);
    	mutex_unlock(&kvm->second_lock);
    }
    """,
}


def test_an_order_cycle_through_a_call_comes_and_goes_with_the_callee():
    workspace = built(CYCLE)
    assert [f.rule for f in workspace.findings()] == ["order-cycle"]
    path = "/t/virt/kvm/first.c"
    # inner() stops taking first_lock: the nesting second → first through the call goes.
    taken = "mutex_lock(&kvm->first_lock);\n    \tmutex_unlock"
    quiet_inner = CYCLE[path].replace(taken, "trace", 1)
    broken = {**CYCLE, path: quiet_inner}
    assert broken[path] != CYCLE[path]
    paths = replace(workspace, broken, path)
    assert workspace.findings() == []
    assert paths is not None and path in paths
    assert_same_as_fresh(workspace, broken)
    replace(workspace, CYCLE, path)
    assert [f.rule for f in workspace.findings()] == ["order-cycle"]
    assert_same_as_fresh(workspace, CYCLE)


def test_a_file_added_and_removed_updates_the_index_in_place():
    workspace = built({"/t/virt/kvm/callers.c": CALLERS})
    assert workspace.findings() == []
    index = workspace.index
    (record,) = records({"/t/virt/kvm/helpers.c": LEAF_TAKES_KVM_LOCK})
    paths = workspace.set_file(record)
    assert workspace.index is index  # not rebuilt
    assert paths == {"/t/virt/kvm/helpers.c", "/t/virt/kvm/callers.c"}
    assert [f.rule for f in workspace.findings()] == ["lock-order"]
    assert_same_as_fresh(workspace, tree(LEAF_TAKES_KVM_LOCK))
    assert workspace.remove_file("/t/virt/kvm/helpers.c") == {
        "/t/virt/kvm/helpers.c",
        "/t/virt/kvm/callers.c",
    }
    assert workspace.index is index
    assert workspace.findings() == []
    assert_same_as_fresh(workspace, {"/t/virt/kvm/callers.c": CALLERS})
