"""The reader never raises: editors hand it half-written, truncated or binary files."""

from __future__ import annotations

import random
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kvmlock.rules.locking_rst import load_locking_rst, read_locking_rst
from kvmlock.rules.model import RuleBase

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rst"
SHAPES_TEXT = (FIXTURES / "shapes.rst").read_text(encoding="utf-8")


def _sane(rb: RuleBase) -> None:
    assert isinstance(rb, RuleBase)
    for rule in rb.rules:
        assert rule.citation.line >= 1
        rule.statement()
    assert not any(p.startswith("reader stopped early") for p in rb.problems), rb.problems


def test_empty_and_blank() -> None:
    for text in ("", "\n\n   \n", "\r\n"):
        rb = read_locking_rst(text, "empty")
        _sane(rb)
        assert rb.rules == []
        assert rb.problems


def test_binary_noise() -> None:
    rng = random.Random(1)
    noise = bytes(rng.randrange(256) for _ in range(4096))
    rb = read_locking_rst(noise.decode("utf-8", errors="replace"), "noise")
    _sane(rb)
    assert any("control characters" in p for p in rb.problems)


def test_truncated_at_every_line() -> None:
    lines = SHAPES_TEXT.split("\n")
    for cut in range(len(lines)):
        _sane(read_locking_rst("\n".join(lines[:cut]), "truncated"))


def test_truncated_mid_sentence_keeps_earlier_rules() -> None:
    cut = SHAPES_TEXT.index("cannot be taken without")
    rb = read_locking_rst(SHAPES_TEXT[:cut], "cut")
    assert len(rb.rules) > 5


def test_shuffled_lines() -> None:
    lines = SHAPES_TEXT.split("\n")
    rng = random.Random(7)
    for _ in range(50):
        rng.shuffle(lines)
        _sane(read_locking_rst("\n".join(lines), "shuffled"))


def test_odd_structures() -> None:
    for text in (
        "-----\n-----\n",
        "Title\n---\n- \n-\n::\n\n   ::\n",
        "1. Acquisition Orders\n---\n- kvm->a_lock is taken outside\n",
        "1. Acquisition Orders\n---\nOn :\n- , and , are taken inside \n",
        "3. Reference\n---\n``x``\n^^^\n:Type:\n\t\n  - \n:::\n",
        "3. Reference\n---\n````\n^^^^\n",
        "x\n" * 3 + "\x00\x01\x02",
        "\ufeff1. Acquisition Orders\r\n---\r\n\r\n- kvm->a is taken outside kvm->b\r\n",
    ):
        _sane(read_locking_rst(text, "odd"))


def test_byte_order_mark_is_ignored() -> None:
    rb = read_locking_rst("\ufeff" + SHAPES_TEXT, "bom")
    assert rb.problems == []
    assert len(rb.rules) == len(read_locking_rst(SHAPES_TEXT, "plain").rules)


def test_crlf_line_endings_are_read() -> None:
    rb = read_locking_rst(SHAPES_TEXT.replace("\n", "\r\n"), "crlf")
    assert rb.problems == []
    assert len(rb.rules) == len(read_locking_rst(SHAPES_TEXT, "lf").rules)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text(text: str) -> None:
    _sane(read_locking_rst(text, "fuzz"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(SHAPES_TEXT.split("\n")), max_size=60))
def test_any_arrangement_of_real_lines(lines: list[str]) -> None:
    _sane(read_locking_rst("\n".join(lines), "fuzz"))


def test_load_missing_file(tmp_path: Path) -> None:
    rb = load_locking_rst(tmp_path / "nope.rst")
    assert rb.rules == []
    assert any("cannot read" in p for p in rb.problems)


def test_load_directory(tmp_path: Path) -> None:
    rb = load_locking_rst(tmp_path)
    assert any("cannot read" in p for p in rb.problems)


def test_load_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "locking.rst"
    path.write_bytes(SHAPES_TEXT.encode() + b"\n\xff\xfe broken bytes\n")
    rb = load_locking_rst(path)
    assert "not valid UTF-8" in rb.problems[0]
    assert len(rb.rules) == len(read_locking_rst(SHAPES_TEXT, "x").rules)


def test_hostile_long_lines_stay_fast() -> None:
    head = "1. Acquisition Orders\n---\n\n- "
    started = time.monotonic()
    for body in (
        "kvm->a_lock, " * 3000 + "is",
        " _a" * 20000,
        ("kvm->a_lock, " * 200 + "is\n\n- ") * 50,
        "synchronize_srcu(&kvm->srcu) is called inside critical sections for " + "kvm->a, " * 3000,
    ):
        _sane(read_locking_rst(head + body, "hostile"))
    assert time.monotonic() - started < 10
