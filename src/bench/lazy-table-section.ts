/**
 * The lazy-table section: a funcref table built eagerly against one built
 * lazily, over acquire + a few calls + reset, both as a fresh table per
 * instance (`construct`) and as a pooled table reset between tenants
 * (`reset`). The measurement itself is `measureLazyTable`; this turns its
 * per-round times into medians and ratios.
 */
import { measureLazyTable } from '../table/lazy-table-measure.js';
import type { LazyTableSection, LazyTableTimes } from './bench-results.js';
import { median } from '../util/statistics.js';

type MeasuredLazyTable = Extract<LazyTableSection, { status: 'measured' }>;

function times(entries: number, rounds: number, acquire: 'construct' | 'reset'): LazyTableTimes {
  const { eager, lazy } = measureLazyTable(entries, rounds, { acquire });
  const eagerMedianUs = median(eager) * 1000;
  const lazyMedianUs = median(lazy) * 1000;
  return { eagerMedianUs, lazyMedianUs, ratio: lazyMedianUs > 0 ? eagerMedianUs / lazyMedianUs : Number.POSITIVE_INFINITY };
}

export function measureLazyTableSection(entries: number, rounds: number): MeasuredLazyTable {
  return { status: 'measured', entries, rounds, construct: times(entries, rounds, 'construct'), reset: times(entries, rounds, 'reset') };
}
