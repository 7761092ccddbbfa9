"""`kvmlock serve`: the language server (pygls 2, LSP over stdio).

Edits are applied to the server's own bytes of each document as they arrive; analysis runs
after a short quiet time (debounce), re-parses incrementally and re-analyses only the
functions whose bytes changed. Diagnostics carry the document version they belong to.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from kvmlock import __version__
from kvmlock.lsp.protocol import KvmlockProtocol
from kvmlock.lsp.settings import Settings, parse_settings

# The analysis, the rule reader and the workspace index are imported where they are first
# used (`initialized`, the first document), not here: `initialize` is answered without them
# (~0.2-0.3 s of imports and regex compilation). Importing them right after that answer
# instead (a warm-up while the client reads it) did not measurably shorten the time to the
# first diagnostics. See benchmarks/startup.py.
if TYPE_CHECKING:
    from kvmlock.analysis.findings import Finding
    from kvmlock.lsp.documents import OpenDocument
    from kvmlock.lsp.rules_state import RulesState
    from kvmlock.lsp.workspace_index import ServerIndex

log = logging.getLogger("kvmlock.lsp")

UTF16 = types.PositionEncodingKind.Utf16

STATUS = "kvmlock/status"
SHOW_RULE_BASE = "kvmlock.showRuleBase"
LOCKING_RST_LOCATION = "kvmlock.lockingRstLocation"
OPEN_RULE = "kvmlock.openRule"
SERVER_STATS = "kvmlock.serverStats"
SOURCES_GLOB = "**/*.{c,h}"


class KvmlockServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("kvmlock", __version__, protocol_cls=KvmlockProtocol)
        self.settings = Settings()
        self.documents: dict[str, OpenDocument] = {}
        self._rules: RulesState | None = None
        self.pending: dict[str, asyncio.Task] = {}
        self.loud: set[str] = set()  # pending runs that must publish (not `quiet`)
        self.pull_diagnostics = False
        self.analyses = 0  # analyses run: coalescing keeps this far below the edit count
        self.index: ServerIndex | None = None  # interprocedural; None when turned off
        self.index_runs = 0
        self.index_task: asyncio.Task | None = None
        self.index_roots: list[Path] = []  # what the workspace index covers
        self.published: dict[str, tuple[int | None, list[types.Diagnostic]]] = {}

    # --- helpers ------------------------------------------------------------------------

    @property
    def rules(self) -> RulesState:
        if self._rules is None:
            from kvmlock.lsp.rules_state import RulesState

            self._rules = RulesState()
        return self._rules

    @property
    def encoding(self) -> str:
        try:
            return self.workspace.position_encoding or UTF16
        except Exception:
            return UTF16

    def document(self, uri: str) -> OpenDocument | None:
        return self.documents.get(uri)

    def analyse_now(self, doc: OpenDocument) -> list[types.Diagnostic]:
        limit = self.settings.max_file_bytes
        if len(doc.source) > limit:
            # Analysing megabytes blocks every other document for seconds: say so instead.
            doc.analysed_version = doc.version
            point = types.Position(line=0, character=0)
            return [
                types.Diagnostic(
                    range=types.Range(point, point),
                    message=f"kvmlock: this file has {len(doc.source):,} bytes, more than "
                    f"maxFileBytes ({limit:,}); it is not analysed in the editor. "
                    "`kvmlock check` analyses it.",
                    severity=types.DiagnosticSeverity.Information,
                    source="kvmlock",
                )
            ]
        rules = self.rules.for_path(doc.path, self.settings.locking_rst)
        enabled = self.settings.enabled_checks()
        index = self.index
        context = doc.live.ctx
        effects = index.call_effects(doc.path) if index is not None else None
        doc.analyse(rules, enabled, effects)
        self.analyses += 1
        through_calls: list[Finding] = []
        if index is not None:
            # The file context is kept only for an edit inside one function body.
            through_calls = self._through_calls(
                doc, context is not None and doc.live.ctx is context
            )
            # The edit may have changed what the document's calls do to their callers'
            # locks (a lock helper defined in it): analysed again until that settles.
            from kvmlock.interproc.settle import MAX_EFFECT_ROUNDS

            for _ in range(MAX_EFFECT_ROUNDS):
                settled = index.call_effects(doc.path)
                if settled is effects:
                    break
                effects = settled
                doc.analyse(rules, enabled, effects)
                through_calls = self._through_calls(doc, False)
        return self.diagnostics(doc, through_calls)

    def diagnostics(
        self, doc: OpenDocument, through_calls: list[Finding]
    ) -> list[types.Diagnostic]:
        """The document's diagnostics: its own findings (rendered per function result, see
        lsp.diagnostics) and those through calls, in the order of their findings."""
        from kvmlock.analysis.findings import Finding
        from kvmlock.lsp.diagnostics import merged, rendered

        own = doc.diagnostics(self.encoding, self.settings)
        through_calls = sorted(through_calls, key=Finding.sort_key)
        calls = rendered(through_calls, doc.uri, doc.index, self.encoding, self.settings)
        return merged(own, calls)

    def _through_calls(self, doc: OpenDocument, inside_function: bool) -> list[Finding]:
        """The document's findings through calls; documents whose findings depend on what
        changed are re-checked."""
        assert self.index is not None
        try:
            paths = self.index.buffer_changed(doc, inside_function)
            through_calls = self.index.findings(doc)
        except Exception:
            log.exception("interprocedural update of %s failed", doc.uri)
            return []
        self.recheck(paths, doc)
        return through_calls

    def recheck(self, paths: set[str] | None, changed: OpenDocument | None = None) -> None:
        """Re-check the other open documents in `paths` (None: all); published only if their
        diagnostics differ."""
        for other in list(self.documents.values()):
            if other is changed or self.rules.is_locking_rst(other.path):
                continue
            if (paths is None or other.path in paths) and other.uri not in self.pending:
                self.schedule(other, delay=0, quiet=True)

    def schedule(self, doc: OpenDocument, delay: float | None = None, quiet: bool = False) -> None:
        """Analyse after the debounce; a newer change cancels the pending run. `quiet`: a
        re-check for another document's sake, published only if the diagnostics differ."""
        previous = self.pending.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
            # A re-check for another document's sake must not swallow a publish still due
            # (an edit's, a settings or rules change's): the run that replaces it publishes.
            quiet = quiet and doc.uri not in self.loud
        if quiet:
            self.loud.discard(doc.uri)
        else:
            self.loud.add(doc.uri)
        wait = self.settings.debounce_ms / 1000 if delay is None else delay
        self.pending[doc.uri] = asyncio.ensure_future(self._analyse_later(doc, wait, quiet))

    async def _analyse_later(self, doc: OpenDocument, wait: float, quiet: bool = False) -> None:
        try:
            if wait > 0:
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            return
        if self.documents.get(doc.uri) is not doc:
            return
        self.pending.pop(doc.uri, None)
        self.loud.discard(doc.uri)
        self.publish(doc, quiet)

    def publish(self, doc: OpenDocument, quiet: bool = False) -> None:
        try:
            diagnostics = self.analyse_now(doc)
        except Exception:
            log.exception("analysis of %s failed; keeping the previous results", doc.uri)
            return
        if quiet and self.published.get(doc.uri) == (doc.version, diagnostics):
            return
        self.published[doc.uri] = (doc.version, diagnostics)
        if self.pull_diagnostics:
            self._refresh_pull()
            return
        self.protocol.publish_diagnostics(doc.uri, doc.version, diagnostics)

    def _refresh_pull(self) -> None:
        caps = self.client_capabilities.workspace
        refresh = caps and caps.diagnostics and caps.diagnostics.refresh_support
        if refresh:
            self.workspace_diagnostic_refresh(None)

    def republish_all(self) -> None:
        if self.index is not None:
            self.index.configure(self.settings.enabled_checks())
        for doc in list(self.documents.values()):
            if not self.rules.is_locking_rst(doc.path):
                self.schedule(doc, delay=0)
        self.send_status()

    def send_status(self, state: str = "ready") -> None:
        source, builtin = self.rules.describe(self.settings.locking_rst, self._status_place())
        try:
            self.protocol.notify(
                STATUS, {"state": state, "rulesSource": source, "builtin": builtin}
            )
        except Exception:  # before initialisation or after exit: nothing to tell
            log.debug("status not sent", exc_info=True)

    def _status_place(self) -> str | None:
        """Where the status bar's rule source is looked up: an open C file, else the root."""
        for doc in self.documents.values():
            if not self.rules.is_locking_rst(doc.path):
                return doc.path
        try:
            root = self.workspace.root_path
        except Exception:
            return None
        return root or None

    def apply_settings(self, raw: Any) -> None:
        settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            log.warning("%s", problem)
        changed_rules = settings.locking_rst != self.settings.locking_rst
        reindex = settings.interprocedural != (self.index is not None) or (
            settings.interprocedural and settings.index_max_files != self.settings.index_max_files
        )
        self.settings = settings
        logging.getLogger("kvmlock").setLevel(
            settings.log_level.upper()
            if settings.log_level.upper() in ("DEBUG", "INFO", "WARNING", "ERROR")
            else "INFO"
        )
        if changed_rules:
            self.rules.forget_explicit()
        if reindex and self.index_runs:
            self.start_indexing()  # turned on or off, or bounded otherwise, after start-up
        self.republish_all()

    # --- the interprocedural index --------------------------------------------------------

    def start_indexing(self) -> None:
        """Index the workspace folders in the background (or drop the index when the setting
        is off). Open documents' buffers stand in for their files."""
        from kvmlock.lsp.workspace_index import ServerIndex

        self.index = None
        self.index_runs += 1
        if self.index_task is not None:
            self.index_task.cancel()
            self.index_task = None
        if not self.settings.interprocedural:
            return
        index = ServerIndex(
            lambda path: self.rules.for_path(path, self.settings.locking_rst),
            self.settings.enabled_checks(),
        )
        for doc in self.documents.values():
            if not self.rules.is_locking_rst(doc.path):
                index.buffer_changed(doc, False)
        self.index = index
        self.index_task = asyncio.ensure_future(self._index_workspace(index, self.index_runs))

    def _folders(self) -> list[Path]:
        try:
            folders = [uri_to_path(f.uri) for f in self.workspace.folders.values()]
            root = self.workspace.root_path
        except Exception:
            return []
        return [Path(f) for f in folders or ([root] if root else [])]

    async def sources_changed(self, changes: list[tuple[str, types.FileChangeType]]) -> None:
        """C files and headers created, changed or deleted on disk (workspace/
        didChangeWatchedFiles): those in the index's roots and not open in the editor are
        read again or dropped, and open documents whose findings through calls depend on
        them are re-checked."""
        from kvmlock.lsp.workspace_index import covered

        index = self.index
        if index is None:
            return
        open_paths = {doc.path for doc in self.documents.values()}
        paths: list[str] = []
        for path, kind in changes:
            if kind == types.FileChangeType.Deleted and not path.endswith((".c", ".h")):
                # A directory (when the client reports one): the indexed files under it.
                prefix = path.rstrip("/") + "/"
                paths += sorted(p for p in index.indexed if p.startswith(prefix))
            elif path in index.indexed or (
                covered(path, self.index_roots)
                and len(index.indexed) < self.settings.index_max_files
            ):
                paths.append(path)
        paths = [path for path in paths if path not in open_paths]
        if not paths:
            return
        try:
            changed = await index.files_changed(paths)
        except Exception:
            log.exception("updating the workspace index from the disk failed")
            return
        log.debug("re-read from disk: %s", ", ".join(paths))
        if self.index is index:
            self.recheck(changed)

    async def _index_workspace(self, index: ServerIndex, run: int) -> None:
        from kvmlock.lsp.workspace_index import bounded, kernel_roots, source_files

        limit = self.settings.index_max_files
        roots = [root for folder in self._folders() for root in kernel_roots(folder)]
        self.index_roots = roots
        files, truncated = await asyncio.to_thread(bounded, source_files(roots), limit)
        if truncated:
            log.warning(
                "more than %d C files and headers under %s: indexing the first %d only "
                "(setting indexMaxFiles); calls into the others are assumed neutral",
                limit,
                ", ".join(map(str, roots)),
                limit,
            )
        progress = _Progress(self, f"kvmlock-index-{run}")
        await progress.begin(f"{len(files)} files")
        try:
            await index.build(files, progress.files)
        except Exception:
            log.exception("indexing the workspace failed; findings through calls are off")
            if self.index is index:
                self.index = None
            progress.end("failed")
            return
        stats = index.stats
        log.info(
            "interprocedural index: %d files, %d functions in %.2f s",
            stats.files,
            stats.functions,
            stats.seconds,
        )
        progress.end(f"{stats.files} files, {stats.functions} functions")
        late = index.changed_while_indexing()
        if late and self.index is index:
            await self.sources_changed([(path, types.FileChangeType.Changed) for path in late])
        if self.index is index:
            for doc in list(self.documents.values()):
                if not self.rules.is_locking_rst(doc.path):
                    self.schedule(doc, delay=0, quiet=True)


server = KvmlockServer()


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return uri


# --- lifecycle ---------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: KvmlockServer, params: types.InitializeParams) -> None:
    text_caps = params.capabilities.text_document
    ls.pull_diagnostics = bool(text_caps and text_caps.diagnostic)
    if ls.pull_diagnostics:
        ls.feature(
            types.TEXT_DOCUMENT_DIAGNOSTIC,
            types.DiagnosticOptions(inter_file_dependencies=False, workspace_diagnostics=False),
        )(pull_diagnostics)
    settings, problems = parse_settings(params.initialization_options)
    ls.settings = settings
    for problem in problems:
        log.warning("%s", problem)


@server.feature(types.INITIALIZED)
async def initialized(ls: KvmlockServer, params: types.InitializedParams) -> None:
    caps = ls.client_capabilities.workspace
    watch = caps and caps.did_change_watched_files
    if watch and watch.dynamic_registration:
        try:
            await ls.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="kvmlock-locking-rst",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                watchers=[types.FileSystemWatcher(glob_pattern="**/locking.rst")]
                            ),
                        ),
                        # For the workspace index: files changed behind the editor's back.
                        types.Registration(
                            id="kvmlock-sources",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                watchers=[types.FileSystemWatcher(glob_pattern=SOURCES_GLOB)]
                            ),
                        ),
                    ]
                )
            )
        except Exception as exc:
            log.warning("the client refused to watch locking.rst, C files and headers: %s", exc)
    if caps and caps.configuration:
        try:
            result = await ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="kvmlock")])
            )
            if result and result[0] is not None:
                ls.apply_settings(result[0])
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
    ls.send_status()
    ls.start_indexing()


# --- document sync -----------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: KvmlockServer, params: types.DidOpenTextDocumentParams) -> None:
    from kvmlock.lsp.documents import OpenDocument

    item = params.text_document
    path = uri_to_path(item.uri)
    doc = OpenDocument(item.uri, path, item.text, item.version)
    ls.documents[item.uri] = doc
    if ls.rules.is_locking_rst(path):
        rst_changed(ls, doc)
        return
    ls.schedule(doc, delay=0)
    if len(ls.documents) == 1:
        ls.send_status()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: KvmlockServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = ls.document(params.text_document.uri)
    if doc is None:
        log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
        return
    if doc.version is not None and params.text_document.version < doc.version:
        log.warning(
            "didChange for %s goes back from version %s to %s",
            doc.uri,
            doc.version,
            params.text_document.version,
        )
    for change in params.content_changes:
        doc.apply(change, ls.encoding)
    doc.version = params.text_document.version
    if ls.rules.is_locking_rst(doc.path):
        rst_changed(ls, doc)
        return
    ls.schedule(doc)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: KvmlockServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc = ls.documents.pop(uri, None)
    task = ls.pending.pop(uri, None)
    ls.loud.discard(uri)
    if task is not None:
        task.cancel()
    ls.published.pop(uri, None)
    if doc is not None and ls.rules.is_locking_rst(doc.path):
        ls.rules.drop_buffer(doc.path)
        ls.republish_all()
    elif doc is not None and ls.index is not None:
        ls.recheck(ls.index.closed(doc.path))
    if not ls.pull_diagnostics:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


def pull_diagnostics(
    ls: KvmlockServer, params: types.DocumentDiagnosticParams
) -> types.DocumentDiagnosticReport:
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    task = ls.pending.pop(doc.uri, None)
    ls.loud.discard(doc.uri)
    if task is not None:
        task.cancel()
    if doc.analysed_version == doc.version and doc.parsed is not None:
        calls = ls._through_calls(doc, True) if ls.index is not None else []
        items = ls.diagnostics(doc, calls)
    else:
        items = ls.analyse_now(doc)
    return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=str(doc.version))


# --- locking.rst --------------------------------------------------------------------------


def rst_changed(ls: KvmlockServer, doc: OpenDocument) -> None:
    """A locking.rst buffer: its text is the rule source for its tree while it is open."""
    text = doc.source.decode("utf-8", "replace")
    problems = ls.rules.use_buffer(doc.path, text)
    diagnostics = [
        types.Diagnostic(
            range=types.Range(
                types.Position(line=max(line - 1, 0), character=0),
                types.Position(line=max(line - 1, 0), character=200),
            ),
            message=message,
            severity=severity,
            source="kvmlock",
        )
        for line, message, severity in problems
    ]
    if not ls.pull_diagnostics:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=doc.uri, diagnostics=diagnostics, version=doc.version
            )
        )
    ls.republish_all()


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def watched_files(ls: KvmlockServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(change.uri.endswith("locking.rst") for change in params.changes):
        ls.rules.forget_disk()
        ls.republish_all()
    await ls.sources_changed([(uri_to_path(change.uri), change.type) for change in params.changes])


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: KvmlockServer, params: types.DidChangeConfigurationParams) -> None:
    ls.apply_settings(params.settings)


# --- what the user sees --------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: KvmlockServer, params: types.HoverParams) -> types.Hover | None:
    from kvmlock.analysis.lookup import lock_at, name_at
    from kvmlock.lsp import explain

    doc = ls.document(params.text_document.uri)
    if doc is None or doc.parsed is None or ls.rules.is_locking_rst(doc.path):
        return None
    if doc.analysed_version != doc.version:
        ls.analyse_now(doc)
    byte = doc.index.offset(params.position, ls.encoding)
    rules = ls.rules.for_path(doc.path, ls.settings.locking_rst)
    parts: list[str] = []
    found = doc.function_at(byte)
    if found is not None:
        fn, result = found
        event = next(
            (e for e in result.observations.events if e.site.start_byte <= byte <= e.site.end_byte),
            None,
        )
        if event is not None:
            parts.append(explain.lock_markdown(event.cls, rules, event.held))
        else:
            ref = lock_at(doc.parsed, fn, byte)
            if ref is not None and ref.cls in rules.documented_locks():
                parts.append(explain.lock_markdown(ref.cls, rules, None))
    name = name_at(doc.parsed, byte)
    if name is not None:
        described = ls.index.describe(doc.path, name) if ls.index is not None else None
        result = doc.result_named(name)
        if described is not None:
            parts.append(explain.summary_markdown(name, *described))
        elif result is not None:
            parts.append(explain.function_markdown(result))
    line = params.position.line + 1
    findings = doc.findings + (ls.index.findings(doc) if ls.index is not None else [])
    parts.extend(explain.finding_markdown(f) for f in findings if f.span.line == line)
    if not parts:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)
        )
    )


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: KvmlockServer, params: types.DefinitionParams) -> types.Location | None:
    from kvmlock.analysis.lookup import lock_at

    doc = ls.document(params.text_document.uri)
    if doc is None or doc.parsed is None:
        return None
    byte = doc.index.offset(params.position, ls.encoding)
    found = doc.function_at(byte)
    if found is None:
        return None
    ref = lock_at(doc.parsed, found[0], byte)
    if ref is None:
        return None
    rules = ls.rules.for_path(doc.path, ls.settings.locking_rst)
    info = rules.lock_info(ref.cls)
    if info is None:
        return None
    target = Path(info.citation.document)
    if not target.is_file():
        return None
    point = types.Position(line=info.citation.line - 1, character=0)
    return types.Location(uri=target.resolve().as_uri(), range=types.Range(point, point))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_action(ls: KvmlockServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = ls.document(params.text_document.uri)
    if doc is None:
        return []
    actions: list[types.CodeAction] = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != "kvmlock" or not isinstance(diagnostic.code, str):
            continue
        rule = diagnostic.code
        for info in diagnostic.related_information or []:
            if info.location.uri.endswith("locking.rst"):
                actions.append(
                    types.CodeAction(
                        title=f"kvmlock: open the rule in locking.rst ({rule})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        command=types.Command(
                            title="Open rule in locking.rst",
                            command=OPEN_RULE,
                            arguments=[info.location.uri, info.location.range.start.line],
                        ),
                    )
                )
                break
        actions.append(_suppression(doc, diagnostic, rule, ls.encoding))
    return actions


def _suppression(
    doc: OpenDocument, diagnostic: types.Diagnostic, rule: str, encoding: str
) -> types.CodeAction:
    line = diagnostic.range.start.line
    index = doc.index
    end = index.offset(types.Position(line=line, character=10**6), encoding)
    start = index.offset(types.Position(line=line, character=0), encoding)
    text = doc.source[start:end].decode("utf-8", "replace")
    marker = "kvmlock: ignore["
    if marker in text:
        at = text.index(marker) + len(marker)
        close = text.find("]", at)
        insert_at = index.position(start + len(text[:close].encode()), encoding)
        new_text = f",{rule}"
    else:
        insert_at = index.position(end, encoding)
        new_text = f" // kvmlock: ignore[{rule}]"
    edit = types.TextEdit(range=types.Range(insert_at, insert_at), new_text=new_text)
    return types.CodeAction(
        title=f"kvmlock: suppress {rule} on this line",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={doc.uri: [edit]}),
    )


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hints(ls: KvmlockServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    doc = ls.document(params.text_document.uri)
    if doc is None or not ls.settings.inlay_hints or doc.parsed is None:
        return []
    first, last = params.range.start.line + 1, params.range.end.line + 1
    hints = []
    for result in doc.results:
        for event in result.observations.events:
            if event.action not in ("acquire", "release") or not first <= event.site.line <= last:
                continue
            held = [h.cls for h in event.held if h.cls != event.cls or event.action == "acquire"]
            if event.action == "acquire" and event.cls not in held:
                held.append(event.cls)
            if event.action == "release" and event.cls in held:
                held.remove(event.cls)
            line_end = doc.index.offset(
                types.Position(line=event.site.line - 1, character=10**6), ls.encoding
            )
            hints.append(
                types.InlayHint(
                    position=doc.index.position(line_end, ls.encoding),
                    label=f"held: {', '.join(held) or 'none'}",
                    padding_left=True,
                )
            )
    return hints


@server.command(SHOW_RULE_BASE)
def show_rule_base(ls: KvmlockServer, *args: Any) -> str:
    from kvmlock.rules.render import render_text

    path = _path_argument(args)
    rules = ls.rules.for_path(path, ls.settings.locking_rst)
    origin = "built-in pack" if rules.builtin else f"`{rules.source}`"
    return f"# kvmlock rule base\n\nRules from {origin}.\n\n```text\n{render_text(rules)}\n```\n"


@server.command(LOCKING_RST_LOCATION)
def locking_rst_location(ls: KvmlockServer, *args: Any) -> dict[str, Any]:
    path = _path_argument(args)
    rules = ls.rules.for_path(path, ls.settings.locking_rst)
    location = Path(rules.source)
    uri = location.resolve().as_uri() if not rules.builtin and location.is_file() else None
    return {"uri": uri, "builtin": rules.builtin, "source": rules.source}


@server.command(SERVER_STATS)
def server_stats(ls: KvmlockServer, *args: Any) -> dict[str, Any]:
    """Counters for tests, benchmarks and bug reports; with PYTHONTRACEMALLOC set, where the
    server's memory was allocated."""
    import tracemalloc

    stats: dict[str, Any] = {
        "analyses": ls.analyses,
        "documents": len(ls.documents),
        "pending": len(ls.pending),
        # Messages pygls still holds a future for (the one answering this request included).
        "inFlight": len(ls.protocol._request_futures),
        "index": ls.index.describe_state() if ls.index is not None else {"state": "off"},
    }
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot()
        top = snapshot.statistics("lineno")[:20]
        stats["memory"] = {
            "traced_kb": tracemalloc.get_traced_memory()[0] // 1024,
            "top": [
                {"site": str(stat.traceback[0]), "kb": stat.size // 1024, "blocks": stat.count}
                for stat in top
            ],
        }
    return stats


@server.command(OPEN_RULE)
async def open_rule(ls: KvmlockServer, *args: Any) -> None:
    values = _flatten(args)
    if len(values) < 2:
        return
    point = types.Position(line=int(values[1]), character=0)
    await ls.window_show_document_async(
        types.ShowDocumentParams(uri=str(values[0]), selection=types.Range(point, point))
    )


def _flatten(args: tuple) -> list:
    if len(args) == 1 and isinstance(args[0], list):
        return list(args[0])
    return list(args)


def _path_argument(args: tuple) -> str | None:
    values = _flatten(args)
    if values and isinstance(values[0], str):
        return uri_to_path(values[0])
    return None


class _Progress:
    """LSP work-done progress for the indexing, when the client supports it: created with
    window/workDoneProgress/create, then $/progress begin, a report per percent, end."""

    def __init__(self, ls: KvmlockServer, token: str) -> None:
        self.ls = ls
        self.token = token
        window = ls.client_capabilities.window
        self.enabled = bool(window and window.work_done_progress)
        self.percent = -1

    async def begin(self, message: str) -> None:
        if not self.enabled:
            return
        try:
            await self.ls.work_done_progress.create_async(self.token)
        except Exception as exc:
            log.info("no indexing progress: the client refused the token (%s)", exc)
            self.enabled = False
            return
        self.ls.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(
                title="kvmlock: indexing", message=message, percentage=0, cancellable=False
            ),
        )

    def files(self, done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if not self.enabled or percent == self.percent:
            return
        self.percent = percent
        self.ls.work_done_progress.report(
            self.token,
            types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=percent),
        )

    def end(self, message: str) -> None:
        if self.enabled:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))


def serve(log_file: str | None = None, log_level: str = "info") -> int:
    """Run until the client says `exit` or goes away; 0 only after a `shutdown` request."""
    handlers: list[logging.Handler] = []
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    handlers.append(_ClientLogHandler())
    logging.basicConfig(
        level=log_level.upper(),
        handlers=handlers,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if log_level.upper() != "DEBUG":
        # pygls logs every message it sends at INFO, a whole file's diagnostics each time.
        logging.getLogger("pygls").setLevel(logging.WARNING)
    try:
        if sys.platform != "win32" and _is_stream(sys.stdin.buffer):
            _start_io_on_pipes(server)
        else:
            server.start_io()  # e.g. a file as stdin: pygls reads it in a thread
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0 if server.protocol._shutdown else 1


def _is_stream(stdin: Any) -> bool:
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def _start_io_on_pipes(ls: KvmlockServer) -> None:
    """pygls's start_io, with stdin read by the event loop itself. pygls reads each header
    line and each body in a worker thread, three hand-offs per message (~0.5 ms of a
    keystroke's latency on this machine); a pipe registered with the loop needs none."""
    from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

    ls._stop_event = threading.Event()
    ls.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reader: Any = asyncio.StreamReader()
        try:
            await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
            )
        except (OSError, ValueError, NotImplementedError) as error:
            # An event loop that cannot watch this stdin: pygls's reader thread does.
            log.info("stdin read in a thread (%s)", error)
            reader = StdinAsyncReader(sys.stdin.buffer, ls.thread_pool)
        assert ls._stop_event is not None
        await run_async(
            stop_event=ls._stop_event,
            reader=reader,
            protocol=ls.protocol,
            logger=logging.getLogger("pygls.server"),
            error_handler=ls.report_server_error,
        )

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the connection to the client is lost; stopping")
    except KeyboardInterrupt:
        pass


class _ClientLogHandler(logging.Handler):
    """Forwards our log records to the editor (window/logMessage)."""

    _TYPES: ClassVar[dict[int, types.MessageType]] = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("kvmlock"):
            return
        try:
            server.window_log_message(
                types.LogMessageParams(
                    type=self._TYPES.get(record.levelno, types.MessageType.Log),
                    message=self.format(record),
                )
            )
        except Exception:  # no client connected (yet): the log file still has it
            return
