/**
 * The SVG chart's scale: a log axis covers the values in whole decades and
 * bar heights grow with the value inside the plot; bar labels stay short.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barRatio, decadeTime, logAxis, logHeight } from '../src/bench/report-svg.js';

describe('bench chart scale', () => {
  it('covers [min, max] with whole decades, at least one apart', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e8, noNaN: true }), fc.double({ min: 1e-3, max: 1e8, noNaN: true }), (a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const axis = logAxis(min, max);
        expect(axis.low).toBeLessThanOrEqual(min * (1 + 1e-12));
        expect(axis.high).toBeGreaterThanOrEqual(max * (1 - 1e-12));
        expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
        expect(axis.ticks[0]).toBe(axis.low);
        expect(axis.ticks[axis.ticks.length - 1]).toBe(axis.high);
        axis.ticks.slice(1).forEach((t, i) => expect(t / (axis.ticks[i] as number)).toBeCloseTo(10, 9));
      }),
    );
    // Nothing measured: a usable axis rather than an endless loop.
    expect(logAxis(Infinity, -Infinity).ticks).toEqual([1, 10]);
  });

  it('gives larger values taller bars, within the plot', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.double({ min: 0.01, max: 1e6, noNaN: true }), (a, b) => {
        const axis = logAxis(Math.min(a, b), Math.max(a, b));
        const ha = logHeight(a, axis.low, axis.high, 190);
        const hb = logHeight(b, axis.low, axis.high, 190);
        for (const h of [ha, hb]) {
          expect(h).toBeGreaterThanOrEqual(0);
          expect(h).toBeLessThanOrEqual(190 + 1e-9);
        }
        if (a < b) expect(ha).toBeLessThanOrEqual(hb);
      }),
    );
  });

  it('labels decades and ratios briefly', () => {
    expect([0.1, 1, 10, 100, 1000, 1e4, 1e6].map(decadeTime)).toEqual(['0.1 µs', '1 µs', '10 µs', '100 µs', '1 ms', '10 ms', '1 s']);
    expect([0.812, 4.64, 23.4, 300.2].map(barRatio)).toEqual(['0.8×', '4.6×', '23×', '300×']);
    expect(barRatio(null)).toBe('');
  });
});
