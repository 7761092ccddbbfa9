// The `kvmlock/status` notification (docs/lsp-protocol.md) turned into status bar text.
// No `vscode` import.

export interface ServerStatus {
  state: 'ready' | 'analysing' | 'error';
  rulesSource: string;
  builtin: boolean;
}

export type ClientState = 'starting' | 'running' | 'stopped' | 'not-found';

export interface StatusView {
  text: string;
  tooltip: string;
}

export function isServerStatus(value: unknown): value is ServerStatus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.state === 'ready' || v.state === 'analysing' || v.state === 'error') &&
    typeof v.rulesSource === 'string' &&
    typeof v.builtin === 'boolean'
  );
}

/** A short name for the rule source: "built-in rules" or the kernel tree holding locking.rst. */
export function shortRulesSource(status: ServerStatus): string {
  if (status.builtin) return 'built-in rules';
  const source = status.rulesSource.replace(/\\/g, '/');
  const marker = '/Documentation/virt/kvm/locking.rst';
  if (source.endsWith(marker)) {
    const tree = source.slice(0, -marker.length);
    const name = tree.split('/').filter(Boolean).pop();
    return name ? `${name}/…/locking.rst` : 'locking.rst';
  }
  return source.split('/').filter(Boolean).pop() ?? source;
}

export function statusView(client: ClientState, status?: ServerStatus): StatusView {
  if (client === 'not-found') {
    return { text: '$(error) kvmlock: no server', tooltip: 'kvmlock: no language server found. Click to show the log.' };
  }
  if (client === 'stopped') return { text: '$(circle-slash) kvmlock', tooltip: 'kvmlock: the language server is stopped. Click to restart.' };
  if (client === 'starting' || !status) return { text: '$(sync~spin) kvmlock', tooltip: 'kvmlock: starting the language server' };
  const icon = status.state === 'analysing' ? '$(sync~spin)' : status.state === 'error' ? '$(error)' : '$(lock)';
  const rules = status.builtin
    ? `Rules: ${status.rulesSource} (no locking.rst was given or found)`
    : `Rules: ${status.rulesSource}`;
  return { text: `${icon} kvmlock: ${shortRulesSource(status)}`, tooltip: `kvmlock: ${status.state}\n${rules}` };
}

/** What `kvmlock.lockingRstLocation` answers for a document. */
export interface RulesLocation {
  uri: string | null;
  builtin: boolean;
  source: string;
}

export function isRulesLocation(value: unknown): value is RulesLocation {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.uri === null || typeof v.uri === 'string') && typeof v.builtin === 'boolean' && typeof v.source === 'string';
}

/**
 * The server's state with the rule source of the active document when known: the status
 * notification describes the workspace as a whole, the location request the file in front.
 */
export function withDocumentRules(status: ServerStatus | undefined, location: RulesLocation | undefined): ServerStatus | undefined {
  if (!status) return undefined;
  if (!location) return status;
  return { state: status.state, rulesSource: location.source, builtin: location.builtin };
}
