import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isRulesLocation, isServerStatus, shortRulesSource, statusView, withDocumentRules } from '../../src/status';

const tree = { state: 'ready' as const, rulesSource: '/src/linux/Documentation/virt/kvm/locking.rst', builtin: false };
const builtin = {
  state: 'ready' as const,
  rulesSource: 'built-in pack (describes Linux 6.x Documentation/virt/kvm/locking.rst, blob 14c4e9fa501d)',
  builtin: true,
};

test('kvmlock/status payloads are validated', () => {
  assert.ok(isServerStatus(tree));
  assert.ok(isServerStatus({ ...builtin, state: 'analysing' }));
  assert.equal(isServerStatus({ ...tree, state: 'busy' }), false);
  assert.equal(isServerStatus({ state: 'ready' }), false);
  assert.equal(isServerStatus(null), false);
  assert.equal(isServerStatus('ready'), false);
});

test('the rule source is shown as the kernel tree or "built-in rules"', () => {
  assert.equal(shortRulesSource(tree), 'linux/…/locking.rst');
  assert.equal(shortRulesSource(builtin), 'built-in rules');
  assert.equal(shortRulesSource({ ...tree, rulesSource: '/tmp/my-rules.rst' }), 'my-rules.rst');
  assert.equal(shortRulesSource({ ...tree, rulesSource: 'C:\\k\\linux\\Documentation\\virt\\kvm\\locking.rst' }), 'linux/…/locking.rst');
});

test('status bar text and tooltip follow server state and rule source', () => {
  assert.deepEqual(statusView('running', tree), {
    text: '$(lock) kvmlock: linux/…/locking.rst',
    tooltip: 'kvmlock: ready\nRules: /src/linux/Documentation/virt/kvm/locking.rst',
  });
  assert.match(statusView('running', { ...tree, state: 'analysing' }).text, /^\$\(sync~spin\) kvmlock: linux/);
  assert.match(statusView('running', { ...tree, state: 'error' }).text, /^\$\(error\)/);
  assert.match(statusView('running', builtin).tooltip, /no locking\.rst was given or found/);
  assert.match(statusView('starting').text, /sync~spin/);
  assert.match(statusView('running').text, /sync~spin/);
  assert.match(statusView('not-found').text, /no server/);
  assert.match(statusView('stopped', tree).tooltip, /Click to restart/);
});

test('the rule source of the active document overrides the workspace-wide one', () => {
  const location = { uri: 'file:///src/linux/Documentation/virt/kvm/locking.rst', builtin: false, source: tree.rulesSource };
  assert.ok(isRulesLocation(location));
  assert.ok(isRulesLocation({ uri: null, builtin: true, source: 'built-in pack' }));
  assert.equal(isRulesLocation({ uri: 3, builtin: true, source: 'x' }), false);
  assert.deepEqual(withDocumentRules({ ...builtin, state: 'analysing' }, location), { state: 'analysing', rulesSource: tree.rulesSource, builtin: false });
  assert.deepEqual(withDocumentRules(builtin, undefined), builtin);
  assert.equal(withDocumentRules(undefined, location), undefined);
});
