#!/usr/bin/env node
// Regenerates config/pool.schema.json from the compiled zod schema
// (dist/config/pool-config-schema.js; build it with `tsc -p tsconfig.build.json`).
// With --check it writes nothing and exits 1 when the file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'config', 'pool-config-schema.js');
const target = join(root, 'config', 'pool.schema.json');

let mod;
try {
  mod = await import(pathToFileURL(compiled).href);
} catch (e) {
  console.error(`cannot load ${relative(root, compiled)} (${e.message}) — build first: npx tsc -p tsconfig.build.json`);
  process.exit(1);
}

const text = `${JSON.stringify(mod.poolConfigJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (current !== text) {
    console.error(`${relative(root, target)} is out of date — run: npm run schema`);
    process.exit(1);
  }
  console.log(`${relative(root, target)} is up to date`);
} else {
  writeFileSync(target, text);
  console.log(`wrote ${relative(root, target)}`);
}
