// The .vsix that `npm run package` built (npm test builds it first): what it holds.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';

import { CHECK_IDS } from '../../src/settings';
import { readZip } from './zip';

const root = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  publisher: string;
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: { commands: Array<{ command: string; title: string }>; configuration: { properties: Record<string, unknown> } };
};
const vsix = path.join(root, `kvmlock-${manifest.version}.vsix`);
const present = existsSync(vsix);

test('the .vsix holds the bundle, the manifest and the docs, and nothing else', { skip: present ? false : `${vsix} not built (npm run package)` }, () => {
  const names = readZip(vsix).map((e) => e.name).sort();
  const expected = [
    '[Content_Types].xml',
    'extension.vsixmanifest',
    'extension/LICENSE.txt',
    'extension/changelog.md',
    'extension/dist/extension.js',
    'extension/package.json',
    'extension/readme.md',
  ];
  if (existsSync(path.join(root, 'screenshot.png'))) expected.push('extension/screenshot.png');
  assert.deepEqual(names, expected.sort());
  assert.ok(!names.some((n) => n.includes('node_modules')), 'no node_modules');
  assert.ok(!names.some((n) => n.endsWith('.ts') || n.endsWith('.map')), 'no sources or source maps');
  assert.ok(statSync(vsix).size < 1024 * 1024, `small: ${statSync(vsix).size} bytes`);
});

test('the packed manifest is the extension manifest: entry point, activation, commands, settings', { skip: present ? false : 'no .vsix' }, () => {
  const entries = readZip(vsix);
  const packed = JSON.parse(entries.find((e) => e.name === 'extension/package.json')!.read().toString('utf8')) as typeof manifest;
  assert.equal(packed.name, 'kvmlock');
  assert.equal(packed.main, './dist/extension.js');
  assert.deepEqual(packed.activationEvents.sort(), [
    'onLanguage:c',
    'onLanguage:restructuredtext',
    'workspaceContains:**/Documentation/virt/kvm/locking.rst',
  ]);
  assert.deepEqual(packed.contributes.commands.map((c) => c.command).sort(), [
    'kvmlock.openLockingRst',
    'kvmlock.openRuleBase',
    'kvmlock.restartServer',
    'kvmlock.showOutput',
  ]);
  // vscode-languageclient registers every command the server offers (executeCommandProvider)
  // as a VS Code command of the same id: an extension command with such an id makes the
  // client fail to start ("command already exists"). The server's commands (docs/lsp-protocol.md):
  for (const serverCommand of ['kvmlock.showRuleBase', 'kvmlock.lockingRstLocation', 'kvmlock.openRule', 'kvmlock.serverStats']) {
    assert.ok(!packed.contributes.commands.some((c) => c.command === serverCommand), serverCommand);
  }
  const titles = packed.contributes.commands.map((c) => `kvmlock: ${c.title}`);
  for (const t of ['kvmlock: Restart Server', 'kvmlock: Show Rule Base', 'kvmlock: Open locking.rst']) assert.ok(titles.includes(t), t);
  assert.deepEqual(Object.keys(packed.contributes.configuration.properties).sort(), [
    'kvmlock.checks',
    'kvmlock.debounceMs',
    'kvmlock.indexMaxFiles',
    'kvmlock.inlayHints',
    'kvmlock.interprocedural',
    'kvmlock.lockingRst',
    'kvmlock.logLevel',
    'kvmlock.maxFileBytes',
    'kvmlock.server.path',
    'kvmlock.server.python',
  ]);
  const xml = entries.find((e) => e.name === 'extension.vsixmanifest')!.read().toString('utf8');
  assert.match(xml, new RegExp(`<Identity [^>]*Id="kvmlock"[^>]*Version="${manifest.version}"[^>]*Publisher="${manifest.publisher}"`));
  assert.match(xml, new RegExp(`Microsoft.VisualStudio.Code.Engine" Value="\\${manifest.engines.vscode}"`));
});

test('the bundle is one minified file with the language client inside and only vscode outside', { skip: present ? false : 'no .vsix' }, () => {
  const js = readZip(vsix).find((e) => e.name === 'extension/dist/extension.js')!.read().toString('utf8');
  const required = new Set([...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
  const external = [...required].filter((m) => !m.startsWith('node:') && !isNodeBuiltin(m));
  assert.deepEqual(external, ['vscode']);
  for (const id of ['kvmlock.showRuleBase', 'kvmlock.lockingRstLocation', 'kvmlock/status', 'kvmlock.server.path', ...CHECK_IDS]) {
    assert.ok(js.includes(id), `bundle mentions ${id}`);
  }
  assert.ok(js.includes('textDocument/publishDiagnostics'), 'vscode-languageclient is bundled');
  assert.ok(js.split('\n').length < 200, 'minified');
});

function isNodeBuiltin(name: string): boolean {
  return builtinModules.includes(name);
}
