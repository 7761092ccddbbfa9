"""Random editor changes for the edit fuzz (tests/robustness/test_edit_fuzz.py) and the soak
(benchmarks/soak.py): the kinds of edit, LSP changes with positions in UTF-16 code units, and
a model of the text to check the server's bytes against.

The model is a Python `str` and knows nothing of the server's byte offsets: a position is
(line, UTF-16 units into the line) with lines split at "\\n", a "\\r" before it not part of
the line, and positions past a line's end or past the last line clamped, as the LSP
specification asks. Every choice goes through `choose(lo, hi)` (both inclusive), so a
hypothesis `draw` and a `random.Random` drive the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Choose = Callable[[int, int], int]
Change = dict  # an LSP content change as JSON: {"range": ..., "text": ...} or {"text": ...}

SINGLE = ["x", ";", " ", "\n", "(", ")", "*", "/", "\\", "#", '"', "'", "\t", "_", "&", "-"]
MULTIBYTE = ["é", "😀", "€", "naïve", "😀😀", "/* 😀 é */", "// ünïcödé 😀\n", '"é😀"']
BRACES = ["{", "}", "{\n", "}\n", "{}", "\n}\n"]
DIRECTIVES = [
    "#if 0\n",
    "#ifdef CONFIG_X86_64\n",
    "#ifndef CONFIG_KVM_SMM\n",
    "#if defined(CONFIG_KVM_XEN) && \\\n",
    "#else\n",
    "#elif IS_ENABLED(CONFIG_PROVE_LOCKING)\n",
    "#endif\n",
    "#endif /* CONFIG_X86_64 */\n",
    "#define KVM_FUZZ_LOCK(k) mutex_lock(&(k)->lock)\n",
    "#include <linux/kvm_host.h>\n",
]
STATEMENTS = [
    "\tmutex_lock(&kvm->lock);\n",
    "\tmutex_unlock(&kvm->lock);\n",
    "\tmutex_lock(&vcpu->mutex);\n",
    "\tmutex_lock(&kvm->slots_lock);\n",
    "\tspin_lock(&kvm->mmu_lock);\n",
    "\twrite_lock(&kvm->mmu_lock);\n",
    "\tidx = srcu_read_lock(&kvm->srcu);\n",
    "\tsrcu_read_unlock(&kvm->srcu, idx);\n",
    "\tsynchronize_srcu(&kvm->srcu);\n",
    "\tguard(mutex)(&kvm->lock);\n",
    "\tscoped_guard(spinlock, &kvm->mmu_lock) {\n",
    "\treturn -EINVAL;\n",
    "\tgoto out_unlock;\n",
    "out_unlock:\n",
    "\tkvm_for_each_vcpu(i, vcpu, kvm) {\n",
]
# Whole functions in kernel style, written for these tests.
FUNCTIONS = [
    """static int fuzz_set_attr(struct kvm *kvm, u64 attr)
{
	int r = -ENXIO;

	mutex_lock(&kvm->lock);
	mutex_lock(&kvm->slots_lock);
	if (attr > KVM_FUZZ_MAX)
		goto out;
	r = fuzz_apply(kvm, attr);
out:
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&kvm->lock);
	return r;
}
""",
    """static void fuzz_kick_all(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	/* Réveille chaque vCPU 😀 */
	kvm_for_each_vcpu(i, vcpu, kvm) {
		mutex_lock(&vcpu->mutex);
		mutex_lock(&kvm->lock);
		mutex_unlock(&kvm->lock);
		mutex_unlock(&vcpu->mutex);
	}
}
""",
    """static long fuzz_ioctl(struct kvm_vcpu *vcpu, unsigned int ioctl)
{
	int idx = srcu_read_lock(&vcpu->kvm->srcu);

	scoped_guard(mutex, &vcpu->kvm->slots_lock) {
		if (ioctl == 0)
			return -EINVAL;
	}
	srcu_read_unlock(&vcpu->kvm->srcu, idx);
	return 0;
}
""",
    """static bool fuzz_zap(struct kvm *kvm)
{
	bool flush = false;

	write_lock(&kvm->mmu_lock);
#ifdef CONFIG_X86_64
	flush = fuzz_zap_tdp(kvm);
#else
	spin_lock(&kvm->mmu_lock);
#endif
	write_unlock(&kvm->mmu_lock);
	synchronize_srcu(&kvm->srcu);
	return flush;
}
""",
]

# name, weight
KINDS: list[tuple[str, int]] = [
    ("insert-char", 8),
    ("delete-char", 6),
    ("delete-span", 4),
    ("replace-span", 3),
    ("multibyte", 5),
    ("brace", 4),
    ("directive", 4),
    ("statement", 4),
    ("paste-function", 2),
    ("paste-file", 1),
    ("replace-all", 1),
    ("delete-all", 1),
    ("past-end", 1),
    ("crlf", 1),
]


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _content(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def position_of(text: str, index: int) -> dict:
    """The LSP position (UTF-16) of code point `index` of `text`."""
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return {"line": line, "character": utf16_units(text[start:index])}


def index_of(text: str, position: dict) -> int:
    """The code point index of an LSP position (UTF-16), clamped as the specification asks."""
    lines = _lines(text)
    line, character = position["line"], position["character"]
    if line < 0:
        return 0
    if line >= len(lines):
        return len(text)
    start = sum(len(x) + 1 for x in lines[:line])
    units = 0
    content = _content(lines[line])
    for offset, char in enumerate(content):
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > character:
            return start + offset
        units += width
    return start + len(content)


def apply_change(text: str, change: Change) -> str:
    if "range" not in change:
        return change["text"]
    start = index_of(text, change["range"]["start"])
    end = index_of(text, change["range"]["end"])
    if end < start:
        start, end = end, start
    return text[:start] + change["text"] + text[end:]


def _range(text: str, start: int, end: int, new: str) -> Change:
    span = {"start": position_of(text, start), "end": position_of(text, end)}
    return {"range": span, "text": new}


def _pick(choose: Choose, items: Sequence):
    return items[choose(0, len(items) - 1)]


def _at(text: str, choose: Choose) -> int:
    """A position: anywhere, or beside a non-ASCII character when the text has one (where
    UTF-16, UTF-8 and code point offsets differ)."""
    if choose(0, 3) == 3:
        wide = [i for i, c in enumerate(text) if ord(c) > 0x7F]
        if wide:
            return _pick(choose, wide) + choose(0, 1)
    return choose(0, len(text))


def _line_start(text: str, choose: Choose) -> int:
    lines = _lines(text)
    line = choose(0, len(lines) - 1)
    return sum(len(x) + 1 for x in lines[:line])


def _full(text: str, new: str, choose: Choose) -> Change:
    """Replace everything: a whole-document change or a range over all of it."""
    if choose(0, 1):
        return {"text": new}
    return _range(text, 0, len(text), new)


def _kind(roll: int) -> str:
    for kind, weight in KINDS:
        if roll < weight:
            return kind
        roll -= weight
    raise ValueError(roll)


def make_edit(text: str, choose: Choose, donors: Sequence[str]) -> tuple[str, Change]:
    """One random change to `text`: its kind and the LSP change. `donors` are whole files to
    paste."""
    kind = _kind(choose(0, sum(w for _, w in KINDS) - 1))
    if kind == "insert-char":
        at = _at(text, choose)
        return kind, _range(text, at, at, _pick(choose, SINGLE))
    if kind == "delete-char":
        at = _at(text, choose)
        return kind, _range(text, at, min(len(text), at + 1), "")
    if kind in ("delete-span", "replace-span"):
        at = _at(text, choose)
        end = min(len(text), at + choose(1, 40))
        pool = SINGLE + MULTIBYTE + BRACES + STATEMENTS
        new = _pick(choose, pool) if kind == "replace-span" else ""
        return kind, _range(text, at, end, new)
    if kind == "multibyte":
        at = _at(text, choose)
        return kind, _range(text, at, at, _pick(choose, MULTIBYTE))
    if kind == "brace":
        at = _at(text, choose)
        return kind, _range(text, at, at, _pick(choose, BRACES))
    if kind in ("directive", "statement", "paste-function"):
        at = _line_start(text, choose)
        pool = {"directive": DIRECTIVES, "statement": STATEMENTS, "paste-function": FUNCTIONS}
        return kind, _range(text, at, at, _pick(choose, pool[kind]))
    if kind == "paste-file":
        at = _at(text, choose)
        return kind, _range(text, at, at, _pick(choose, donors))
    if kind == "replace-all":
        return kind, _full(text, _pick(choose, donors), choose)
    if kind == "delete-all":
        return kind, _full(text, "", choose)
    if kind == "past-end":
        lines = _lines(text)
        line = choose(0, len(lines) + 2)
        point = {"line": line, "character": choose(0, 400)}
        return kind, {"range": {"start": point, "end": point}, "text": _pick(choose, SINGLE)}
    at = _at(text, choose)  # crlf
    return kind, _range(text, at, at, "\r\n")
