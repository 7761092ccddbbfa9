from __future__ import annotations

from kvmlock.syntax.document import parse_document


def test_line_col_and_original() -> None:
    src = b"int a;\n\tkvm_for_each_vcpu(i, v, k) {\n}\n"
    doc = parse_document("d.c", src)
    assert doc.line_col(0) == (1, 1)
    assert doc.line_col(6) == (1, 7)
    assert doc.line_col(7) == (2, 1)
    assert doc.line_col(8) == (2, 2)
    assert doc.byte_at(2, 2) == 8
    assert doc.macro_name_at(8) == "kvm_for_each_vcpu"
    decl = doc.root.children[0]
    assert doc.original(decl) == "int a;"


def test_original_reads_pre_rewrite_text() -> None:
    src = b"static int __init f(void)\n{\n\treturn 0;\n}\n"
    doc = parse_document("d.c", src)
    (fn,) = doc.functions
    assert "__init" in doc.original(fn.node)
    assert b"__init" not in doc.text
    assert doc.was_rewritten(fn.node)


def test_replace_resets_derived_state() -> None:
    doc = parse_document("d.c", b"void a(void)\n{\n}\n")
    assert [f.name for f in doc.functions] == ["a"]
    doc.replace(b"void b(void)\n{\n}\nvoid c(void)\n{\n}\n")
    assert [f.name for f in doc.functions] == ["b", "c"]
    assert doc.line_col(doc.functions[1].start_byte) == (4, 1)
