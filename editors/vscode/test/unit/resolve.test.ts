import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  describeCandidate,
  probeArgs,
  resolveServer,
  serveArgs,
  serverCandidates,
  type ServerCandidate,
} from '../../src/resolve';

const all = {
  serverPath: '/opt/kvmlock/bin/kvmlock',
  serverPython: '/usr/bin/python3.12',
  pythonExtensionInterpreter: '/home/dev/.venv/bin/python',
  pathKvmlock: '/usr/local/bin/kvmlock',
};

test('kvmlock.server.path wins over everything else', () => {
  const c = serverCandidates(all);
  assert.deepEqual(c, [{ source: 'kvmlock.server.path', command: '/opt/kvmlock/bin/kvmlock', prefix: [], explicit: true }]);
  assert.deepEqual(serveArgs(c[0], 'info'), ['serve', '--log-level', 'info']);
});

test('kvmlock.server.python comes next and runs -m kvmlock serve', () => {
  const c = serverCandidates({ ...all, serverPath: '  ' });
  assert.deepEqual(c, [{ source: 'kvmlock.server.python', command: '/usr/bin/python3.12', prefix: ['-m', 'kvmlock'], explicit: true }]);
  assert.deepEqual(serveArgs(c[0], 'debug'), ['-m', 'kvmlock', 'serve', '--log-level', 'debug']);
  assert.deepEqual(probeArgs(c[0]), ['-m', 'kvmlock', 'serve', '--help']);
});

test('without settings: the Python extension interpreter, then PATH', () => {
  const c = serverCandidates({ pythonExtensionInterpreter: all.pythonExtensionInterpreter, pathKvmlock: all.pathKvmlock });
  assert.deepEqual(c.map((x) => [x.source, x.command, x.explicit]), [
    ['python extension', '/home/dev/.venv/bin/python', false],
    ['PATH', '/usr/local/bin/kvmlock', false],
  ]);
  assert.deepEqual(serverCandidates({ pathKvmlock: all.pathKvmlock }).map((x) => x.source), ['PATH']);
  assert.deepEqual(serverCandidates({}), []);
});

function probeOk(working: string[]) {
  const seen: string[] = [];
  return {
    seen,
    probe: async (c: ServerCandidate) => {
      seen.push(c.command);
      return working.includes(c.command) ? undefined : 'No module named kvmlock';
    },
  };
}

test('falls through implicit candidates to the first that works', async () => {
  const p = probeOk(['/usr/local/bin/kvmlock']);
  const r = await resolveServer(serverCandidates({ pythonExtensionInterpreter: '/venv/bin/python', pathKvmlock: '/usr/local/bin/kvmlock' }), p.probe);
  assert.ok(r.ok);
  assert.equal(r.candidate.source, 'PATH');
  assert.equal(r.attempts.length, 1);
  assert.equal(r.attempts[0].candidate.source, 'python extension');
  assert.deepEqual(p.seen, ['/venv/bin/python', '/usr/local/bin/kvmlock']);
});

test('a broken explicit setting is reported, not silently replaced by PATH', async () => {
  const p = probeOk(['/usr/local/bin/kvmlock']);
  const r = await resolveServer(serverCandidates({ serverPython: '/usr/bin/python3', pathKvmlock: '/usr/local/bin/kvmlock' }), p.probe);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.setting, 'kvmlock.server.python');
  assert.match(r.message, /kvmlock\.server\.python does not start: No module named kvmlock/);
  assert.match(r.fix, /\/usr\/bin\/python3 -m pip install kvm-lock-lsp/);
  assert.deepEqual(p.seen, ['/usr/bin/python3']);
});

test('a broken kvmlock.server.path names the setting and how to fix it', async () => {
  const r = await resolveServer(serverCandidates({ serverPath: '/nope/kvmlock' }), async () => '/nope/kvmlock is not an executable file');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.setting, 'kvmlock.server.path');
  assert.match(r.fix, /Set kvmlock\.server\.path/);
});

test('nothing found: the message lists what was tried and the fix', async () => {
  const r = await resolveServer(serverCandidates({ pythonExtensionInterpreter: '/venv/bin/python' }), async () => 'exited with status 1');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.message, /no language server found/);
  assert.match(r.message, /\/venv\/bin\/python -m kvmlock serve \(from python extension\): exited with status 1/);
  assert.match(r.fix, /pip install kvm-lock-lsp/);
  assert.match(r.fix, /kvmlock\.server\.path/);
  assert.equal(r.setting, undefined);
});

test('nothing to try at all says so', async () => {
  const r = await resolveServer([], async () => undefined);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.match(r.message, /not on PATH/);
});

test('candidate descriptions', () => {
  assert.equal(
    describeCandidate({ source: 'PATH', command: '/usr/bin/kvmlock', prefix: [], explicit: false }),
    '/usr/bin/kvmlock serve (kvmlock on PATH)',
  );
  assert.equal(
    describeCandidate({ source: 'kvmlock.server.python', command: 'py', prefix: ['-m', 'kvmlock'], explicit: true }),
    'py -m kvmlock serve (from kvmlock.server.python)',
  );
});
