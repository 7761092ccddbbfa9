// Shared by the end-to-end tests: where the real `kvmlock serve` is, the fixture kernel tree,
// and a small LSP client made of vscode-languageserver-protocol (what vscode-languageclient
// is built on).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';

import { findOnPath } from '../../src/probe';

/** editors/vscode (tests run from out/test/e2e/). */
export const extensionRoot = path.resolve(__dirname, '..', '..', '..');
export const repoRoot = path.resolve(extensionRoot, '..', '..');
export const kernelTree = path.join(repoRoot, 'tests', 'editors', 'fixtures', 'kernel-tree');
export const lockingRst = path.join(kernelTree, 'Documentation', 'virt', 'kvm', 'locking.rst');
export const cFile = path.join(kernelTree, 'virt', 'kvm', 'toy_ioctl.c');
export const fileUri = (file: string) => pathToFileURL(file).href;

/** `KVMLOCK` (a kvmlock executable), else the repository's .venv, else kvmlock on PATH. */
export function kvmlockCommand(): string | undefined {
  const fromEnv = process.env.KVMLOCK;
  if (fromEnv) return fromEnv;
  const venv = path.join(repoRoot, '.venv', 'bin', 'kvmlock');
  if (existsSync(venv)) return venv;
  return findOnPath('kvmlock');
}

/** undefined when `kvmlock serve` can run here, else why the end-to-end tests skip. */
export function serverMissing(): string | undefined {
  const command = kvmlockCommand();
  if (!command) return 'no kvmlock executable (set KVMLOCK, or create the repository .venv)';
  const probe = spawnSync(command, ['serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) return `"${command} serve --help" failed: this kvmlock has no language server yet`;
  return undefined;
}

export interface Server {
  proc: ChildProcess;
  conn: ProtocolConnection;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function startServer(): Server {
  const command = kvmlockCommand();
  if (!command) throw new Error('no kvmlock');
  const proc = spawn(command, ['serve', '--log-level', 'debug'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
  conn.listen();
  const stop = async () => {
    try {
      await withTimeout(conn.sendRequest('shutdown'), 5000, 'shutdown');
      await conn.sendNotification('exit');
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      const t = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, 5000);
      proc.on('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    conn.dispose();
  };
  return { proc, conn, stderr: () => err, stop };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/** 0-based line and character of the first `needle` in `text` (after `afterLine`). */
export function positionOf(text: string, needle: string, afterLine = 0): { line: number; character: number } {
  const lines = text.split('\n');
  for (let i = afterLine; i < lines.length; i++) {
    const c = lines[i].indexOf(needle);
    if (c >= 0) return { line: i, character: c };
  }
  throw new Error(`${needle} not in text`);
}
