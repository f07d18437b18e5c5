/**
 * What a read does on a host without a shared zero page, reproduced on any
 * host.
 *
 * There, reading a never-touched page of anonymous memory allocates a private
 * page of zeros; on a host with the zero page the same read maps the shared
 * zero page and nothing becomes private. Reading a page of a file (an image
 * memfd, hole or not) maps a page-cache page on both and never makes a
 * private page. So to see on this host what the other one would see, a test
 * that has just read a range calls `touchZeroArea` on it: every page of the
 * range that lies in an anonymous mapping (per /proc/self/maps) gets its
 * first byte written back with the value it holds. On a never-touched page
 * that is a zero byte, which allocates exactly the private zero page the
 * other host's read would; a page that is private already is left as it
 * was. Pages in file-backed mappings are not touched.
 *
 *   memory  |<-- file mapping (image) -->|<-- anonymous mapping -->|
 *   touched   none                         one byte per page, value unchanged
 */
import { readFileSync } from 'node:fs';
import { addon } from '../../src/native/addon.js';

interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly anonymous: boolean;
}

function mappingsOverlapping(lo: bigint, hi: bigint): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (start >= hi || end <= lo) continue;
    const inode = m[3];
    const path = (m[4] ?? '').trim();
    // memfds have an inode and a `/memfd:...` path; anonymous memory has
    // neither (or a bracketed name such as [anon:...]).
    out.push({ start, end, anonymous: inode === '0' && !path.startsWith('/') });
  }
  return out;
}

/**
 * Makes the reads of [offset, offset + length) of `buffer` leave what they
 * would leave on a host without a shared zero page. Returns the number of
 * pages written (those in anonymous mappings).
 */
export function touchZeroArea(buffer: ArrayBuffer, offset = 0, length = buffer.byteLength - offset): number {
  const page = addon().pageSize;
  if (length <= 0) return 0;
  const base = addon().memoryAddress(buffer);
  const first = Math.floor(offset / page) * page;
  const end = offset + length;
  const lo = base + BigInt(first);
  const hi = base + BigInt(end);
  const view = new Uint8Array(buffer);
  let touched = 0;
  for (const mapping of mappingsOverlapping(lo, hi)) {
    if (!mapping.anonymous) continue;
    const from = Math.max(first, Number(mapping.start - base));
    const to = Math.min(end, Number(mapping.end - base));
    for (let at = from; at < to; at += page) {
      view[at] = view[at] as number;
      touched += 1;
    }
  }
  return touched;
}
