from kvmlock.syntax.document import parse_document


def test_parse_and_index_simple_file() -> None:
    src = b"static int a(struct kvm *kvm)\n__must_hold(&kvm->lock)\n{\n\treturn 0;\n}\n"
    doc = parse_document("a.c", src)
    assert not doc.tree.root_node.has_error
    (fn,) = doc.functions
    assert fn.name == "a"
    assert fn.is_static
    assert [a.kind for a in fn.annotations] == ["__must_hold"]
