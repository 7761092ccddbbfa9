// Finds the kvmlock language server the way users expect from Python-tool extensions.
// No `vscode` import: unit-tested with plain node. The order:
//   1. `kvmlock.server.path`   a kvmlock executable            -> <path> serve
//   2. `kvmlock.server.python` a Python interpreter             -> <python> -m kvmlock serve
//   3. the Python extension's selected interpreter (if that extension is installed)
//   4. `kvmlock` on PATH
// A setting the user made (1, 2) is authoritative: when it does not work, that is reported
// rather than silently starting some other kvmlock. 3 and 4 are tried in turn.

export type CandidateSource = 'kvmlock.server.path' | 'kvmlock.server.python' | 'python extension' | 'PATH';

export interface ServerCandidate {
  source: CandidateSource;
  /** Program to run. */
  command: string;
  /** Arguments before `serve` (`['-m', 'kvmlock']` for an interpreter). */
  prefix: string[];
  /** True when the user named this program in a setting. */
  explicit: boolean;
}

export interface ResolveInput {
  serverPath?: string;
  serverPython?: string;
  /** Interpreter selected in the Python extension, when that extension is installed. */
  pythonExtensionInterpreter?: string;
  /** `kvmlock` found on PATH (see `findOnPath`), if any. */
  pathKvmlock?: string;
}

export function serverCandidates(input: ResolveInput): ServerCandidate[] {
  const serverPath = input.serverPath?.trim();
  if (serverPath) return [{ source: 'kvmlock.server.path', command: serverPath, prefix: [], explicit: true }];
  const serverPython = input.serverPython?.trim();
  if (serverPython) {
    return [{ source: 'kvmlock.server.python', command: serverPython, prefix: ['-m', 'kvmlock'], explicit: true }];
  }
  const found: ServerCandidate[] = [];
  const interpreter = input.pythonExtensionInterpreter?.trim();
  if (interpreter) found.push({ source: 'python extension', command: interpreter, prefix: ['-m', 'kvmlock'], explicit: false });
  if (input.pathKvmlock) found.push({ source: 'PATH', command: input.pathKvmlock, prefix: [], explicit: false });
  return found;
}

/** The command line that starts the server for a candidate. */
export function serveArgs(candidate: ServerCandidate, logLevel: string): string[] {
  return [...candidate.prefix, 'serve', '--log-level', logLevel];
}

/** The command line that checks a candidate can serve (`... serve --help` exits 0). */
export function probeArgs(candidate: ServerCandidate): string[] {
  return [...candidate.prefix, 'serve', '--help'];
}

export function describeCandidate(c: ServerCandidate): string {
  const line = [c.command, ...c.prefix, 'serve'].join(' ');
  return c.source === 'PATH' ? `${line} (kvmlock on PATH)` : `${line} (from ${c.source})`;
}

/** What a probe found: undefined when the candidate works, else why not. */
export type Probe = (candidate: ServerCandidate) => Promise<string | undefined>;

export interface Attempt {
  candidate: ServerCandidate;
  error: string;
}

export type Resolution =
  | { ok: true; candidate: ServerCandidate; attempts: Attempt[] }
  | { ok: false; attempts: Attempt[]; message: string; fix: string; setting?: CandidateSource };

export const INSTALL_HINT = 'pip install kvm-lock-lsp';

export async function resolveServer(candidates: ServerCandidate[], probe: Probe): Promise<Resolution> {
  const attempts: Attempt[] = [];
  for (const candidate of candidates) {
    const error = await probe(candidate);
    if (error === undefined) return { ok: true, candidate, attempts };
    attempts.push({ candidate, error });
    if (candidate.explicit) {
      const fix =
        candidate.source === 'kvmlock.server.path'
          ? `Set kvmlock.server.path to a kvmlock executable that has the "serve" command (${INSTALL_HINT} installs one), or clear it to search elsewhere.`
          : `Install kvmlock into that interpreter (${candidate.command} -m ${INSTALL_HINT}), or clear kvmlock.server.python to search elsewhere.`;
      return {
        ok: false,
        attempts,
        setting: candidate.source,
        message: `kvmlock: the language server set in ${candidate.source} does not start: ${error}`,
        fix,
      };
    }
  }
  const tried = attempts.length
    ? ` Tried: ${attempts.map((a) => `${describeCandidate(a.candidate)}: ${a.error}`).join('; ')}.`
    : ' No Python interpreter was selected and kvmlock is not on PATH.';
  return {
    ok: false,
    attempts,
    message: `kvmlock: no language server found.${tried}`,
    fix: `Install it (${INSTALL_HINT}) into the selected Python environment or onto PATH, or set kvmlock.server.path to the kvmlock executable (kvmlock.server.python to an interpreter that has it).`,
  };
}
