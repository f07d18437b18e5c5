#!/usr/bin/env node
// Regenerates the JSON Schemas editors use for config files from the compiled
// zod schemas (dist/config/pool-config-schema.js; build it with
// `tsc -p tsconfig.build.json`):
//   config/pool.schema.json            the instance pool (createPool)
//   config/raw-slot-pool.schema.json   the raw slot pool (RawSlotPool)
//   config/serve.schema.json           cowpool serve (dist/serve/serve-config-schema.js)
// With --check it writes nothing and exits 1 when a file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'config', 'pool-config-schema.js');

let mod;
let serve;
try {
  mod = await import(pathToFileURL(compiled).href);
  serve = await import(pathToFileURL(join(root, 'dist', 'serve', 'serve-config-schema.js')).href);
} catch (e) {
  console.error(`cannot load ${relative(root, compiled)} (${e.message}) — build first: npx tsc -p tsconfig.build.json`);
  process.exit(1);
}

const targets = [
  [join(root, 'config', 'pool.schema.json'), mod.poolConfigJsonSchema()],
  [join(root, 'config', 'raw-slot-pool.schema.json'), mod.rawSlotPoolConfigJsonSchema()],
  [join(root, 'config', 'serve.schema.json'), serve.serveConfigJsonSchema()],
];

let stale = 0;
for (const [target, schema] of targets) {
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // A missing file is simply out of date.
    }
    if (current !== text) {
      console.error(`${relative(root, target)} is out of date — run: npm run schema`);
      stale += 1;
    } else {
      console.log(`${relative(root, target)} is up to date`);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${relative(root, target)}`);
  }
}
process.exit(stale === 0 ? 0 : 1);
