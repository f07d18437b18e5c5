/**
 * The server's metrics in Prometheus text format (version 0.0.4), served at
 * `GET /_cowpool/metrics`: requests by route and status, a latency histogram
 * per route, queue depth, requests in flight, worker restarts, and each
 * worker's pool statistics as last reported.
 *
 * State belongs to one server; nothing here is process-wide.
 *
 * Invariant: every counter only grows; a histogram's bucket counts are
 *            cumulative and its +Inf bucket equals its count.
 */

/** Latency bucket bounds in seconds: 100 µs to 10 s. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Histogram {
  readonly buckets: number[];
  count: number;
  sum: number;
}

/** Escapes a label value (backslash, quote, newline). */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class MetricsRegistry {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  #workerRestarts = 0;
  #queueDepth = 0;
  #inFlight = 0;
  readonly #poolStats = new Map<number, Record<string, number>>();

  /** One finished request: its route pattern ("" for no route), status and seconds taken. */
  observeRequest(route: string, status: number, seconds: number): void {
    const key = `${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#latency.get(route);
    if (h === undefined) {
      h = { buckets: LATENCY_BUCKETS.map(() => 0), count: 0, sum: 0 };
      this.#latency.set(route, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= (LATENCY_BUCKETS[i] as number)) h.buckets[i] = (h.buckets[i] as number) + 1;
    h.count += 1;
    h.sum += seconds;
  }

  workerRestarted(): void {
    this.#workerRestarts += 1;
  }

  setQueueDepth(depth: number): void {
    this.#queueDepth = depth;
  }

  setInFlight(count: number): void {
    this.#inFlight = count;
  }

  /** A worker's pool statistics, flattened to numbers (the latest report replaces the previous one). */
  setPoolStats(worker: number, stats: Record<string, number>): void {
    this.#poolStats.set(worker, stats);
  }

  get workerRestarts(): number {
    return this.#workerRestarts;
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    out.push('# HELP cowpool_requests_total Requests answered, by route and HTTP status.');
    out.push('# TYPE cowpool_requests_total counter');
    for (const [key, n] of [...this.#requests].sort()) {
      const [route, status] = key.split('\u0000') as [string, string];
      out.push(`cowpool_requests_total{route="${label(route)}",status="${status}"} ${n}`);
    }
    out.push('# HELP cowpool_request_duration_seconds Time from request received to response written.');
    out.push('# TYPE cowpool_request_duration_seconds histogram');
    for (const [route, h] of [...this.#latency].sort(([a], [b]) => a.localeCompare(b))) {
      const r = label(route);
      LATENCY_BUCKETS.forEach((le, i) => out.push(`cowpool_request_duration_seconds_bucket{route="${r}",le="${le}"} ${h.buckets[i]}`));
      out.push(`cowpool_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
      out.push(`cowpool_request_duration_seconds_sum{route="${r}"} ${h.sum}`);
      out.push(`cowpool_request_duration_seconds_count{route="${r}"} ${h.count}`);
    }
    out.push('# HELP cowpool_queue_depth Requests waiting for a worker.');
    out.push('# TYPE cowpool_queue_depth gauge');
    out.push(`cowpool_queue_depth ${this.#queueDepth}`);
    out.push('# HELP cowpool_requests_in_flight Requests running in a worker.');
    out.push('# TYPE cowpool_requests_in_flight gauge');
    out.push(`cowpool_requests_in_flight ${this.#inFlight}`);
    out.push('# HELP cowpool_worker_restarts_total Workers stopped (deadline, crash) and replaced.');
    out.push('# TYPE cowpool_worker_restarts_total counter');
    out.push(`cowpool_worker_restarts_total ${this.#workerRestarts}`);
    const names = new Set<string>();
    for (const stats of this.#poolStats.values()) for (const name of Object.keys(stats)) names.add(name);
    for (const name of [...names].sort()) {
      const metric = `cowpool_pool_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`;
      out.push(`# HELP ${metric} Instance pool statistic "${name}", per worker.`);
      out.push(`# TYPE ${metric} gauge`);
      for (const [worker, stats] of [...this.#poolStats].sort(([a], [b]) => a - b)) {
        const value = stats[name];
        if (value !== undefined) out.push(`${metric}{worker="${worker}"} ${value}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
