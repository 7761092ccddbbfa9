"""Report formats: gcc-style text, the JSON contract, SARIF 2.1.0."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import BAD_ORDER, EXAMPLES, write_c

from kvmlock.analysis.checks import registry
from kvmlock.analysis.findings import Finding, Related, Span
from kvmlock.output.json_format import render_json
from kvmlock.output.sarif import render_sarif
from kvmlock.output.text import render_text
from kvmlock.rules.model import Citation

TEXT_LINE = re.compile(r"^.+:\d+:\d+: (error|warning|note): .+ \[[a-z-]+\]$")
FINDING_KEYS = {
    "path", "line", "column", "end_line", "end_column", "rule", "severity", "message", "citation",
}  # fmt: skip


def _finding(path: str, line: int, column: int, rule: str = "lock-order", **kw) -> Finding:
    span = Span(0, 1, line, column, line, column + 5)
    return Finding(path, span, rule, kw.pop("severity", "error"), kw.pop("message", "m"), **kw)


# --- text --------------------------------------------------------------------------------


def test_text_lines_are_gcc_style(cli) -> None:
    run = cli("check", "--no-color", EXAMPLES)
    lines = run.out.splitlines()
    assert len(lines) >= len(registry())
    for line in lines:
        assert TEXT_LINE.match(line), line


def test_text_maps_info_to_note_and_keeps_one_line() -> None:
    finding = _finding("a.c", 3, 7, "analysis-skipped", severity="info", message="two\nlines")
    assert render_text([finding]) == "a.c:3:7: note: two lines [analysis-skipped]\n"


def test_text_color_only_on_request() -> None:
    finding = _finding("a.c", 1, 1)
    assert "\033[" not in render_text([finding])
    assert "\033[" in render_text([finding], color=True)


# --- JSON --------------------------------------------------------------------------------


def test_json_shape_from_cli(cli, tmp_path: Path) -> None:
    write_c(tmp_path, "b.c", BAD_ORDER)
    write_c(tmp_path, "a.c", BAD_ORDER + "\n" + BAD_ORDER.replace("bad_order", "bad_too"))
    run = cli("check", "--format", "json", tmp_path)
    data = json.loads(run.out)
    assert set(data) == {"version", "findings"}
    assert data["version"] == 1
    findings = data["findings"]
    assert len(findings) >= 3
    for item in findings:
        assert set(item) == FINDING_KEYS
        assert item["line"] >= 1 and item["column"] >= 1
        assert (item["end_line"], item["end_column"]) >= (item["line"], item["column"])
        assert item["severity"] in ("error", "warning", "info")
        citation = item["citation"]
        assert citation is None or set(citation) == {"document", "section", "line"}
    order = [(f["path"], f["line"], f["column"]) for f in findings]
    assert order == sorted(order)
    assert findings[0]["path"].endswith("a.c")
    lock_order = next(f for f in findings if f["rule"] == "lock-order")
    assert lock_order["citation"] is not None
    assert isinstance(lock_order["citation"]["line"], int)


def test_json_sorts_and_serialises_citation() -> None:
    cite = Citation("Documentation/virt/kvm/locking.rst", 16, "1. Acquisition Orders")
    findings = [
        _finding("b.c", 1, 1),
        _finding("a.c", 9, 2, citation=cite),
        _finding("a.c", 9, 1, rule="lock-leak", severity="warning"),
        _finding("a.c", 2, 5),
    ]
    data = render_json(findings)
    assert [(f["path"], f["line"], f["column"]) for f in data["findings"]] == [
        ("a.c", 2, 5), ("a.c", 9, 1), ("a.c", 9, 2), ("b.c", 1, 1),
    ]  # fmt: skip
    assert data["findings"][2]["citation"] == {
        "document": "Documentation/virt/kvm/locking.rst",
        "section": "1. Acquisition Orders",
        "line": 16,
    }
    assert data["findings"][0]["citation"] is None
    json.dumps(data)


# --- SARIF -------------------------------------------------------------------------------


def _check_sarif(log: dict) -> None:
    assert log["version"] == "2.1.0"
    assert "sarif" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kvmlock"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert set(registry()) <= set(rule_ids)
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["helpUri"].endswith(f"docs/rules.md#{rule['id']}")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert result["ruleId"] == rule_ids[result["ruleIndex"]]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri and not uri.startswith("/")
        region = physical["region"]
        for key in ("startLine", "startColumn", "endLine", "endColumn"):
            assert isinstance(region[key], int) and region[key] >= 1
        for related in result["relatedLocations"]:
            assert related["message"]["text"]
        assert "citation" in result["properties"]


def test_sarif_from_cli(cli, monkeypatch, tmp_path: Path) -> None:
    write_c(tmp_path, "drivers/kvm_bad.c", BAD_ORDER)
    monkeypatch.chdir(tmp_path)
    run = cli("check", "--format", "sarif", ".")
    log = json.loads(run.out)
    _check_sarif(log)
    results = log["runs"][0]["results"]
    assert results
    first = results[0]
    assert first["ruleId"] == "lock-order"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "drivers/kvm_bad.c"
    )
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert first["properties"]["citation"]["line"] >= 1
    assert first["relatedLocations"], "the outer lock and the rule should be related locations"
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_related_locations_and_errors(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.c").write_text("int x;\n", encoding="utf-8")
    finding = _finding(
        "x.c", 1, 1,
        related=(
            Related("kvm->lock taken here", "x.c", 1, 5),
            Related("rule: built-in", "built-in pack (describes something)", 16),
        ),
    )  # fmt: skip
    log = render_sarif([finding], errors=["y.c: error: binary file, not checked"])
    _check_sarif(log)
    first, second = log["runs"][0]["results"][0]["relatedLocations"]
    assert first["physicalLocation"]["artifactLocation"]["uri"] == "x.c"
    assert first["physicalLocation"]["region"]["startColumn"] == 5
    assert "physicalLocation" not in second  # not a file a viewer could open
    assert "line 16" in second["message"]["text"]
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "y.c" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_lists_rules_outside_registry() -> None:
    log = render_sarif([_finding("x.c", 1, 1, "analysis-skipped", severity="info")])
    _check_sarif(log)
    assert log["runs"][0]["results"][0]["level"] == "note"


def test_sarif_against_schema_when_available(cli, tmp_path: Path) -> None:
    import pytest

    jsonschema = pytest.importorskip("jsonschema")
    candidates = [
        Path(__file__).parent / "sarif-schema-2.1.0.json",
        Path("/usr/share/sarif/sarif-schema-2.1.0.json"),
    ]
    schema_path = next((p for p in candidates if p.is_file()), None)
    if schema_path is None:
        pytest.skip("no local SARIF schema (nothing is downloaded at test time)")
    write_c(tmp_path, "bad.c", BAD_ORDER)
    log = json.loads(cli("check", "--format", "sarif", tmp_path).out)
    jsonschema.validate(log, json.loads(schema_path.read_text(encoding="utf-8")))
