import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, MetricsRegistry } from '../src/serve/metrics-registry.js';

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('MetricsRegistry', () => {
  it('counts requests by route and status', () => {
    const m = new MetricsRegistry();
    m.observeRequest('/a', 200, 0.001);
    m.observeRequest('/a', 200, 0.002);
    m.observeRequest('/a', 504, 1.5);
    m.observeRequest('', 404, 0.0001);
    const text = m.render();
    expect(sample(text, 'cowpool_requests_total{route="/a",status="200"}')).toBe(2);
    expect(sample(text, 'cowpool_requests_total{route="/a",status="504"}')).toBe(1);
    expect(sample(text, 'cowpool_requests_total{route="",status="404"}')).toBe(1);
  });

  it('keeps cumulative histogram buckets whose +Inf bucket is the count', () => {
    const m = new MetricsRegistry();
    const times = [0.00005, 0.0003, 0.003, 0.003, 0.2, 20];
    for (const t of times) m.observeRequest('/r', 200, t);
    const text = m.render();
    let previous = 0;
    for (const le of LATENCY_BUCKETS) {
      const n = sample(text, `cowpool_request_duration_seconds_bucket{route="/r",le="${le}"}`) ?? -1;
      expect(n).toBe(times.filter((t) => t <= le).length);
      expect(n).toBeGreaterThanOrEqual(previous);
      previous = n;
    }
    expect(sample(text, 'cowpool_request_duration_seconds_bucket{route="/r",le="+Inf"}')).toBe(times.length);
    expect(sample(text, 'cowpool_request_duration_seconds_count{route="/r"}')).toBe(times.length);
    expect(sample(text, 'cowpool_request_duration_seconds_sum{route="/r"}')).toBeCloseTo(times.reduce((a, b) => a + b), 9);
  });

  it('reports gauges, restarts and per-worker pool statistics; escapes label values', () => {
    const m = new MetricsRegistry();
    m.setQueueDepth(3);
    m.setInFlight(2);
    m.workerRestarted();
    m.setPoolStats(0, { leasesActive: 1, 'slots.clean': 4 });
    m.setPoolStats(1, { leasesActive: 0 });
    m.observeRequest('/q"\\\n', 200, 0.01);
    const text = m.render();
    expect(sample(text, 'cowpool_queue_depth')).toBe(3);
    expect(sample(text, 'cowpool_requests_in_flight')).toBe(2);
    expect(sample(text, 'cowpool_worker_restarts_total')).toBe(1);
    expect(sample(text, 'cowpool_pool_leasesActive{worker="0"}')).toBe(1);
    expect(sample(text, 'cowpool_pool_leasesActive{worker="1"}')).toBe(0);
    expect(sample(text, 'cowpool_pool_slots_clean{worker="0"}')).toBe(4);
    expect(text).toContain('route="/q\\"\\\\\\n"');
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of text.trim().split('\n')) {
      if (!line.startsWith('#')) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+-]+$/);
    }
  });
});
