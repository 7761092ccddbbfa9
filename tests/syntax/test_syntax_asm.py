"""Macros pasted into asm statements are blanked so the statement parses; goto labels and
symbolic operand names stay."""

from __future__ import annotations

from kvmlock.syntax.document import parse_document

ASM = b"""static void f(struct x *st)
{
	int err;
	asm volatile("1: xchgb %0, %2\\n"
		     "2:\\n"
		     _ASM_EXTABLE_UA(1b, 2b)
		     : "+q" (st->flag),
		       [e] "+&r" (err)
		     : ASM_INPUT_RM (st->x));
	asm goto("jmp %l[out]" :::: out);
out:
	return;
}
"""


def test_asm_macros_are_blanked_and_the_function_parses():
    doc = parse_document("x.c", ASM)
    assert not doc.tree.root_node.has_error
    assert len(doc.text) == len(ASM)
    assert b"_ASM_EXTABLE_UA" not in doc.text and b"ASM_INPUT_RM" not in doc.text
    assert b"[e]" in doc.text and b":::: out" in doc.text
    assert [f.name for f in doc.functions] == ["f"]
