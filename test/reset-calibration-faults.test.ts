/**
 * Calibration (the fault and copy prices auto's cost model uses) runs once
 * per process, on whichever thread asks first, possibly while a test has a
 * fault armed for the operation after it: calibration neither fires it nor
 * spends its `skip`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addon } from '../src/native/addon.js';

afterEach(() => addon().injectFault(null));

describe('reset calibration', () => {
  it('measures positive prices with faults armed on every call it makes, firing none', () => {
    for (const call of ['mmap', 'madvise', 'memfd_create', 'ftruncate', 'pwrite', 'ioctl', 'munmap']) {
      addon().injectFault(call, 0, 1000, 'ENOMEM');
    }
    const before = addon().injectedFaults();
    const c = addon().calibrateReset();
    expect(addon().injectedFaults()).toBe(before);
    expect(c.cowFaultNs).toBeGreaterThan(0);
    expect(c.copyPageNs).toBeGreaterThan(0);
    if (addon().resetSupport().userfaultfd.available) expect(c.wpFaultNs).toBeGreaterThan(0);
  });

  it('leaves an armed fault, skip count included, to the operation after it', () => {
    addon().injectFault('mmap', 1, 1, 'ENOMEM');
    addon().calibrateReset();
    // A raw slot maps twice: its reservation, then its memfd. With the skip
    // intact the reservation goes through and the second mapping fails; had
    // calibration's own mappings spent the skip, the reservation would fail.
    expect(() => new (addon().RawSlot)(65536, 65536)).toThrow(/mapping a raw slot: mmap failed with ENOMEM/);
  });
});
