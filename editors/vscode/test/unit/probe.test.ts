// The probe and PATH lookup run real programs: small shell scripts standing in for kvmlock
// installs (one that serves, one without the serve command, one not executable), and the
// system python3, which has no kvmlock module.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { findOnPath, isExecutableFile, probeServer } from '../../src/probe';
import type { ServerCandidate } from '../../src/resolve';

const dir = mkdtempSync(join(tmpdir(), 'kvmlock-probe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(sub: string, name: string, body: string, mode = 0o755): string {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  const file = join(d, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

const serving = script('good', 'kvmlock', '[ "$1" = serve ] && [ "$2" = --help ] && { echo "usage: kvmlock serve"; exit 0; }; exit 2');
const old = script('old', 'kvmlock', 'echo "kvmlock: error: argument COMMAND: invalid choice: \'serve\'" >&2; exit 2');
const plain = script('plain', 'kvmlock', 'exit 0', 0o644);
const slow = script('slow', 'kvmlock', 'sleep 5');

const cand = (command: string, prefix: string[] = []): ServerCandidate => ({ source: 'PATH', command, prefix, explicit: false });

test('a kvmlock whose "serve --help" exits 0 is accepted', async () => {
  assert.equal(await probeServer(cand(serving)), undefined);
});

test('a kvmlock without the serve command is refused with its message', async () => {
  const why = await probeServer(cand(old));
  assert.match(why ?? '', /exited with status 2: kvmlock: error: argument COMMAND: invalid choice: 'serve'/);
});

test('a file that is not executable, or missing, is refused without running it', async () => {
  assert.match((await probeServer(cand(plain))) ?? '', /is not an executable file/);
  assert.match((await probeServer(cand(join(dir, 'missing', 'kvmlock')))) ?? '', /is not an executable file/);
  assert.equal(isExecutableFile(plain), false);
  assert.equal(isExecutableFile(serving), true);
  assert.equal(isExecutableFile(dir), false);
});

test('a command name that is on no PATH is refused with the spawn error', async () => {
  assert.match((await probeServer(cand('kvmlock-surely-not-installed'))) ?? '', /ENOENT/);
});

test('a hanging probe times out', async () => {
  assert.match((await probeServer(cand(slow), 300)) ?? '', /did not finish within 300 ms/);
});

test('an interpreter without the kvmlock module is refused', { skip: isExecutableFile('/usr/bin/python3') ? false : 'no /usr/bin/python3' }, async () => {
  const why = await probeServer(cand('/usr/bin/python3', ['-m', 'kvmlock']));
  assert.match(why ?? '', /No module named kvmlock/);
});

test('findOnPath takes the first executable kvmlock on PATH, like command -v', () => {
  const path = [join(dir, 'missing'), join(dir, 'plain'), join(dir, 'old'), join(dir, 'good')].join(':');
  assert.equal(findOnPath('kvmlock', path, 'linux'), old);
  assert.equal(findOnPath('kvmlock', [join(dir, 'plain'), join(dir, 'good')].join(':'), 'linux'), serving);
  assert.equal(findOnPath('kvmlock', join(dir, 'plain'), 'linux'), undefined);
  assert.equal(findOnPath('kvmlock', '', 'linux'), undefined);
  assert.equal(findOnPath('kvmlock', undefined, 'linux'), undefined);
});
