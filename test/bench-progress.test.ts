/**
 * Bench progress on stderr: a log gets one line per task; a terminal gets
 * nothing for the first second, then one bar redrawn in place, cleared at
 * the end.
 */
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../src/bench/progress-reporter.js';

function reporter(isTTY: boolean) {
  const written: string[] = [];
  let now = 0;
  const progress = new ProgressReporter({ write: (t) => written.push(t), isTTY, columns: 100, now: () => now });
  return { progress, written, advance: (ms: number) => (now += ms) };
}

describe('bench progress', () => {
  it('writes one line per task when stderr is not a terminal', () => {
    const { progress, written } = reporter(false);
    progress.start(3);
    progress.task('m · call_empty_function · fresh', 'median 1.00 ms');
    progress.task('m · call_empty_function · raw', 'skipped: memory only', 2);
    progress.finish();
    expect(written).toEqual([
      'bench [1/3] m · call_empty_function · fresh: median 1.00 ms\n',
      'bench [3/3] m · call_empty_function · raw: skipped: memory only\n',
    ]);
  });

  it('draws a bar on a terminal only after a second, in place, and clears it at the end', () => {
    const { progress, written, advance } = reporter(true);
    progress.start(4);
    advance(200);
    progress.task('a', 'x');
    expect(written).toEqual([]);
    advance(1000);
    progress.task('b', 'x');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\r\x1b\[K\[#{10}·{10}\] 2\/4  0:01  b$/);
    progress.task('c', 'x');
    expect(written[1]).toMatch(/^\r\x1b\[K\[#{15}·{5}\] 3\/4/);
    progress.finish();
    expect(written[2]).toBe('\r\x1b[K');
  });

  it('stays silent on a terminal for a run shorter than a second', () => {
    const { progress, written, advance } = reporter(true);
    progress.start(2);
    advance(300);
    progress.task('a', 'x');
    progress.task('b', 'x');
    progress.finish();
    expect(written).toEqual([]);
  });
});
