// Maps the extension's `kvmlock.*` settings to the settings object the language server reads
// (docs/lsp-protocol.md, "Settings"). No `vscode` import: unit-tested with plain node.

export const CHECK_IDS = [
  'lock-order',
  'srcu-order',
  'sync-srcu',
  'requires-outer',
  'mmu-notifier',
  'sleep-in-atomic',
  'leaf-lock',
  'double-lock',
  'unlock-unheld',
  'lock-leak',
  'requires-held',
  'order-cycle',
] as const;

export const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CheckSetting {
  enabled?: boolean;
  severity?: Severity;
}

/** Exactly the keys of the server's settings table, with the server's defaults. */
export interface ServerSettings {
  lockingRst: string;
  checks: Record<string, CheckSetting>;
  debounceMs: number;
  inlayHints: boolean;
  logLevel: LogLevel;
  interprocedural: boolean;
  indexMaxFiles: number;
  maxFileBytes: number;
}

export const DEFAULT_SETTINGS: Readonly<ServerSettings> = Object.freeze({
  lockingRst: '',
  checks: {},
  debounceMs: 150,
  inlayHints: false,
  logLevel: 'info',
  interprocedural: true,
  indexMaxFiles: 3000,
  maxFileBytes: 3_000_000,
});

export const MAX_DEBOUNCE_MS = 10_000;

/** Where relative paths and variables in settings are resolved. */
export interface SettingsContext {
  /** Folder that `${workspaceFolder}` and relative `lockingRst` paths refer to. */
  workspaceFolder?: string;
  /** Home directory for a leading `~`. */
  home?: string;
}

export interface MappedSettings {
  settings: ServerSettings;
  /** One sentence per ignored or corrected value, for the output channel. */
  problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\');
}

function joinPath(base: string, rel: string): string {
  const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/';
  const trimmed = base.replace(/[\\/]+$/, '');
  return `${trimmed}${sep}${rel.replace(/^\.[\\/]/, '')}`;
}

/**
 * Expands `~`, `${workspaceFolder}`, `${userHome}` and `${env:NAME}`-free paths; a relative
 * path is taken relative to the workspace folder. Returns the path and any problem.
 */
export function expandPath(
  raw: string,
  ctx: SettingsContext,
  env: Record<string, string | undefined> = {},
): { path: string; problem?: string } {
  let path = raw.trim();
  if (path === '') return { path: '' };
  let problem: string | undefined;
  path = path.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
    if (name === 'workspaceFolder') {
      if (ctx.workspaceFolder) return ctx.workspaceFolder;
      problem = `${whole} used but no workspace folder is open`;
      return whole;
    }
    if (name === 'userHome') {
      if (ctx.home) return ctx.home;
      problem = `${whole} used but the home directory is unknown`;
      return whole;
    }
    const value = envName ? env[envName] : undefined;
    if (value === undefined) {
      problem = `${whole} used but the variable is not set`;
      return '';
    }
    return value;
  });
  if ((path === '~' || path.startsWith('~/')) && ctx.home) {
    path = ctx.home + path.slice(1);
  }
  if (!isAbsolute(path) && ctx.workspaceFolder) {
    path = joinPath(ctx.workspaceFolder, path);
  }
  return problem ? { path, problem } : { path };
}

function mapChecks(raw: unknown, problems: string[]): Record<string, CheckSetting> {
  const checks: Record<string, CheckSetting> = {};
  if (raw === undefined || raw === null) return checks;
  if (!isRecord(raw)) {
    problems.push('kvmlock.checks must be an object keyed by check id; ignored');
    return checks;
  }
  for (const [id, value] of Object.entries(raw)) {
    if (!(CHECK_IDS as readonly string[]).includes(id)) {
      // Passed on anyway: a newer server may know it; the server ignores what it does not.
      problems.push(`kvmlock.checks: "${id}" is not a check this extension knows (${CHECK_IDS.join(', ')})`);
    }
    if (typeof value === 'boolean') {
      checks[id] = { enabled: value };
    } else if (isSeverity(value)) {
      checks[id] = { severity: value };
    } else if (isRecord(value)) {
      const entry: CheckSetting = {};
      if ('enabled' in value) {
        if (typeof value.enabled === 'boolean') entry.enabled = value.enabled;
        else problems.push(`kvmlock.checks.${id}.enabled must be true or false; ignored`);
      }
      if ('severity' in value) {
        if (isSeverity(value.severity)) entry.severity = value.severity;
        else problems.push(`kvmlock.checks.${id}.severity must be one of ${SEVERITIES.join(', ')}; ignored`);
      }
      for (const key of Object.keys(value)) {
        if (key !== 'enabled' && key !== 'severity') problems.push(`kvmlock.checks.${id}.${key} is not a setting; ignored`);
      }
      if (Object.keys(entry).length > 0) checks[id] = entry;
    } else {
      problems.push(`kvmlock.checks.${id} must be true/false, a severity or {"enabled", "severity"}; ignored`);
    }
  }
  return checks;
}

/** A count (files, bytes): a whole number >= 0; fractions are rounded. Otherwise the default. */
function countSetting(raw: unknown, key: 'indexMaxFiles' | 'maxFileBytes', problems: string[]): number {
  const fallback = DEFAULT_SETTINGS[key];
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    problems.push(`kvmlock.${key} must be a whole number >= 0; using ${fallback}`);
    return fallback;
  }
  return Math.round(raw);
}

/**
 * Turns the raw `kvmlock` configuration section (as `workspace.getConfiguration('kvmlock')`
 * returns it, or any JSON) into the server's settings object. Values of the wrong type fall
 * back to the server's default and are reported in `problems`; extension-only keys
 * (`server.*`) are not sent.
 */
export function toServerSettings(
  raw: unknown,
  ctx: SettingsContext = {},
  env: Record<string, string | undefined> = {},
): MappedSettings {
  const problems: string[] = [];
  const settings: ServerSettings = { ...DEFAULT_SETTINGS, checks: {} };
  const section = isRecord(raw) ? raw : {};

  const rst = section.lockingRst;
  if (typeof rst === 'string') {
    const expanded = expandPath(rst, ctx, env);
    settings.lockingRst = expanded.path;
    if (expanded.problem) problems.push(`kvmlock.lockingRst: ${expanded.problem}`);
  } else if (rst !== undefined && rst !== null) {
    problems.push('kvmlock.lockingRst must be a path (string); ignored');
  }

  settings.checks = mapChecks(section.checks, problems);

  const debounce = section.debounceMs;
  if (typeof debounce === 'number' && Number.isFinite(debounce)) {
    const clamped = Math.min(MAX_DEBOUNCE_MS, Math.max(0, Math.round(debounce)));
    if (clamped !== debounce) problems.push(`kvmlock.debounceMs ${debounce} out of range; using ${clamped}`);
    settings.debounceMs = clamped;
  } else if (debounce !== undefined && debounce !== null) {
    problems.push('kvmlock.debounceMs must be a number of milliseconds; ignored');
  }

  const hints = section.inlayHints;
  if (typeof hints === 'boolean') settings.inlayHints = hints;
  else if (hints !== undefined && hints !== null) problems.push('kvmlock.inlayHints must be true or false; ignored');

  const level = section.logLevel;
  if (isLogLevel(level)) settings.logLevel = level;
  else if (level !== undefined && level !== null) {
    problems.push(`kvmlock.logLevel must be one of ${LOG_LEVELS.join(', ')}; ignored`);
  }

  const interprocedural = section.interprocedural;
  if (typeof interprocedural === 'boolean') settings.interprocedural = interprocedural;
  else if (interprocedural !== undefined && interprocedural !== null) {
    problems.push('kvmlock.interprocedural must be true or false; ignored');
  }

  settings.indexMaxFiles = countSetting(section.indexMaxFiles, 'indexMaxFiles', problems);
  settings.maxFileBytes = countSetting(section.maxFileBytes, 'maxFileBytes', problems);

  return { settings, problems };
}

/** Settings keys whose change needs a new server process rather than a notification. */
export const RESTART_KEYS = ['kvmlock.server.path', 'kvmlock.server.python'] as const;
