from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_helpers import FIXTURES, problems, walk

from kvmlock.syntax.document import parse_document
from kvmlock.syntax.rewrite import macro_name_at, rewrite


def _body(code: str) -> bytes:
    return ("void f(struct kvm *kvm)\n{\n" + code + "\n}\n").encode()


def test_length_and_newlines_preserved_on_fixture() -> None:
    src = (FIXTURES / "kernel_style.c").read_bytes()
    out = rewrite(src).text
    assert len(out) == len(src)
    assert [i for i, b in enumerate(out) if b in (10, 13)] == [
        i for i, b in enumerate(src) if b in (10, 13)
    ]


_PIECES = st.sampled_from(
    [
        "scoped_guard(mutex, &l) {",
        "scoped_cond_guard(mutex_intr, return -EINTR, &l)",
        "kvm_for_each_vcpu(i, v, k)",
        "list_for_each_entry(p, h, m) *x += 1;",
        "__must_hold(&kvm->lock)",
        "__acquires(",
        "container_of(p, struct kvm, arch)",
        "static DEFINE_PER_CPU(u64, x);",
        "case 1 ... 3:",
        "/* comment scoped_guard( */",
        "// line kvm_for_each_vcpu(a, b, c) {\n",
        '"string __must_hold(x) \\" still"',
        "'\\''",
        "\n#ifdef CONFIG_X\n",
        "\n#else\n",
        "\n#endif\n",
        "#define M(x) \\\n  x\n",
        "(",
        ")",
        "{",
        "}",
        ";",
        "||",
        "\r\n",
        "\t",
        " ",
        "offsetof(struct a, b[1])",
        "BUILD_HELPER(read)\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40))
def test_length_and_newlines_preserved_property(parts: list[str]) -> None:
    src = "".join(parts).encode("utf-8", "surrogatepass")
    out = rewrite(src).text
    assert len(out) == len(src)
    for a, b in zip(src, out, strict=True):
        if a in (10, 13) or b in (10, 13):
            assert a == b


def test_comments_and_strings_untouched() -> None:
    src = (
        b"/* scoped_guard(mutex, &l) { kvm_for_each_vcpu(i, v, k) { __must_hold(x) */\n"
        b"// list_for_each_entry(a, b, c) {\n"
        b'static const char *s = "__user scoped_guard(mutex, &l) {";\n'
        b"static const char c = '{';\n"
    )
    result = rewrite(src)
    assert result.text == src
    assert result.annotations == []


def test_annotations_recorded_then_blanked() -> None:
    src = (
        b"static void lock_it(struct s *s)\n\t__acquires(&s->lock);\n"
        b"static int held(struct kvm *kvm)\n__must_hold(&kvm->lock)\n{\n\treturn 0;\n}\n"
        b"bool try_it(struct s *s) __cond_acquires(true, &s->lock);\n"
    )
    result = rewrite(src)
    kinds = [(a.kind, a.argument) for a in result.annotations]
    assert kinds == [
        ("__acquires", "&s->lock"),
        ("__must_hold", "&kvm->lock"),
        ("__cond_acquires", "true, &s->lock"),
    ]
    for a in result.annotations:
        assert src[a.start_byte : a.end_byte].startswith(a.kind.encode())
        assert result.text[a.start_byte : a.end_byte].strip() == b""
    assert not parse_document("a.c", src).root.has_error


def test_attribute_words_blanked() -> None:
    src = (
        b"static bool __read_mostly x;\nstatic int y __ro_after_init;\n"
        b"static __always_inline int __init f(void __user *p, void __iomem *q) { return 0; }\n"
        b"void noinstr g(struct s __rcu *r) { u64 __free(kfree) *b = NULL; }\n"
        b"struct a { int x; } __aligned(64);\n"
        b"void __weak __maybe_unused h(int __percpu *p) {}\n"
    )
    out = rewrite(src).text
    for word in (b"__read_mostly", b"__ro_after_init", b"__always_inline", b"__user", b"__free",
                 b"__aligned", b"noinstr", b"__weak", b"__percpu", b"__rcu", b"__iomem"):
        assert word not in out
    assert problems(parse_document("a.c", src).root) == []


def _node_types_at(doc, text: bytes) -> list[str]:
    pos = doc.source.index(text)
    return [n.type for n in walk(doc.root) if n.start_byte == pos]


def test_braced_loop_macro_becomes_while() -> None:
    src = _body("\tkvm_for_each_vcpu(i, vcpu, kvm) {\n\t\tmutex_lock(&vcpu->mutex);\n\t}")
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    assert "while_statement" in _node_types_at(doc, b"kvm_for_each_vcpu")
    loop = next(n for n in walk(doc.root) if n.type == "while_statement")
    assert doc.macro_name_at(loop.start_byte) == "kvm_for_each_vcpu"
    body = loop.child_by_field_name("body")
    assert body is not None and body.type == "compound_statement"
    assert "mutex_lock" in doc.original(body)
    assert doc.text[loop.start_byte : loop.start_byte + 18] == b"while" + b" " * 12 + b"("


def test_unbraced_loop_macro_is_not_a_multiplication() -> None:
    src = _body("\tkvm_for_each_vcpu(i, vcpu, kvm)\n\t\t*val += vcpu->x;\n\treturn;")
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    loop = next(n for n in walk(doc.root) if n.type == "while_statement")
    body = loop.child_by_field_name("body")
    assert body is not None and body.type == "expression_statement"
    assert doc.original(body) == "*val += vcpu->x;"
    assert not any(n.type == "binary_expression" and "*" in doc.original(n)
                   for n in walk(doc.root))


def test_for_each_online_cpu_is_not_a_nested_function() -> None:
    src = _body("\tint cpu;\n\n\tfor_each_online_cpu(cpu) {\n\t\tkick(cpu);\n\t}\n\tdone();")
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    assert [n.type for n in walk(doc.root)].count("function_definition") == 1
    assert [f.name for f in doc.functions] == ["f"]


def test_nested_and_else_loop_macros() -> None:
    src = _body(
        "\tif (x)\n\t\tlist_for_each_entry(a, &h, node)\n\t\t\tlist_for_each_entry(b, &a->h, n)"
        " {\n\t\t\t\tuse(b);\n\t\t\t}\n\telse\n\t\txa_for_each(&xa, idx, e)\n\t\t\tuse(e);"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    assert [n.type for n in walk(doc.root)].count("while_statement") == 3


def test_loop_macro_call_as_statement_is_left_alone() -> None:
    # A macro call ending in `;` and a name in a definition head are not loops.
    src = (b"void kvm_for_each_thing(struct kvm *kvm)\n{\n\tlist_for_each_helper(a, b);\n}\n")
    assert rewrite(src).text == src


def test_scoped_guard_braced_and_unbraced() -> None:
    src = _body(
        "\tscoped_guard(spinlock_irqsave, &kvm->lock) {\n\t\ta();\n\t}\n"
        "\tscoped_guard(mutex, &kvm->slots_lock)\n\t\tb();\n\tc();"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    ifs = [n for n in walk(doc.root) if n.type == "if_statement"]
    assert [doc.macro_name_at(n.start_byte) for n in ifs] == ["scoped_guard", "scoped_guard"]
    bodies = [n.child_by_field_name("consequence") for n in ifs]
    assert [b.type for b in bodies] == ["compound_statement", "expression_statement"]
    assert doc.original(bodies[1]) == "b();"


def test_scoped_cond_guard_blanks_fail_statement() -> None:
    src = _body(
        "\tscoped_cond_guard(mutex_intr, return -EINTR, &kvm->lock) {\n\t\ta();\n\t}\n\treturn 0;"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    (node,) = [n for n in walk(doc.root) if n.type == "if_statement"]
    assert doc.macro_name_at(node.start_byte) == "scoped_cond_guard"
    cond = node.child_by_field_name("condition")
    assert b"return" not in doc.text[cond.start_byte : cond.end_byte]
    assert "return -EINTR" in doc.original(cond)
    assert b"&kvm->lock" in doc.text[cond.start_byte : cond.end_byte]


def test_container_of_with_struct_type_parses_as_call() -> None:
    src = _body(
        "\tstruct vcpu_svm *svm = container_of(vcpu, struct vcpu_svm, vcpu);\n"
        "\tstruct kvm_arch *ka = container_of(dwork, struct kvm_arch,\n\t\t\t\t\t   work);\n"
        "\tx = list_first_entry_or_null(&h, struct item, node);\n"
        "\ty = min_t(unsigned long, a, b);\n"
        "\tz = offsetof(struct hv, msg[1].header) + sizeof(struct hv);"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    assert b"container_of(vcpu,        vcpu_svm, vcpu)" in doc.text
    assert b"min_t(unsigned_long, a, b)" in doc.text
    assert b"sizeof(struct hv)" in doc.text  # the grammar handles sizeof(type) itself


def test_casts_and_prototypes_keep_their_types() -> None:
    src = b"int f(struct kvm *, int);\nvoid g(void)\n{\n\tp = (struct kvm *)q;\n}\n"
    assert rewrite(src).text == src


def test_case_ranges_and_per_cpu() -> None:
    src = (
        b"static DEFINE_PER_CPU(struct kvm_vcpu *, cur_vcpu);\n"
        b"static DECLARE_BITMAP(ids, 64);\n"
        + _body("\tswitch (m) {\n\tcase MSR_A ... MSR_A + 3:\n\t\treturn 1;\n\t}\n\treturn 0;")
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    decl = doc.root.children[0]
    assert decl.type == "declaration"
    assert "cur_vcpu" in doc.text[decl.start_byte : decl.end_byte].decode()


def test_ifdef_inside_expression_keeps_first_branch() -> None:
    src = _body(
        "\tif (a ||\n#ifdef CONFIG_X86_64\n\t    b ||\n#else\n\t    c ||\n#endif\n\t    d)\n"
        "\t\treturn;\n\tx &=\n#ifdef CONFIG_Y\n\t\tFLAG_Y |\n#endif\n\t\tFLAG_Z;"
    )
    result = rewrite(src)
    assert b"#ifdef" not in result.text and b"c ||" not in result.text
    assert b"b ||" in result.text and b"FLAG_Y" in result.text
    assert problems(parse_document("a.c", src).root) == []


def test_statement_level_ifdef_is_kept() -> None:
    src = _body("#ifdef CONFIG_X\n\ta();\n#else\n\tb();\n#endif")
    assert rewrite(src).text == src


def test_macro_name_at() -> None:
    src = b"\tkvm_for_each_vcpu(i, v, k) {"
    assert macro_name_at(src, 1) == "kvm_for_each_vcpu"
    assert macro_name_at(src, 0) is None


def test_rewrite_is_fast_on_a_large_file() -> None:
    src = (FIXTURES / "kernel_style.c").read_bytes() * 60  # ~9000 lines
    rewrite(src)
    start = time.perf_counter()
    rewrite(src)
    assert time.perf_counter() - start < 0.25


def test_bitmap_fields_and_named_variadic_macros() -> None:
    src = (
        b"#define demo_dbg(fmt, args...) pr_debug(fmt, ## args)\n"
        b"struct demo {\n\tDECLARE_BITMAP(read, DEMO_MAX);\n\tDECLARE_HASHTABLE(h, 7);\n"
        b"\tint x;\n};\n"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    fields = [n for n in walk(doc.root) if n.type == "field_declaration"]
    assert [doc.text[f.start_byte : f.end_byte].split()[-2] for f in fields] == [
        b"read", b"h", b"int"
    ]


def test_unterminated_file_scope_macro_does_not_swallow_next_function() -> None:
    src = (
        b"BUILD_DEMO_HELPER(read)\nBUILD_DEMO_HELPER(write)\n\n"
        b"static int demo_after(void)\n{\n\treturn 0;\n}\n"
    )
    doc = parse_document("a.c", src)
    assert problems(doc.root) == []
    assert [f.name for f in doc.functions] == ["demo_after"]
