/**
 * What the kernel itself says about an address range: /proc/self/smaps,
 * summed over every mapping that overlaps [address, address + length).
 *
 * Tests use it as a measure independent of the addon's own page scanner, so a
 * scanner that miscounts cannot also make the check pass. A mapping that only
 * partly overlaps the range is counted in full only when it lies inside it:
 * the kernel reports per mapping, so callers pass ranges that start and end
 * on mapping boundaries (a pooled memory's image mapping, a raw slot's base)
 * or accept that neighbours inside the same mapping are included.
 */
import { readFileSync } from 'node:fs';

export interface RangeSmaps {
  /** Mappings that overlap the range. */
  readonly mappings: number;
  /** Bytes resident (Rss). */
  readonly rss: number;
  /** Bytes in anonymous pages: written copies of file pages, or zero-fill memory that was touched. */
  readonly anonymous: number;
  /** Private_Clean + Private_Dirty. */
  readonly privateBytes: number;
  readonly privateDirty: number;
  /** Bytes in swap. */
  readonly swap: number;
  /** Mappings backed by a file (memfd images show as `/memfd:...`). */
  readonly fileBacked: number;
}

/** Sums smaps fields over the mappings overlapping [address, address + length). */
export function rangeSmaps(address: bigint, length: number): RangeSmaps {
  const lo = address;
  const hi = address + BigInt(length);
  const text = readFileSync('/proc/self/smaps', 'utf8');
  let mappings = 0;
  let rss = 0;
  let anonymous = 0;
  let privateClean = 0;
  let privateDirty = 0;
  let swap = 0;
  let fileBacked = 0;
  let inRange = false;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header !== null) {
      const start = BigInt(`0x${header[1]}`);
      const end = BigInt(`0x${header[2]}`);
      inRange = start < hi && end > lo;
      if (inRange) {
        mappings += 1;
        const inode = header[3];
        const path = (header[4] ?? '').trim();
        if (inode !== '0' || path.startsWith('/')) fileBacked += 1;
      }
      continue;
    }
    if (!inRange) continue;
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (field === null) continue;
    const bytes = Number(field[2]) * 1024;
    switch (field[1]) {
      case 'Rss': rss += bytes; break;
      case 'Anonymous': anonymous += bytes; break;
      case 'Private_Clean': privateClean += bytes; break;
      case 'Private_Dirty': privateDirty += bytes; break;
      case 'Swap': swap += bytes; break;
      default: break;
    }
  }
  return { mappings, rss, anonymous, privateBytes: privateClean + privateDirty, privateDirty, swap, fileBacked };
}
