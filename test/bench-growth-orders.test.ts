/**
 * The growth section runs its subjects in every order in turn, so none of
 * them always runs right after another: permutations(n) is every order of
 * 0 .. n-1, each exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { permutations } from '../src/bench/growth-section.js';

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

describe('growth section subject orders', () => {
  it('lists every order of 0 .. n-1 exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), (n) => {
        const orders = permutations(n);
        expect(orders).toHaveLength(factorial(n));
        const identity = Array.from({ length: n }, (_, i) => i);
        for (const order of orders) expect([...order].sort((a, b) => a - b)).toEqual(identity);
        expect(new Set(orders.map((o) => o.join(','))).size).toBe(orders.length);
      }),
    );
  });

  it('puts each subject right after each other one equally often within the rounds of a cycle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), (n) => {
        const follows = new Map<string, number>();
        for (const order of permutations(n)) {
          for (let i = 1; i < order.length; i++) follows.set(`${order[i - 1]}>${order[i]}`, (follows.get(`${order[i - 1]}>${order[i]}`) ?? 0) + 1);
        }
        expect(follows.size).toBe(n * (n - 1));
        expect(new Set(follows.values()).size).toBe(1);
      }),
    );
  });
});
