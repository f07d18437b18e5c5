/**
 * Where userfaultfd or PAGEMAP_SCAN is unavailable (an older kernel, a seccomp
 * filter) every reset mode still leaves memory exactly "image then zeros",
 * falling back track-writes → restore-dirty → restore-dirty-pread → madvise,
 * and reports the mode it actually ran. The facilities are made unavailable
 * in a child process through COWPOOL_DISABLE (read once per process), and in
 * this process through `ResetSettings.disable`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';
import { resetSupport, resetV8Memory, type ResetSettings } from '../src/slots/memory-reset.js';
import { runChild } from './support/child-process.js';
import { MappedMemory, patternBytes } from './support/reset-harness.js';

const CHILD = `
const { PoolResetState, resetV8Memory, resetSupport, SlotResetState, residentPrivateBytes } = await import(SRC + 'slots/memory-reset.js');
const { createAutoResetPolicy } = await import(SRC + 'policy/auto-reset-policy.js');
const { addon } = await import(SRC + 'native/addon.js');
const a = addon();
const page = a.pageSize;
const data = new Uint8Array(200_000).map((_, i) => (i * 7 + 3) & 0xff | 1);
const image = new a.Image(data);
let seed = 12345;
const next = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
const results = {};
for (const mode of ['madvise', 'keep-resident', 'restore-dirty', 'track-writes', 'auto']) {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 16 });
  a.mapImage(memory.buffer, image, 0);
  const expected = new Uint8Array(memory.buffer.byteLength);
  expected.set(data);
  const slot = new SlotResetState();
  slot.remapped();
  const settings = { mode, keepResidentBytes: 65536, maxResidentBytes: 1 << 20, trimEvery: 10 };
  const used = new Set();
  let mismatches = 0;
  for (let cycle = 0; cycle < 80; cycle++) {
    const bytes = new Uint8Array(memory.buffer);
    const pages = memory.buffer.byteLength / page;
    const n = cycle % 3 === 0 ? 5 : next() % 40;
    for (let i = 0; i < n; i++) bytes[(cycle % 3 === 0 ? i * 9 : next() % pages) * page + (next() % page)] = (next() % 255) + 1;
    resetV8Memory(memory.buffer, image, settings, { pool: new PoolResetState(createAutoResetPolicy), slot, key: mode });
    used.add(slot.last.mode);
    if (!Buffer.from(memory.buffer).equals(expected)) mismatches++;
  }
  results[mode] = { mismatches, used: [...used].sort() };
}
console.log(JSON.stringify({ support: a.resetSupport(), report: resetSupport(), results }));
`;

interface ChildReport {
  support: { pagemapRead: { available: boolean; reason: string | null }; pagemapScan: { available: boolean; reason: string | null }; userfaultfd: { available: boolean; reason: string | null }; disabled: string };
  report: { modes: Record<string, string>; autoCandidates: string[] };
  results: Record<string, { mismatches: number; used: string[] }>;
}

function runWith(disabled: string): ChildReport {
  const r = runChild(CHILD, { COWPOOL_DISABLE: disabled });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildReport;
}

describe.each([
  {
    disabled: '',
    restoreDirty: 'restore-dirty',
    trackWrites: 'track-writes',
    auto: ['madvise', 'restore-dirty', 'track-writes', 'keep-resident'],
  },
  {
    disabled: 'uffd',
    restoreDirty: 'restore-dirty',
    trackWrites: 'restore-dirty',
    auto: ['madvise', 'restore-dirty', 'keep-resident'],
  },
  {
    disabled: 'pagemap_scan',
    restoreDirty: 'restore-dirty-pread',
    trackWrites: 'restore-dirty-pread',
    auto: ['madvise', 'restore-dirty-pread', 'keep-resident'],
  },
  {
    disabled: 'uffd,pagemap_scan',
    restoreDirty: 'restore-dirty-pread',
    trackWrites: 'restore-dirty-pread',
    auto: ['madvise', 'restore-dirty-pread', 'keep-resident'],
  },
  {
    disabled: 'pagemap',
    restoreDirty: 'madvise',
    trackWrites: 'madvise',
    auto: ['madvise', 'keep-resident'],
  },
])('COWPOOL_DISABLE="$disabled"', ({ disabled, restoreDirty, trackWrites, auto }) => {
  let child: ChildReport;
  beforeAll(() => {
    child = runWith(disabled);
  });

  it('reports the disabled facilities as unavailable, saying why', () => {
    const names = disabled.split(',').filter((s) => s !== '');
    const off = (name: string): boolean => names.includes(name) || (name !== 'uffd' && names.includes('pagemap'));
    expect(child.support.disabled).toBe(disabled);
    for (const [name, feature] of [
      ['uffd', child.support.userfaultfd],
      ['pagemap_scan', child.support.pagemapScan],
      ['pagemap_read', child.support.pagemapRead],
    ] as const) {
      if (off(name)) {
        expect(feature.available, name).toBe(false);
        expect(feature.reason, name).toBe('disabled by COWPOOL_DISABLE');
      }
    }
  });

  it('runs each requested mode as the next one available', () => {
    expect(child.report.modes['restore-dirty']).toBe(restoreDirty);
    expect(child.report.modes['track-writes']).toBe(trackWrites);
    expect(child.report.autoCandidates).toEqual(auto);
    expect(child.results.madvise?.used).toEqual(['madvise']);
    expect(child.results['keep-resident']?.used).toEqual(['keep-resident']);
    expect(child.results['restore-dirty']?.used).toEqual([restoreDirty]);
    expect(child.results['track-writes']?.used).toEqual([trackWrites]);
    for (const m of child.results.auto?.used ?? []) expect(auto).toContain(m);
  });

  it('leaves every reset exactly image then zeros', () => {
    for (const [mode, r] of Object.entries(child.results)) expect(r.mismatches, mode).toBe(0);
  });
});

describe('ResetSettings.disable', () => {
  it('falls back in this process too, and the reset stays exact', () => {
    const m = new MappedMemory(patternBytes(150_000, 3), 8);
    const settings: ResetSettings = {
      mode: 'track-writes',
      keepResidentBytes: 0,
      maxResidentBytes: 1 << 20,
      trimEvery: 0,
      disable: ['uffd', 'pagemap_scan'],
    };
    expect(resetSupport(settings).modes['track-writes']).toBe('restore-dirty-pread');
    const page = addon().pageSize;
    for (let cycle = 0; cycle < 20; cycle++) {
      const bytes = m.bytes;
      for (let i = 0; i < 10; i++) bytes[((cycle * 5 + i * 3) % m.osPages) * page + i] = cycle + 1;
      resetV8Memory(m.memory.buffer, m.image, settings, { pool: m.resets, slot: m.state, key: 'disable-in-process' });
      expect(m.state.last?.mode).toBe('restore-dirty-pread');
      expect(m.firstMismatch()).toBe(-1);
    }
  });
});
