import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CHECK_IDS, DEFAULT_SETTINGS, expandPath, toServerSettings } from '../../src/settings';

const ctx = { workspaceFolder: '/src/linux', home: '/home/dev' };

test('an empty section gives exactly the server defaults', () => {
  const { settings, problems } = toServerSettings({}, ctx);
  assert.deepEqual(settings, {
    lockingRst: '',
    checks: {},
    debounceMs: 150,
    inlayHints: false,
    logLevel: 'info',
    interprocedural: true,
    indexMaxFiles: 3000,
    maxFileBytes: 3_000_000,
  });
  assert.deepEqual(settings, { ...DEFAULT_SETTINGS });
  assert.deepEqual(problems, []);
});

test('undefined and non-object sections give the defaults', () => {
  assert.deepEqual(toServerSettings(undefined).settings, { ...DEFAULT_SETTINGS });
  assert.deepEqual(toServerSettings(42).settings, { ...DEFAULT_SETTINGS });
});

test('every server key is carried over when valid', () => {
  const { settings, problems } = toServerSettings(
    {
      lockingRst: '/src/linux/Documentation/virt/kvm/locking.rst',
      checks: { 'lock-leak': { enabled: false }, 'leaf-lock': { severity: 'hint' } },
      debounceMs: 400,
      inlayHints: true,
      logLevel: 'debug',
      interprocedural: false,
      indexMaxFiles: 500,
      maxFileBytes: 1_000_000,
    },
    ctx,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    lockingRst: '/src/linux/Documentation/virt/kvm/locking.rst',
    checks: { 'lock-leak': { enabled: false }, 'leaf-lock': { severity: 'hint' } },
    debounceMs: 400,
    inlayHints: true,
    logLevel: 'debug',
    interprocedural: false,
    indexMaxFiles: 500,
    maxFileBytes: 1_000_000,
  });
});

test('extension-only keys (server.path, server.python) are not sent to the server', () => {
  const { settings } = toServerSettings({ server: { path: '/x/kvmlock', python: '/usr/bin/python3' }, logLevel: 'error' });
  assert.deepEqual(Object.keys(settings).sort(), [
    'checks',
    'debounceMs',
    'indexMaxFiles',
    'inlayHints',
    'interprocedural',
    'lockingRst',
    'logLevel',
    'maxFileBytes',
  ]);
  assert.equal(settings.logLevel, 'error');
});

test('check shorthands: false disables, a severity string sets the severity', () => {
  const { settings, problems } = toServerSettings({ checks: { 'double-lock': false, 'lock-order': 'warning', 'srcu-order': true } });
  assert.deepEqual(problems, []);
  assert.deepEqual(settings.checks, {
    'double-lock': { enabled: false },
    'lock-order': { severity: 'warning' },
    'srcu-order': { enabled: true },
  });
});

test('bad check entries are dropped with a problem each; unknown ids pass with a note', () => {
  const { settings, problems } = toServerSettings({
    checks: {
      'lock-leak': { enabled: 'no', severity: 'fatal', colour: 'red' },
      'sleep-in-atomic': 3,
      'future-check': { enabled: false },
    },
  });
  assert.deepEqual(settings.checks, { 'future-check': { enabled: false } });
  assert.equal(problems.length, 5, problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('lock-leak.enabled')));
  assert.ok(problems.some((p) => p.includes('lock-leak.severity')));
  assert.ok(problems.some((p) => p.includes('lock-leak.colour')));
  assert.ok(problems.some((p) => p.includes('sleep-in-atomic')));
  assert.ok(problems.some((p) => p.includes('"future-check"')));
});

test('checks that is not an object is ignored', () => {
  const { settings, problems } = toServerSettings({ checks: ['lock-order'] });
  assert.deepEqual(settings.checks, {});
  assert.equal(problems.length, 1);
});

test('the known check ids are the README table', () => {
  assert.deepEqual([...CHECK_IDS].sort(), [
    'double-lock', 'leaf-lock', 'lock-leak', 'lock-order', 'mmu-notifier', 'order-cycle',
    'requires-held', 'requires-outer', 'sleep-in-atomic', 'srcu-order', 'sync-srcu', 'unlock-unheld',
  ]);
});

test('wrong types fall back to defaults and are reported', () => {
  const { settings, problems } = toServerSettings({
    lockingRst: 7,
    debounceMs: 'fast',
    inlayHints: 'yes',
    logLevel: 'verbose',
    interprocedural: 'on',
    indexMaxFiles: '100',
    maxFileBytes: -1,
  });
  assert.deepEqual(settings, { ...DEFAULT_SETTINGS });
  assert.equal(problems.length, 7, problems.join('\n'));
});

test('indexMaxFiles and maxFileBytes: whole numbers >= 0, fractions rounded', () => {
  const map = (raw: unknown) => toServerSettings({ indexMaxFiles: raw, maxFileBytes: raw });
  assert.deepEqual(map(0).settings.indexMaxFiles, 0);
  assert.deepEqual(map(12.6).settings.maxFileBytes, 13);
  assert.deepEqual(map(12.6).problems, []);
  assert.deepEqual(map(Number.POSITIVE_INFINITY).settings.indexMaxFiles, 3000);
  assert.equal(map(Number.NaN).problems.length, 2);
  assert.deepEqual(map(null).settings.maxFileBytes, 3_000_000);
});

test('debounce is rounded and clamped to 0..10000', () => {
  assert.equal(toServerSettings({ debounceMs: -5 }).settings.debounceMs, 0);
  assert.equal(toServerSettings({ debounceMs: 99999 }).settings.debounceMs, 10000);
  assert.equal(toServerSettings({ debounceMs: 200.4 }).settings.debounceMs, 200);
  assert.equal(toServerSettings({ debounceMs: Number.NaN }).settings.debounceMs, 150);
  assert.equal(toServerSettings({ debounceMs: 250 }).problems.length, 0);
  assert.equal(toServerSettings({ debounceMs: -5 }).problems.length, 1);
});

test('lockingRst: ~, ${workspaceFolder}, ${userHome}, ${env:X} and relative paths', () => {
  const env = { KSRC: '/opt/linux' };
  const map = (p: string) => toServerSettings({ lockingRst: p }, ctx, env).settings.lockingRst;
  assert.equal(map('~/linux/Documentation/virt/kvm/locking.rst'), '/home/dev/linux/Documentation/virt/kvm/locking.rst');
  assert.equal(map('${workspaceFolder}/Documentation/virt/kvm/locking.rst'), '/src/linux/Documentation/virt/kvm/locking.rst');
  assert.equal(map('${userHome}/l.rst'), '/home/dev/l.rst');
  assert.equal(map('${env:KSRC}/Documentation/virt/kvm/locking.rst'), '/opt/linux/Documentation/virt/kvm/locking.rst');
  assert.equal(map('Documentation/virt/kvm/locking.rst'), '/src/linux/Documentation/virt/kvm/locking.rst');
  assert.equal(map('./locking.rst'), '/src/linux/locking.rst');
  assert.equal(map('  '), '');
  assert.equal(map('C:\\linux\\locking.rst'), 'C:\\linux\\locking.rst');
});

test('lockingRst variables that cannot be expanded are reported', () => {
  const r = toServerSettings({ lockingRst: '${workspaceFolder}/x.rst' }, {});
  assert.equal(r.settings.lockingRst, '${workspaceFolder}/x.rst');
  assert.equal(r.problems.length, 1);
  const e = expandPath('${env:NOPE}/x.rst', ctx, {});
  assert.ok(e.problem?.includes('NOPE'));
});

test('the result is JSON (what initializationOptions and didChangeConfiguration carry)', () => {
  const { settings } = toServerSettings({ checks: { 'lock-order': 'hint' }, inlayHints: true }, ctx);
  assert.deepEqual(JSON.parse(JSON.stringify(settings)), settings);
});
