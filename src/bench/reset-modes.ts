/**
 * `measureResetModes(options)`: what each reset mode costs a tenant cycle —
 * the tenant rewriting K pages, then the reset — measured side by side in one
 * run, with the minor faults per cycle, as ratios to madvise.
 *
 *   per mode × pattern (same pages every tenant | random pages) × K:
 *     fresh WebAssembly.Memory, image mapped ─► warm-up cycles (auto measures
 *     and settles here) ─► measured cycles: write K pages + reset, timed one
 *     by one (median) ─► minor faults (process.resourceUsage) / cycles
 *
 * No assertions on time: the result is data for people and for the report.
 */
import { release } from 'node:os';
import { addon, native, type NativeImage } from '../native/addon.js';
import {
  PoolResetState,
  resetSupport,
  resetV8Memory,
  SlotResetState,
  type ResetModeName,
  type ResetSettings,
} from '../slots/memory-reset.js';
import { createAutoResetPolicy } from '../policy/auto-reset-policy.js';
import { median, xorshift32 } from '../util/statistics.js';

export type WritePattern = 'same' | 'random';

export interface ResetModesOptions {
  /** Image (initial data) size; the memory is the image plus as many zero bytes again. Default 1 MiB. */
  imageBytes?: number;
  /** Pages each tenant writes, one cell per value. Default 1, 16, 64, 256. */
  pagesPerTenant?: readonly number[];
  patterns?: readonly WritePattern[];
  modes?: readonly ResetModeName[];
  /** Cycles run before measuring (auto measures and decides during these). Default 200. */
  warmupCycles?: number;
  /** Cycles measured per cell. Default 500. */
  cycles?: number;
  /** Seed of the random page choice. */
  seed?: number;
  /**
   * `whole-memory` (default): the image file spans the memory, data then
   * holes, as a pool maps it. `data-only`: the image stops at the data and
   * the rest of the memory is V8's anonymous memory (the layout before sparse
   * images), for comparing the two in one run.
   */
  imageLayout?: 'whole-memory' | 'data-only';
}

export interface ResetModeCell {
  mode: ResetModeName;
  pattern: WritePattern;
  pages: number;
  /** Median µs of one cycle (tenant writes + reset). */
  cycleMicros: number;
  /** Median µs of the reset call alone. */
  resetMicros: number;
  minorFaultsPerCycle: number;
  /** cycleMicros / madvise's cycleMicros for the same pattern and K. */
  ratioToMadvise: number | null;
  /** How many measured resets ran in each active mode (auto and fallbacks show here). */
  activeModes: Record<string, number>;
  /** For auto: the mode it settled on and why. */
  autoChoice: { mode: string; reason: string } | null;
}

export interface ResetModesResult {
  machine: { kernel: string; node: string; pageSize: number };
  calibration: { cowFaultNs: number; wpFaultNs: number | null; copyPageNs: number };
  support: { restoreDirty: string; trackWrites: string; autoCandidates: readonly string[] };
  imageBytes: number;
  memoryBytes: number;
  imageLayout: 'whole-memory' | 'data-only';
  cycles: number;
  cells: ResetModeCell[];
}

const WASM_PAGE = 65536;

function imageData(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ((i * 2654435761) >>> 24) | 1;
  return out;
}

function settingsFor(mode: ResetModeName, imageBytes: number): ResetSettings {
  return {
    mode,
    // keep-resident keeps the whole image: the "memcpy the image back" baseline.
    keepResidentBytes: imageBytes,
    maxResidentBytes: 16 << 20,
    trimEvery: 1000,
  };
}

function measureCell(
  image: NativeImage,
  memoryPages: number,
  mode: ResetModeName,
  pattern: WritePattern,
  pages: number,
  options: Required<ResetModesOptions>,
): Omit<ResetModeCell, 'ratioToMadvise'> {
  const pageSize = addon().pageSize;
  const imagePages = Math.ceil(image.dataLength / pageSize);
  const memory = new WebAssembly.Memory({ initial: memoryPages, maximum: memoryPages });
  native(() => addon().mapImage(memory.buffer, image, 0));
  // Each cell is its own pool: its own counters and auto policy.
  const pool = new PoolResetState(createAutoResetPolicy);
  const slot = new SlotResetState();
  slot.remapped();
  const key = `bench:${mode}:${pattern}:${pages}`;
  const settings = settingsFor(mode, imagePages * pageSize);
  const next = xorshift32(options.seed + pages);
  // The same K pages every tenant, spread over the image; or K random image pages each time.
  const fixed = Array.from({ length: pages }, (_, i) => Math.floor((i * imagePages) / pages));
  const pick = (): number[] => (pattern === 'same' ? fixed : Array.from({ length: pages }, () => next() % imagePages));
  const cycle = (value: number): number => {
    const bytes = new Uint8Array(memory.buffer);
    for (const p of pick()) bytes[p * pageSize + (value % pageSize)] = value;
    const t0 = performance.now();
    resetV8Memory(memory.buffer, image, settings, { pool, slot, key });
    return performance.now() - t0;
  };
  for (let i = 0; i < options.warmupCycles; i++) cycle(i & 0xff);
  const cycleTimes: number[] = [];
  const resetTimes: number[] = [];
  const activeModes: Record<string, number> = {};
  const faultsBefore = process.resourceUsage().minorPageFault;
  for (let i = 0; i < options.cycles; i++) {
    const t0 = performance.now();
    const reset = cycle((i & 0xfe) | 1);
    cycleTimes.push((performance.now() - t0) * 1000);
    resetTimes.push(reset * 1000);
    const active = slot.last?.mode ?? 'none';
    activeModes[active] = (activeModes[active] ?? 0) + 1;
  }
  const faults = process.resourceUsage().minorPageFault - faultsBefore;
  const auto = mode === 'auto' ? pool.policyOf(key)?.report() : undefined;
  return {
    mode,
    pattern,
    pages,
    cycleMicros: median(cycleTimes),
    resetMicros: median(resetTimes),
    minorFaultsPerCycle: faults / options.cycles,
    activeModes,
    autoChoice: auto === undefined ? null : { mode: auto.mode, reason: auto.reason },
  };
}

export function measureResetModes(options: ResetModesOptions = {}): ResetModesResult {
  const o: Required<ResetModesOptions> = {
    imageBytes: options.imageBytes ?? 1 << 20,
    pagesPerTenant: options.pagesPerTenant ?? [1, 16, 64, 256],
    patterns: options.patterns ?? ['same', 'random'],
    modes: options.modes ?? ['madvise', 'keep-resident', 'restore-dirty', 'track-writes', 'auto'],
    warmupCycles: options.warmupCycles ?? 200,
    cycles: options.cycles ?? 500,
    seed: options.seed ?? 0x5eed,
    imageLayout: options.imageLayout ?? 'whole-memory',
  };
  const a = addon();
  const imagePages = Math.ceil(o.imageBytes / a.pageSize);
  for (const k of o.pagesPerTenant) {
    if (!Number.isInteger(k) || k < 1 || k > imagePages) {
      throw new RangeError(`pagesPerTenant: ${k} must be an integer between 1 and the image's ${imagePages} pages`);
    }
  }
  const memoryBytes = Math.ceil((2 * imagePages * a.pageSize) / WASM_PAGE) * WASM_PAGE;
  const data = imageData(o.imageBytes);
  const image = native(() => (o.imageLayout === 'data-only' ? new a.Image(data) : new a.Image(data, memoryBytes)));
  const cells: ResetModeCell[] = [];
  try {
    for (const pattern of o.patterns) {
      for (const pages of o.pagesPerTenant) {
        const row = o.modes.map((mode) => measureCell(image, memoryBytes / WASM_PAGE, mode, pattern, pages, o));
        const base = row.find((c) => c.mode === 'madvise')?.cycleMicros;
        for (const c of row) cells.push({ ...c, ratioToMadvise: base === undefined ? null : c.cycleMicros / base });
      }
    }
  } finally {
    image.release();
  }
  const support = resetSupport();
  const calibration = native(() => a.calibrateReset());
  return {
    machine: { kernel: release(), node: process.version, pageSize: a.pageSize },
    calibration,
    support: {
      restoreDirty: support.modes['restore-dirty'],
      trackWrites: support.modes['track-writes'],
      autoCandidates: support.autoCandidates,
    },
    imageBytes: o.imageBytes,
    memoryBytes,
    imageLayout: o.imageLayout,
    cycles: o.cycles,
    cells,
  };
}

/** The result as Markdown: one table per pattern, µs per cycle / minor faults per cycle, ratio to madvise. */
export function formatResetModes(r: ResetModesResult): string {
  const lines: string[] = [];
  lines.push(
    `Reset modes: ${r.imageBytes / 1024} KiB image in a ${r.memoryBytes / 1024} KiB memory (${r.imageLayout === 'data-only' ? 'image of the data only, anonymous tail' : 'image spans the memory'}), ${r.cycles} measured cycles per cell ` +
      `(kernel ${r.machine.kernel}, Node ${r.machine.node}).`,
  );
  lines.push(
    `Calibration: CoW fault ${(r.calibration.cowFaultNs / 1000).toFixed(2)} µs, write-protect fault ` +
      `${r.calibration.wpFaultNs === null ? 'n/a' : `${(r.calibration.wpFaultNs / 1000).toFixed(2)} µs`}, ` +
      `page copy ${(r.calibration.copyPageNs / 1000).toFixed(3)} µs. restore-dirty runs as ${r.support.restoreDirty}, ` +
      `track-writes as ${r.support.trackWrites}; auto chooses among ${r.support.autoCandidates.join(', ')}.`,
  );
  const patterns = [...new Set(r.cells.map((c) => c.pattern))];
  const ks = [...new Set(r.cells.map((c) => c.pages))];
  const modes = [...new Set(r.cells.map((c) => c.mode))];
  for (const pattern of patterns) {
    lines.push('');
    lines.push(`${pattern === 'same' ? 'Same K pages every tenant' : 'K random pages per tenant'} — median µs per cycle / minor faults per cycle (× madvise):`);
    lines.push('');
    lines.push(`| mode | ${ks.map((k) => `K=${k}`).join(' | ')} |`);
    lines.push(`|---|${ks.map(() => '---').join('|')}|`);
    for (const mode of modes) {
      const cellText = ks.map((k) => {
        const c = r.cells.find((x) => x.pattern === pattern && x.pages === k && x.mode === mode);
        if (c === undefined) return '';
        const ratio = c.ratioToMadvise === null ? '' : ` (×${c.ratioToMadvise.toFixed(2)})`;
        return `${c.cycleMicros.toFixed(1)} / ${c.minorFaultsPerCycle.toFixed(1)}${ratio}`;
      });
      lines.push(`| ${mode} | ${cellText.join(' | ')} |`);
    }
    const autoCells = r.cells.filter((c) => c.pattern === pattern && c.autoChoice !== null);
    if (autoCells.length > 0) {
      lines.push('');
      for (const c of autoCells) {
        const ran = Object.entries(c.activeModes).map(([m, n]) => `${m} ${n}`).join(', ');
        lines.push(`- auto, K=${c.pages}: settled on **${c.autoChoice?.mode}** — ${c.autoChoice?.reason} (measured resets: ${ran})`);
      }
    }
  }
  return lines.join('\n');
}
