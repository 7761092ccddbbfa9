// End-to-end: the real `kvmlock serve`, driven over stdio by vscode-languageserver-protocol
// the way vscode-languageclient drives it inside VS Code, with the extension's own settings
// mapping. Skips (saying why) when this kvmlock has no `serve` command.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DiagnosticSeverity,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  DocumentDiagnosticRequest,
  ExecuteCommandRequest,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  type ClientCapabilities,
  type Diagnostic,
  type Hover,
  type InitializeResult,
  type MarkupContent,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol/node';

import { toServerSettings } from '../../src/settings';
import { isServerStatus, type ServerStatus } from '../../src/status';
import {
  cFile,
  extensionRoot,
  fileUri,
  kernelTree,
  lockingRst,
  positionOf,
  readText,
  serverMissing,
  startServer,
  withTimeout,
  type Server,
} from './server';

const missing = serverMissing();

function extensionCommands(): string[] {
  const manifest = JSON.parse(readText(path.join(extensionRoot, 'package.json'))) as {
    contributes: { commands: Array<{ command: string }> };
  };
  return manifest.contributes.commands.map((c) => c.command);
}
const uri = fileUri(cFile);
const text = readText(cFile);

function capabilities(pull: boolean): ClientCapabilities {
  return {
    workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false }, workspaceFolders: true },
    textDocument: {
      synchronization: { dynamicRegistration: false, didSave: true },
      publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true },
      hover: { contentFormat: ['markdown', 'plaintext'] },
      ...(pull ? { diagnostic: { dynamicRegistration: false, relatedDocumentSupport: false } } : {}),
    },
    window: { workDoneProgress: false },
  };
}

/** A client session: records notifications, answers workspace/configuration with `settings`. */
class Session {
  server: Server;
  statuses: ServerStatus[] = [];
  diagnostics: PublishDiagnosticsParams[] = [];
  configRequests = 0;
  settingsSection: unknown;
  private waiters: Array<() => void> = [];
  initializeResult?: InitializeResult;

  constructor(settingsSection: unknown) {
    this.settingsSection = settingsSection;
    this.server = startServer();
    const conn = this.server.conn;
    conn.onNotification('kvmlock/status', (p: unknown) => {
      if (isServerStatus(p)) this.statuses.push(p);
      this.wake();
    });
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      this.diagnostics.push(p);
      this.wake();
    });
    conn.onRequest('workspace/configuration', (p: { items: Array<{ section?: string }> }) => {
      this.configRequests++;
      return p.items.map((item) => (item.section === 'kvmlock' ? this.mapped() : null));
    });
    conn.onRequest('client/registerCapability', () => null);
    conn.onRequest('workspace/diagnostic/refresh', () => {
      this.wake();
      return null;
    });
    conn.onNotification('window/logMessage', () => undefined);
  }

  mapped() {
    return toServerSettings(this.settingsSection, { workspaceFolder: kernelTree }).settings;
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  async until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; server stderr:\n${this.server.stderr().slice(-3000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async initialize(pull: boolean) {
    this.initializeResult = await withTimeout(
      this.server.conn.sendRequest(InitializeRequest.type, {
        processId: process.pid,
        rootUri: fileUri(kernelTree),
        workspaceFolders: [{ uri: fileUri(kernelTree), name: 'kernel-tree' }],
        capabilities: capabilities(pull),
        initializationOptions: this.mapped(),
      }),
      30_000,
      'initialize',
    );
    await this.server.conn.sendNotification(InitializedNotification.type, {});
  }

  async open() {
    await this.server.conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'c', version: 1, text },
    });
  }

  latestFor(u: string, version?: number) {
    const mine = this.diagnostics.filter((d) => d.uri === u && (version === undefined || d.version === version));
    return mine[mine.length - 1];
  }
}

const summary = (ds: Diagnostic[]) => ds.map((d) => `${String(d.code)}@${d.range.start.line + 1}`).sort();

describe('kvmlock serve over LSP (push diagnostics)', { skip: missing }, () => {
  let s: Session;
  before(async () => {
    s = new Session({ debounceMs: 50, logLevel: 'debug' });
    await s.initialize(false);
  });
  after(async () => {
    await s?.server.stop();
  });

  test('initialize: the server names itself and offers hover and the two commands', () => {
    const r = s.initializeResult!;
    assert.equal(r.serverInfo?.name, 'kvmlock');
    assert.ok(r.capabilities.hoverProvider, 'hoverProvider');
    const commands = r.capabilities.executeCommandProvider?.commands ?? [];
    assert.ok(commands.includes('kvmlock.showRuleBase'), commands.join(','));
    assert.ok(commands.includes('kvmlock.lockingRstLocation'), commands.join(','));
    // vscode-languageclient registers these as VS Code commands: none may be an extension command.
    const contributed = extensionCommands();
    assert.deepEqual(commands.filter((c) => contributed.includes(c)), []);
  });

  test('kvmlock/status reports ready', async () => {
    const st = await s.until('kvmlock/status', () => s.statuses[0]);
    assert.equal(st.state, 'ready');
    assert.equal(typeof st.builtin, 'boolean');
  });

  test('the server pulls section "kvmlock" and gets the mapped settings', async () => {
    await s.until('workspace/configuration', () => (s.configRequests > 0 ? true : undefined));
  });

  test('opening the C fixture publishes its kvmlock diagnostics for version 1', async () => {
    await s.open();
    const p = await s.until('diagnostics of the fixture', () => {
      const d = s.latestFor(uri, 1);
      return d && d.diagnostics.length > 0 ? d : undefined;
    });
    assert.deepEqual(summary(p.diagnostics), ['lock-leak@21', 'lock-order@10']);
    const order = p.diagnostics.find((d) => d.code === 'lock-order')!;
    assert.equal(order.source, 'kvmlock');
    assert.equal(order.severity, DiagnosticSeverity.Error);
    assert.match(typeof order.message === 'string' ? order.message : order.message.value, /mutex_lock\(&kvm->lock\) while holding kvm->slots_lock/);
    assert.match(order.codeDescription?.href ?? '', /rules\.md#lock-order$/);
    const related = order.relatedInformation ?? [];
    assert.ok(
      related.some((r) => r.location.uri.endsWith('/Documentation/virt/kvm/locking.rst')),
      `relatedInformation cites locking.rst: ${JSON.stringify(related)}`,
    );
    assert.ok(related.some((r) => r.location.uri === uri && r.location.range.start.line === 8), 'where slots_lock was taken');
    const leak = p.diagnostics.find((d) => d.code === 'lock-leak')!;
    assert.equal(leak.severity, DiagnosticSeverity.Warning);
  });

  test('the status names the fixture tree locking.rst as rule source', async () => {
    const st = await s.until('status naming the tree', () => s.statuses.find((x) => x.rulesSource.endsWith('locking.rst') && !x.builtin), 3000);
    assert.equal(st.rulesSource, lockingRst);
  });

  test('hovering kvm->lock shows its locking.rst Reference entry', async () => {
    const at = positionOf(text, 'kvm->lock);', 9);
    const hover: Hover | null = await s.server.conn.sendRequest(HoverRequest.type, {
      textDocument: { uri },
      position: { line: at.line, character: at.character + 2 },
    });
    assert.ok(hover, 'a hover');
    const md = (hover.contents as MarkupContent).value;
    assert.equal((hover.contents as MarkupContent).kind, 'markdown');
    assert.match(md, /kvm->lock/);
    assert.match(md, /the toy VM's creation state/); // :Protects: of the fixture's entry
    assert.match(md, /outermost per-VM mutex of this toy tree/); // its :Comment:
  });

  test('kvmlock.showRuleBase returns the rule base of the tree as text', async () => {
    const out: unknown = await s.server.conn.sendRequest(ExecuteCommandRequest.type, {
      command: 'kvmlock.showRuleBase',
      arguments: [uri],
    });
    assert.equal(typeof out, 'string');
    assert.match(String(out), /kvm->lock is taken outside kvm->slots_lock/);
    assert.ok((out as string).includes(lockingRst));
  });

  test('kvmlock.lockingRstLocation points at the tree locking.rst', async () => {
    const out = (await s.server.conn.sendRequest(ExecuteCommandRequest.type, {
      command: 'kvmlock.lockingRstLocation',
      arguments: [uri],
    })) as { uri: string | null; builtin: boolean; source: string };
    assert.equal(out.uri, fileUri(lockingRst));
    assert.equal(out.builtin, false);
  });

  test('a settings change (check off, severity changed) re-publishes accordingly', async () => {
    s.settingsSection = { debounceMs: 50, checks: { 'lock-leak': false, 'lock-order': 'hint' } };
    const before = s.diagnostics.length;
    await s.server.conn.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { kvmlock: s.mapped() },
    });
    const p = await s.until('diagnostics after the settings change', () => {
      const fresh = s.diagnostics.slice(before).filter((d) => d.uri === uri);
      const last = fresh[fresh.length - 1];
      return last && summary(last.diagnostics).join() === 'lock-order@10' ? last : undefined;
    });
    assert.equal(p.diagnostics[0].severity, DiagnosticSeverity.Hint);
  });
});

describe('kvmlock serve over LSP (pull diagnostics, as VS Code asks)', { skip: missing }, () => {
  let s: Session;
  before(async () => {
    s = new Session({});
    await s.initialize(true);
  });
  after(async () => {
    await s?.server.stop();
  });

  test('the server offers pull diagnostics and answers textDocument/diagnostic', async () => {
    assert.ok(s.initializeResult!.capabilities.diagnosticProvider, 'diagnosticProvider in the initialize result');
    await s.open();
    const report = (await s.server.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } })) as {
      kind: string;
      items: Diagnostic[];
    };
    assert.equal(report.kind, 'full');
    assert.deepEqual(summary(report.items), ['lock-leak@21', 'lock-order@10']);
  });
});

describe('kvmlock serve over LSP (the interprocedural and size settings)', { skip: missing }, () => {
  let s: Session;
  before(async () => {
    s = new Session({ interprocedural: false, indexMaxFiles: 10, maxFileBytes: 100 });
    await s.initialize(false);
  });
  after(async () => {
    await s?.server.stop();
  });

  test('they reach the server under the names it reads', async () => {
    await s.open();
    const p = await s.until('diagnostics of the fixture', () => s.latestFor(uri, 1));
    // The fixture is larger than maxFileBytes: one information diagnostic, no analysis.
    assert.equal(p.diagnostics.length, 1);
    assert.equal(p.diagnostics[0].severity, DiagnosticSeverity.Information);
    assert.match(p.diagnostics[0].message as string, /maxFileBytes \(100\)/);
    const stats = (await s.server.conn.sendRequest(ExecuteCommandRequest.type, {
      command: 'kvmlock.serverStats',
    })) as { index: { state: string } };
    assert.equal(stats.index.state, 'off'); // interprocedural: false
  });
});
