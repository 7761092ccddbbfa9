// Bundles the extension into dist/extension.js (one file, `vscode` external) and transpiles
// src/ and test/ to out/ for the node test runner. `--production` minifies the bundle.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const production = process.argv.includes('--production');

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const file = join(dir, name);
    if (statSync(file).isDirectory()) out.push(...tsFiles(file));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(file);
  }
  return out;
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'out'), { recursive: true, force: true });

const bundle = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode'],
  minify: production,
  sourcemap: production ? false : 'linked',
  metafile: true,
  logLevel: 'warning',
});

await esbuild.build({
  absWorkingDir: root,
  entryPoints: [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'test'))].map((f) => relative(root, f)),
  outdir: 'out',
  outbase: '.',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  logLevel: 'warning',
});

const bytes = Object.values(bundle.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built dist/extension.js (${(bytes / 1024).toFixed(0)} KiB${production ? ', minified' : ''}) and out/`);
