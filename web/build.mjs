// Bundles the browser UIs into apps/web/static/dist/ (git-ignored).
// Reproducible from package-lock.json:  npm ci && npm run build
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, '../apps/web/static/dist');
const pages = ['customer', 'admin', 'timeline', 'login', 'analytics'];

await rm(outdir, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: Object.fromEntries(pages.map((name) => [name, `src/${name}.js`])),
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  charset: 'utf8',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});

if (result.errors.length) process.exit(1);
const outputs = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, meta]) => `  ${path.relative(here, path.resolve(here, file))}  ${(meta.bytes / 1024).toFixed(1)} KiB`);
console.log(`built ${outputs.length} bundles:\n${outputs.join('\n')}`);
