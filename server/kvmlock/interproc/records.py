"""What one file contributes to the workspace index: its functions' observations and the
function tables it initialises. Plain, picklable data built right after the per-file analysis."""

from __future__ import annotations

from dataclasses import dataclass, field

from kvmlock.analysis.engine import FunctionResult
from kvmlock.analysis.observations import Observations
from kvmlock.syntax.document import SourceDocument
from kvmlock.syntax.initialisers import array_members, ops_assignments


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


@dataclass(frozen=True)
class FileRecord:
    path: str
    functions: tuple[FunctionRecord, ...]
    tables: tuple[TableEntry, ...]


def file_record(doc: SourceDocument, results: list[FunctionResult]) -> FileRecord:
    """The file's record; `results` are analyse_functions(doc, ...) in doc.functions order."""
    return RecordBuilder().build(doc, results)


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

    def build(
        self, doc: SourceDocument, results: list[FunctionResult], same_tables: bool = False
    ) -> FileRecord:
        """`same_tables`: the edit stayed inside one function body, where no initialiser
        of an ops struct or handler array can be, so the previous tables still hold."""
        functions = []
        seen: dict[str, int] = {}
        kept: dict[int, tuple[Observations, int, FunctionRecord]] = {}
        by_observations = self._by_observations
        for info, result in zip(doc.functions, results, strict=True):
            name = info.name
            ordinal = seen.get(name, 0)
            seen[name] = ordinal + 1
            raw = result.raw_observations
            moved_lines = result.moved_by[1]
            old = by_observations.get(id(raw))
            # The cache places a result at the line it was analysed at plus the lines it
            # moved it by: the same pair is the same line, found without a search.
            if old is not None and old[1] == moved_lines and old[2].ordinal == ordinal:
                record = old[2]
            else:
                record = FunctionRecord(
                    path=doc.path,
                    name=name,
                    is_static=info.is_static,
                    line=doc.line_col(info.start_byte)[0],
                    parameters=tuple(p.name for p in info.parameters),
                    observations=result.observations,
                    ordinal=ordinal,
                    origin=raw,
                )
            kept[id(raw)] = (raw, moved_lines, record)
            functions.append(record)
        self._by_observations = kept
        if not same_tables or self._tables is None:
            tables = [TableEntry(a.struct_name, a.field, a.function) for a in ops_assignments(doc)]
            tables += [TableEntry(m.array, "", m.function) for m in array_members(doc)]
            self._tables = tuple(tables)
        return FileRecord(doc.path, tuple(functions), self._tables)
