"""What one file contributes to the workspace index: its functions' observations and the
function tables it initialises. Plain, picklable data built right after the per-file analysis."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.observations import Observations
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.functions import FunctionInfo
from kvmlock.syntax.initialisers import array_members, file_struct_variables, ops_assignments


@dataclass(frozen=True)
class FunctionRecord:
    path: str
    name: str
    is_static: bool
    line: int
    parameters: tuple[str, ...]
    observations: Observations
    ordinal: int = 0  # how many definitions of the same name come before it in the file
    # The analysis the observations come from (the language server's per-function cache):
    # two records with the same origin differ only by where the function now starts.
    origin: object = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> FunctionKey:
        # Not the line: an edit above a function moves it, and the language server must not
        # re-key (and so recompute) every function below each new line.
        return (self.path, self.name, self.ordinal)


FunctionKey = tuple[str, str, int]  # path, name, ordinal (#ifdef twins share a name)


@dataclass(frozen=True)
class TableEntry:
    """`.field = function` in `struct table = {...}`, or `[i] = function` in array `table`."""

    table: str  # struct name for ops structures, variable name for handler arrays
    field: str  # "" for array members
    function: str
    variable: str = ""  # for ops structures: the variable initialised (or array of them)


@dataclass(frozen=True)
class FileRecord:
    path: str
    functions: tuple[FunctionRecord, ...]
    tables: tuple[TableEntry, ...]
    # File-scope variables declared with a struct type, (name, struct): what a call through
    # `global->field` or `table[i].field` goes through when the function does not declare it.
    variables: tuple[tuple[str, str], ...] = ()


def file_record(doc: SourceDocument, results: list[FunctionResult]) -> FileRecord:
    """The file's record; `results` are analyse_functions(doc, ...) in doc.functions order."""
    return RecordBuilder().build(doc, results)


def some_records(
    doc: SourceDocument, results: list[FunctionResult | None]
) -> tuple[FunctionRecord, ...]:
    """Records of the functions that have a result (the others were not analysed again),
    with ordinals counted over the whole file."""
    seen: Counter[str] = Counter()
    records = []
    for info, result in zip(doc.functions, results, strict=True):
        ordinal = seen[info.name]
        seen[info.name] += 1
        if result is not None:
            records.append(function_record(doc, info, result, ordinal))
    return tuple(records)


def function_record(
    doc: SourceDocument, info: FunctionInfo, result: FunctionResult, ordinal: int
) -> FunctionRecord:
    return FunctionRecord(
        path=doc.path,
        name=info.name,
        is_static=info.is_static,
        line=doc.line_col(info.start_byte)[0],
        parameters=tuple(p.name for p in info.parameters),
        observations=result.observations,
        ordinal=ordinal,
        origin=result.raw_observations,
    )


def merged(old: FileRecord, new: tuple[FunctionRecord, ...]) -> FileRecord:
    """`old` with some of its functions' records replaced."""
    by_key = {fn.key: fn for fn in new}
    functions = tuple(by_key.get(fn.key, fn) for fn in old.functions)
    return FileRecord(old.path, functions, old.tables, old.variables)


class RecordBuilder:
    """Records of one document as it is edited (the language server, per keystroke).

    A function whose analysis was reused by the per-function cache (the same observations
    object) and that still starts on the same line keeps its record object, so the workspace
    sees by identity that nothing changed. Its byte offsets may be stale when text before it
    grew or shrank on the same line: summaries never read bytes, and the server places
    findings through calls by line and column.
    """

    def __init__(self) -> None:
        # id of the analysis' own observations -> (them, to keep the id alive; the lines the
        # per-function cache had moved them by; the record)
        self._by_observations: dict[int, tuple[Observations, int, FunctionRecord]] = {}
        self._tables: tuple[TableEntry, ...] | None = None
        self._variables: tuple[tuple[str, str], ...] = ()
        self._records: list[FunctionRecord] = []
        self._names: Counter[str] = Counter()  # definitions per name in the file
        self._seen: tuple[object, int] | None = None  # the update the records are of

    def build(
        self,
        doc: SourceDocument,
        results: list[FunctionResult],
        same_tables: bool = False,
        splice: tuple[object, int, tuple[int, int, int] | None] | None = None,
    ) -> FileRecord:
        """`same_tables`: the edit stayed inside one function body, where no initialiser
        of an ops struct or handler array and no file-scope variable can be, so the previous
        tables and variables still hold.
        `splice` (analysis.live.splice_note): which update the results are of and how they
        changed since the ones before; when the last build saw those, typing inside a
        function re-records that function only."""
        functions = self._spliced(doc, results, splice) if splice is not None else None
        if functions is None:
            functions = self._every(doc, results)
        self._records = functions
        self._seen = (splice[0], splice[1]) if splice is not None else None
        if not same_tables or self._tables is None:
            tables = [
                TableEntry(a.struct_name, a.field, a.function, a.variable)
                for a in ops_assignments(doc)
            ]
            tables += [TableEntry(m.array, "", m.function) for m in array_members(doc)]
            self._tables = tuple(tables)
            self._variables = tuple(file_struct_variables(doc))
        return FileRecord(doc.path, tuple(functions), self._tables, self._variables)

    def _every(self, doc: SourceDocument, results: list[FunctionResult]) -> list[FunctionRecord]:
        entries: dict[int, tuple[Observations, int, FunctionRecord]] = {}
        functions = self._recorded(doc, doc.functions, results, entries)
        self._by_observations = entries
        self._names = Counter(info.name for info in doc.functions)
        return functions

    def _spliced(
        self,
        doc: SourceDocument,
        results: list[FunctionResult],
        splice: tuple[object, int, tuple[int, int, int] | None],
    ) -> list[FunctionRecord] | None:
        """The previous records with the edited stretch re-recorded, when the last build saw
        the results just before this update, no line moved, and the functions of the stretch
        have names found nowhere else in the file (so no ordinal elsewhere changes); else
        None."""
        identity, update, change = splice
        if change is None or self._seen != (identity, update - 1):
            return None
        before, after, lines = change
        old = self._records
        if lines or before + after > min(len(old), len(results)):
            return None
        infos = doc.functions[before : len(results) - after]
        old_middle = old[before : len(old) - after]
        old_names = Counter(r.name for r in old_middle)
        new_names = Counter(info.name for info in infos)
        if any(self._names[name] != count for name, count in old_names.items()) or any(
            name not in old_names and self._names[name] for name in new_names
        ):
            return None
        entries: dict[int, tuple[Observations, int, FunctionRecord]] = {}
        middle = self._recorded(doc, infos, results[before : len(results) - after], entries)
        by_observations = self._by_observations
        for record in old_middle:
            entry = by_observations.get(id(record.origin))
            if entry is not None and entry[2] is record:
                del by_observations[id(record.origin)]
        by_observations.update(entries)
        self._names.subtract(old_names)
        self._names.update(new_names)
        return [*old[:before], *middle, *old[len(old) - after :]]

    def _recorded(
        self,
        doc: SourceDocument,
        infos: list[FunctionInfo],
        results: list[FunctionResult],
        entries: dict[int, tuple[Observations, int, FunctionRecord]],
    ) -> list[FunctionRecord]:
        """Records of a run of functions (ordinals counted within it), reusing those of the
        last build; what to remember of each goes into `entries`."""
        records = []
        seen: dict[str, int] = {}
        for info, result in zip(infos, results, strict=True):
            ordinal = seen.get(info.name, 0)
            seen[info.name] = ordinal + 1
            moved_lines, record = self._record(doc, info, result, ordinal)
            entries[id(result.raw_observations)] = (result.raw_observations, moved_lines, record)
            records.append(record)
        return records

    def _record(
        self, doc: SourceDocument, info: FunctionInfo, result: FunctionResult, ordinal: int
    ) -> tuple[int, FunctionRecord]:
        raw = result.raw_observations
        moved_lines = result.moved_by[1]
        old = self._by_observations.get(id(raw))
        # The cache places a result at the line it was analysed at plus the lines it moved
        # it by: the same pair is the same line, found without a search.
        if old is not None and old[1] == moved_lines and old[2].ordinal == ordinal:
            return moved_lines, old[2]
        return moved_lines, function_record(doc, info, result, ordinal)
