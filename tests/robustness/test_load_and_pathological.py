"""Load through the real server, and C that tries to break the analysis: bounded time, a
clear message when a function is given up, the rest of the file still checked."""

from __future__ import annotations

from lsp_text import LOCKED_TWICE
from rpc_client import RawClient

from kvmlock.analysis.engine import analyse_document
from kvmlock.rules.builtin import builtin_rule_base
from kvmlock.syntax.document import parse_document

RULES = builtin_rule_base()


def check(source: bytes):
    return analyse_document(parse_document("virt/kvm/p.c", source), RULES)


def test_thousand_changes_are_coalesced_and_end_correct():
    client = RawClient()
    try:
        client.initialize()
        uri = "file:///load/a.c"
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "c", "version": 1, "text": LOCKED_TWICE}})
        for version in range(2, 1002):
            # Type and delete a space at the start of line 3, a thousand times.
            text = " " if version % 2 == 0 else ""
            start = {"line": 2, "character": 0}
            end = {"line": 2, "character": 0 if version % 2 == 0 else 1}
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": start, "end": end}, "text": text}]})
        final = client.wait(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"].get("version") == 1001, timeout=60)
        assert [d["code"] for d in final["params"]["diagnostics"]] == ["double-lock"]
        stats = client.response(client.request(
            "workspace/executeCommand", {"command": "kvmlock.serverStats"}))["result"]
        assert stats["analyses"] < 100  # coalesced by the debounce
        # Nothing kept per notification (pygls held a future for each one, never released).
        assert stats["inFlight"] <= 2
        client.response(client.request("shutdown"))
        client.notify("exit")
        assert client.proc.wait(timeout=10) == 0
    finally:
        client.close()


def test_deep_nesting_gives_up_one_function_with_a_message():
    nested = b"{\n" * 10_000 + b"mutex_lock(&kvm->lock);\n" + b"}\n" * 10_000
    source = (
        b"static void deep(struct kvm *kvm)\n{\n" + nested + b"}\n"
        + b"static void fine(struct kvm *kvm)\n{\n\tmutex_lock(&kvm->lock);\n"
        + b"\tmutex_lock(&kvm->lock);\n}\n"
    )
    findings = check(source)
    skipped = [f for f in findings if f.rule == "analysis-skipped"]
    assert [f.function for f in skipped] == ["deep"]
    assert "not analysed" in skipped[0].message and "rest of the file" in skipped[0].message
    assert [(f.rule, f.function) for f in findings if f.rule != "analysis-skipped"] == [
        ("double-lock", "fine")
    ]


def test_long_function_and_large_file_stay_linear():
    # `x > N`, not `x == N`: tests of the same variable against different constants exclude
    # each other (the walker's facts), and no lock taken under one is held under the next.
    body = b"".join(
        b"\tif (x > %d)\n\t\tmutex_lock(&kvm->lock);\n\telse\n\t\tmutex_unlock(&kvm->lock);\n" % i
        for i in range(2_500)
    )
    findings = check(b"static void big(struct kvm *kvm, int x)\n{\n" + body + b"}\n")
    assert findings and {f.rule for f in findings} <= {"double-lock", "unlock-unheld"}
    many = b"".join(
        b"static int f%d(struct kvm *kvm)\n{\n\tmutex_lock(&kvm->lock);\n\tif (kvm->x)\n"
        b"\t\treturn -EINVAL;\n\tmutex_unlock(&kvm->lock);\n\treturn 0;\n}\n\n" % i
        for i in range(8_000)
    )
    assert len(many) > 1_000_000
    assert len([f for f in check(many) if f.rule == "lock-leak"]) == 8_000


def test_unterminated_comment_and_macro_soup_do_not_crash():
    # Everything after an unterminated comment is comment: nothing to report, nothing raised.
    never_closed = b"/* open\nstatic void f(struct kvm *kvm)\n{\n\tmutex_lock(&kvm->lock);\n"
    assert check(never_closed) == []
    soup = b"FOO(BAR, {) static BAZ(1 2 3) {{{ ;;; }\n#if\n#endif\n" * 300
    assert check(soup) == []
