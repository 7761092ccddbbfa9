// Node-side helpers of server resolution: PATH lookup and the `serve --help` probe.
// No `vscode` import.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

import { probeArgs, type ServerCandidate } from './resolve';

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (process.platform === 'win32') return true;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first `name` on `pathEnv` (PATH syntax of this platform), like `command -v`. */
export function findOnPath(
  name: string,
  pathEnv: string | undefined = process.env.PATH,
  platform: NodeJS.Platform = process.platform,
  pathExt: string | undefined = process.env.PATHEXT,
): string | undefined {
  if (!pathEnv) return undefined;
  const sep = platform === 'win32' ? ';' : ':';
  const exts = platform === 'win32' ? (pathExt ?? '.EXE;.CMD;.BAT').split(';').concat(['']) : [''];
  for (const dir of pathEnv.split(sep)) {
    if (!dir) continue;
    for (const ext of exts) {
      const file = path.join(dir, name + ext.toLowerCase());
      if (isExecutableFile(file)) return file;
    }
  }
  return undefined;
}

/**
 * Runs `<candidate> serve --help`; resolves undefined when it exits 0, else a short reason
 * (missing file, not executable, no `serve` command, module not installed, timeout).
 */
export function probeServer(candidate: ServerCandidate, timeoutMs = 15_000): Promise<string | undefined> {
  if (candidate.command.includes('/') || candidate.command.includes('\\')) {
    if (!isExecutableFile(candidate.command)) {
      return Promise.resolve(`${candidate.command} is not an executable file`);
    }
  }
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const done = (value: string | undefined) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      }
    };
    const child = spawn(candidate.command, probeArgs(candidate), { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill();
      done(`"${probeArgs(candidate).join(' ')}" did not finish within ${timeoutMs} ms`);
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => done(err.message));
    child.on('close', (code) => {
      if (code === 0) return done(undefined);
      const lastLine = output.trim().split('\n').filter(Boolean).pop() ?? '';
      done(`exited with status ${code}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`);
    });
  });
}
