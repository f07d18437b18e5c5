#!/usr/bin/env node
// What an image spanning the whole memory (data, then holes) costs against
// an image of the data only with V8's anonymous memory after it, measured
// side by side in this process: a tenant that reads every page of its memory
// (madvise reset, so every tenant finds it untouched) and one that writes K
// pages past the data (restore-dirty reset), in several slots of one module;
// the memory the read-only tenants leave (anonymous pages in the slots) and
// the pages the memfd holds at the end (page cache, shared by all slots). "data-only, no zero page" writes a
// zero byte where the read found anonymous memory, which is what a read does
// on a host without a shared zero page.
// Build first: npx tsc -p tsconfig.build.json
// Usage: node scripts/sparse-image-cost.mjs [--slots N] [--cycles N] [--data-kib N] [--memory-kib N]
import { fstatSync, readFileSync } from 'node:fs';
import { addon, NativeResetMode } from '../dist/native/addon.js';

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
};
const slots = value('--slots', 4);
const cycles = value('--cycles', 200);
const dataBytes = value('--data-kib', 1024) * 1024;
const memoryBytes = value('--memory-kib', 4096) * 1024;
const WRITES = 16;
const a = addon();
const page = a.pageSize;
const data = new Uint8Array(dataBytes).map((_, i) => ((i * 2654435761) >>> 24) | 1);

function anonymousBytes(address, length) {
  const hi = address + BigInt(length);
  let inRange = false;
  let total = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (header !== null) {
      inRange = BigInt(`0x${header[1]}`) < hi && BigInt(`0x${header[2]}`) > address;
      continue;
    }
    const field = inRange ? /^Anonymous:\s+(\d+) kB$/.exec(line) : null;
    if (field !== null) total += Number(field[1]) * 1024;
  }
  return total;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function measure(layout) {
  const image = layout === 'whole-memory' ? new a.Image(data, memoryBytes) : new a.Image(data);
  const emulate = layout === 'data-only, no zero page';
  const memories = [];
  for (let s = 0; s < slots; s++) {
    const memory = new WebAssembly.Memory({ initial: memoryBytes / 65536, maximum: memoryBytes / 65536 });
    a.mapImage(memory.buffer, image, 0);
    memories.push(memory);
  }
  const dataPages = Math.ceil(dataBytes / page);
  const pages = memoryBytes / page;
  const readTimes = [];
  const writeTimes = [];
  let sink = 0;
  const readAll = (view, c) => {
    for (let p = 0; p < pages; p++) sink += view[p * page + (c % page)];
    // A host without the zero page allocates on the read; here a zero write does it.
    if (emulate) for (let p = dataPages; p < pages; p++) view[p * page] = view[p * page];
  };
  // Read-only tenants over untouched memory: madvise leaves nothing mapped.
  for (let c = 0; c < cycles; c++) {
    const memory = memories[c % slots];
    const t0 = performance.now();
    readAll(new Uint8Array(memory.buffer), c);
    a.resetMemory(memory.buffer, image, NativeResetMode.madvise, 0);
    readTimes.push((performance.now() - t0) * 1000);
  }
  // One last read-only tenant per slot, then what stays in memory.
  for (const [c, memory] of memories.entries()) readAll(new Uint8Array(memory.buffer), c);
  const anonymous = memories.reduce((sum, m) => sum + anonymousBytes(a.memoryAddress(m.buffer), m.buffer.byteLength), 0);
  for (const memory of memories) a.resetMemory(memory.buffer, image, NativeResetMode.madvise, 0);
  // Tenants writing K pages past the data, restore-dirty resets.
  for (let c = 0; c < cycles; c++) {
    const memory = memories[c % slots];
    const view = new Uint8Array(memory.buffer);
    const t0 = performance.now();
    for (let k = 0; k < WRITES; k++) view[(dataPages + ((k * 7919 + c) % (pages - dataPages))) * page] = 1;
    a.resetMemory(memory.buffer, image, NativeResetMode.restoreDirty, 0);
    writeTimes.push((performance.now() - t0) * 1000);
  }
  const filePages = (fstatSync(image.fd).blocks * 512) / page;
  image.release();
  return { layout, readMicros: median(readTimes), writeMicros: median(writeTimes), anonymous, filePages, sink };
}

const rows = ['data-only', 'data-only, no zero page', 'whole-memory', 'data-only', 'data-only, no zero page', 'whole-memory'].map(measure).slice(3);
const base = rows[0];
console.log(
  `${dataBytes / 1024} KiB data in a ${memoryBytes / 1024} KiB memory, ${slots} slots, ${cycles} tenants of each kind (second pass of each layout shown).`,
);
console.log('| image | read every page + reset µs | write 16 tail pages + reset µs | anonymous in the slots after read-only tenants | memfd pages |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.layout} | ${r.readMicros.toFixed(1)} (×${(r.readMicros / base.readMicros).toFixed(2)}) | ` +
      `${r.writeMicros.toFixed(1)} (×${(r.writeMicros / base.writeMicros).toFixed(2)}) | ${r.anonymous / 1024} KiB | ` +
      `${r.filePages} (${(r.filePages * page) / 1024} KiB) |`,
  );
}
