// Compiles every TypeScript source under apps/, libs/ and test/bench/ to dist/ with SWC,
// rewriting the @aiot/* path aliases to relative requires so `node dist/apps/<app>/src/main.js`
// runs without a loader. Type checking is separate (`npm run typecheck`).
import { transformFile } from '@swc/core';
import { createRequire } from 'node:module';
import { copyFile, mkdir, readdir, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { swcOptions, root } = require('./swc-options.cjs');

const sourceDirs = ['apps', 'libs', 'tools/anomaly-dataset', 'test/bench'];
// Data files the sources import (e.g. the default sensor catalog), copied beside the compiled code.
const isData = (p) => p.endsWith('.json') && p.includes(`${path.sep}src${path.sep}lib${path.sep}`);
const skip = (p) =>
  p.endsWith('.spec.ts') || p.endsWith('.d.ts') || p.includes(`${path.sep}web${path.sep}`) || p.includes('node_modules');

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else if ((e.name.endsWith('.ts') || isData(full)) && !skip(full)) yield full;
  }
}

const outRoot = path.join(root, 'dist');
await rm(outRoot, { recursive: true, force: true });
let count = 0;
const options = swcOptions({ rewritePaths: true });
for (const dir of sourceDirs) {
  for await (const file of walk(path.join(root, dir))) {
    const rel = path.relative(root, file);
    if (isData(file)) {
      await mkdir(path.dirname(path.join(outRoot, rel)), { recursive: true });
      await copyFile(file, path.join(outRoot, rel));
      continue;
    }
    const out = path.join(outRoot, rel.replace(/\.ts$/, '.js'));
    const result = await transformFile(file, { ...options, filename: file, sourceFileName: path.relative(path.dirname(out), file) });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${result.code}\n//# sourceMappingURL=${path.basename(out)}.map\n`);
    if (result.map) await writeFile(`${out}.map`, result.map);
    count++;
  }
}
console.log(`build: ${count} files compiled to dist/`);
