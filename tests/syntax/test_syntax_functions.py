from __future__ import annotations

from syntax_helpers import FIXTURES, problems

from kvmlock.syntax.document import SourceDocument, new_parser, parse_document
from kvmlock.syntax.functions import annotations_by_function, index_functions

KERNEL_STYLE_FUNCTIONS = [
    "to_demo_vm",
    "demo_count_vcpus",
    "demo_sum",
    "demo_init_cpus",
    "demo_exit_cpus",
    "demo_guarded",
    "demo_walk",
    "demo_classify",
    "demo_copy",
    "demo_arch_hook",
    "demo_mn_invalidate_start",
    "demo_mn_release",
]
IFDEF_FUNCTIONS = [
    "demo_wants_exit",
    "demo_first",
    "demo_second",
    "demo_third",
    "demo_fourth",
    "demo_fifth",
]


def _doc(name: str) -> SourceDocument:
    path = FIXTURES / name
    return parse_document(str(path), path.read_bytes())


def test_kernel_style_file_parses_without_errors() -> None:
    doc = _doc("kernel_style.c")
    assert [doc.line_col(n.start_byte) for n in problems(doc.root)] == []


def test_all_functions_found_once_with_bodies() -> None:
    doc = _doc("kernel_style.c")
    assert [f.name for f in doc.functions] == KERNEL_STYLE_FUNCTIONS
    for f in doc.functions:
        assert f.body.type == "compound_statement"
        assert doc.source[f.body.start_byte : f.body.start_byte + 1] == b"{"
        assert doc.source[f.body.end_byte - 1 : f.body.end_byte] == b"}"
        assert (f.start_byte, f.end_byte) == (f.node.start_byte, f.node.end_byte)
        assert not f.recovered


def test_function_details() -> None:
    doc = _doc("kernel_style.c")
    by_name = {f.name: f for f in doc.functions}
    count = by_name["demo_count_vcpus"]
    assert count.is_static
    assert [(a.kind, a.argument) for a in count.annotations] == [("__must_hold", "&kvm->lock")]
    assert [(p.type_text, p.name) for p in by_name["demo_sum"].parameters] == [
        ("struct kvm *", "kvm"),
        ("u64 *", "val"),
    ]
    assert by_name["demo_init_cpus"].parameters == []
    assert not by_name["demo_arch_hook"].is_static
    assert doc.line_col(count.start_byte) == (35, 1)


def test_prototype_annotations_by_name() -> None:
    doc = _doc("kernel_style.c")
    anns = annotations_by_function(doc)
    assert [a.kind for a in anns["demo_lock_items"]] == ["__acquires"]
    assert [a.kind for a in anns["demo_unlock_items"]] == ["__releases"]
    assert [a.kind for a in anns["demo_count_vcpus"]] == ["__must_hold"]


def test_ifdef_in_expression_file_yields_all_functions() -> None:
    doc = _doc("ifdef_in_expression.c")
    assert problems(doc.root) == []
    assert [f.name for f in doc.functions] == IFDEF_FUNCTIONS


def test_error_region_is_recovered_function_by_function() -> None:
    # Parse the same file without the rewrite: the #ifdef inside `||` makes one ERROR node
    # of everything after it. The index must still find every definition, at the right place.
    src = (FIXTURES / "ifdef_in_expression.c").read_bytes()
    tree = new_parser().parse(src)
    assert any(c.is_error for c in tree.root_node.children)
    raw = SourceDocument(path="raw.c", source=src, text=src, tree=tree, annotations=[])
    functions = index_functions(raw)
    assert [f.name for f in functions] == IFDEF_FUNCTIONS
    good = {f.name: f for f in _doc("ifdef_in_expression.c").functions}
    for f in functions:
        assert f.recovered
        assert (f.start_byte, f.end_byte) == (good[f.name].start_byte, good[f.name].end_byte)
        assert raw.original(f.body) == raw.original(good[f.name].body)
    assert len({(f.start_byte, f.end_byte) for f in functions}) == len(functions)


def test_functions_inside_preprocessor_blocks() -> None:
    src = (
        b"#ifdef CONFIG_A\nstatic int a(void)\n{\n\treturn 1;\n}\n#else\n"
        b"static int a(void)\n{\n\treturn 0;\n}\n#endif\n"
        b'#ifdef __cplusplus\nextern "C" {\n#endif\nint b(void)\n{\n\treturn 2;\n}\n'
        b"#ifdef __cplusplus\n}\n#endif\n"
    )
    doc = parse_document("p.c", src)
    names = [(f.name, doc.line_col(f.start_byte)[0]) for f in doc.functions]
    assert names == [("a", 2), ("a", 7), ("b", 15)]
