"""What one file contributes to the workspace index: its functions' observations and the
function tables it initialises. Plain, picklable data built right after the per-file analysis."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def key(self) -> FunctionKey:
        return (self.path, self.name, self.line)


FunctionKey = tuple[str, str, int]


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
    functions = []
    for info, result in zip(doc.functions, results, strict=True):
        functions.append(
            FunctionRecord(
                path=doc.path,
                name=info.name,
                is_static=info.is_static,
                line=doc.line_col(info.start_byte)[0],
                parameters=tuple(p.name for p in info.parameters),
                observations=result.observations,
            )
        )
    tables = [TableEntry(a.struct_name, a.field, a.function) for a in ops_assignments(doc)]
    tables += [TableEntry(m.array, "", m.function) for m in array_members(doc)]
    return FileRecord(doc.path, tuple(functions), tuple(tables))
