// The VS Code side of kvmlock: finds and starts `kvmlock serve`, keeps its settings in step,
// and offers the commands and status bar item of docs/lsp-protocol.md.
import * as os from 'node:os';

import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

import { findOnPath, probeServer } from './probe';
import { describeCandidate, resolveServer, serveArgs, serverCandidates, type Resolution } from './resolve';
import { RESTART_KEYS, toServerSettings, type ServerSettings } from './settings';
import {
  isRulesLocation,
  isServerStatus,
  statusView,
  withDocumentRules,
  type ClientState,
  type RulesLocation,
  type ServerStatus,
} from './status';

const SECTION = 'kvmlock';

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let statusItem: vscode.StatusBarItem;
let lastStatus: ServerStatus | undefined;
let documentRules: RulesLocation | undefined;
let clientState: ClientState = 'starting';
let starting: Promise<void> | undefined;

function settingsFor(scope?: vscode.Uri): ServerSettings {
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : vscode.workspace.workspaceFolders?.[0];
  const raw = vscode.workspace.getConfiguration(SECTION, scope ?? folder?.uri);
  const section = {
    lockingRst: raw.get('lockingRst'),
    checks: raw.get('checks'),
    debounceMs: raw.get('debounceMs'),
    inlayHints: raw.get('inlayHints'),
    logLevel: raw.get('logLevel'),
    interprocedural: raw.get('interprocedural'),
    indexMaxFiles: raw.get('indexMaxFiles'),
    maxFileBytes: raw.get('maxFileBytes'),
  };
  const mapped = toServerSettings(section, { workspaceFolder: folder?.uri.fsPath, home: os.homedir() }, process.env);
  for (const problem of mapped.problems) output.warn(`settings: ${problem}`);
  return mapped.settings;
}

function updateStatus(state?: ClientState): void {
  if (state) clientState = state;
  const view = statusView(clientState, withDocumentRules(lastStatus, documentRules));
  statusItem.text = view.text;
  statusItem.tooltip = view.tooltip;
  statusItem.command = clientState === 'stopped' ? 'kvmlock.restartServer' : 'kvmlock.showOutput';
  statusItem.show();
}

async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (api?.environments) {
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      const file = resolved?.executable?.uri?.fsPath;
      if (file) return file;
    }
    const command = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    return command?.[0];
  } catch (err) {
    output.warn(`could not ask the Python extension for its interpreter: ${String(err)}`);
    return undefined;
  }
}

/** The part of the Python extension's API we use (ms-python.python, optional). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(env: { id: string; path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } };
}

async function findServer(): Promise<Resolution> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const serverPath = config.get<string>('server.path', '');
  const serverPython = config.get<string>('server.python', '');
  const input = {
    serverPath,
    serverPython,
    pythonExtensionInterpreter: serverPath || serverPython ? undefined : await pythonExtensionInterpreter(),
    pathKvmlock: findOnPath('kvmlock'),
  };
  const resolution = await resolveServer(serverCandidates(input), (c) => probeServer(c));
  for (const a of resolution.attempts) output.warn(`server candidate ${describeCandidate(a.candidate)}: ${a.error}`);
  return resolution;
}

async function reportNotFound(resolution: Extract<Resolution, { ok: false }>): Promise<void> {
  output.error(resolution.message);
  output.error(`fix: ${resolution.fix}`);
  updateStatus('not-found');
  const openSettings = 'Open Settings';
  const showLog = 'Show Log';
  const choice = await vscode.window.showErrorMessage(`${resolution.message} ${resolution.fix}`, openSettings, showLog);
  if (choice === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', resolution.setting ?? 'kvmlock.server');
  } else if (choice === showLog) {
    output.show();
  }
}

async function startClient(): Promise<void> {
  updateStatus('starting');
  const resolution = await findServer();
  if (!resolution.ok) {
    await reportNotFound(resolution);
    return;
  }
  const settings = settingsFor();
  const candidate = resolution.candidate;
  output.info(`starting ${describeCandidate(candidate)}`);
  const serverOptions: ServerOptions = {
    command: candidate.command,
    args: serveArgs(candidate, settings.logLevel),
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { language: 'c', scheme: 'file' },
      { language: 'c', scheme: 'untitled' },
      { scheme: 'file', pattern: '**/Documentation/virt/kvm/locking.rst' },
    ],
    outputChannel: output,
    initializationOptions: () => settingsFor(),
    middleware: {
      workspace: {
        // The server may pull section "kvmlock"; answer with the mapped settings, not the raw ones.
        configuration: async (params, token, next) => {
          const raw: unknown = await next(params, token);
          if (!Array.isArray(raw)) return raw as unknown[];
          const values = raw as unknown[];
          return params.items.map((item, i): unknown =>
            item.section === SECTION ? settingsFor(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined) : values[i],
          );
        },
      },
    },
  };
  const next = new LanguageClient('kvmlock', 'kvmlock', serverOptions, clientOptions);
  next.onDidChangeState((e) => {
    if (e.newState === State.Running) updateStatus('running');
    else if (e.newState === State.Stopped) updateStatus('stopped');
    else updateStatus('starting');
  });
  next.onNotification('kvmlock/status', (params: unknown) => {
    if (isServerStatus(params)) {
      lastStatus = params;
      updateStatus();
      void refreshDocumentRules();
    } else {
      output.warn(`kvmlock/status with unexpected shape: ${JSON.stringify(params)}`);
    }
  });
  client = next;
  try {
    await next.start();
  } catch (err) {
    output.error(`the language server did not start: ${String(err)}`);
    updateStatus('stopped');
    void vscode.window.showErrorMessage(`kvmlock: the language server did not start (${String(err)}). See the kvmlock output.`);
  }
}

async function stopClient(): Promise<void> {
  const old = client;
  client = undefined;
  lastStatus = undefined;
  documentRules = undefined;
  if (old) {
    try {
      await old.stop();
    } catch (err) {
      output.warn(`stopping the server: ${String(err)}`);
    }
  }
}

async function restart(): Promise<void> {
  if (starting) await starting;
  starting = (async () => {
    await stopClient();
    await startClient();
  })();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

/** Asks the server which rules apply to the active C file, for the status bar. */
async function refreshDocumentRules(): Promise<void> {
  const c = currentClient();
  const editor = vscode.window.activeTextEditor;
  if (!c || !editor || editor.document.languageId !== 'c') return;
  try {
    const where: unknown = await c.sendRequest(ExecuteCommandRequest.type, {
      command: 'kvmlock.lockingRstLocation',
      arguments: [editor.document.uri.toString()],
    });
    if (isRulesLocation(where)) {
      documentRules = where;
      updateStatus();
    }
  } catch (err) {
    output.debug(`lockingRstLocation for the status bar: ${String(err)}`);
  }
}

function currentClient(): LanguageClient | undefined {
  return client?.state === State.Running ? client : undefined;
}

async function runningClient(): Promise<LanguageClient | undefined> {
  if (starting) await starting;
  if (currentClient()) return currentClient();
  const choice = await vscode.window.showWarningMessage('kvmlock: the language server is not running.', 'Restart Server');
  if (choice) await restart();
  return currentClient();
}

function activeUri(): string | undefined {
  return vscode.window.activeTextEditor?.document.uri.toString();
}

async function showRuleBase(): Promise<void> {
  const c = await runningClient();
  if (!c) return;
  const uri = activeUri();
  const text: unknown = await c.sendRequest(ExecuteCommandRequest.type, {
    command: 'kvmlock.showRuleBase',
    arguments: uri ? [uri] : [],
  });
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: typeof text === 'string' ? text : JSON.stringify(text, null, 2) });
  await vscode.window.showTextDocument(doc, { preview: true });
}

interface RstLocation {
  uri: string | null;
  builtin: boolean;
  source: string;
}

async function openLockingRst(): Promise<void> {
  const c = await runningClient();
  if (!c) return;
  const uri = activeUri();
  const where = (await c.sendRequest(ExecuteCommandRequest.type, {
    command: 'kvmlock.lockingRstLocation',
    arguments: uri ? [uri] : [],
  })) as RstLocation | null;
  if (where?.uri) {
    await vscode.window.showTextDocument(vscode.Uri.parse(where.uri));
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    `kvmlock uses ${where?.source ?? 'the built-in rule pack'}: no locking.rst was found above this file. Open a kernel tree, or set kvmlock.lockingRst.`,
    'Show Rule Base',
    'Open Settings',
  );
  if (choice === 'Show Rule Base') await showRuleBase();
  else if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'kvmlock.lockingRst');
}

function onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
  if (!e.affectsConfiguration(SECTION)) return;
  if (RESTART_KEYS.some((key) => e.affectsConfiguration(key))) {
    output.info('server settings changed; restarting the server');
    void restart();
    return;
  }
  if (client?.state === State.Running) {
    const settings = settingsFor();
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: settings } });
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('kvmlock', { log: true });
  statusItem = vscode.window.createStatusBarItem('kvmlock.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'kvmlock';
  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand('kvmlock.restartServer', restart),
    vscode.commands.registerCommand('kvmlock.openRuleBase', showRuleBase),
    vscode.commands.registerCommand('kvmlock.openLockingRst', openLockingRst),
    vscode.commands.registerCommand('kvmlock.showOutput', () => output.show()),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    vscode.window.onDidChangeActiveTextEditor(() => void refreshDocumentRules()),
    { dispose: () => void stopClient() },
  );
  starting = startClient();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
