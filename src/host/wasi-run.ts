/**
 * One run of a WASI program: the context the host's functions read. The
 * host is made once; a run is made per tenant and handed to it (`ctx`), so
 * every call reads this run's memory, descriptors and output, never a buffer
 * or table captured from an earlier tenant.
 *
 *   running ──proc_exit──► exited ──finish()──► finished
 *      └──────────────────finish()─────────────────┘
 *
 * Invariant: `memory` is the current tenant's memory, or null until bound.
 * Invariant: `exitCode` is non-null iff proc_exit was called.
 * Invariant: in `finished` every descriptor is closed and nothing is read or written.
 */
import { CowpoolError } from '../errors.js';
import { CappedOutput } from './capped-output.js';
import { FdTable } from './fd-table.js';
import type { MemoryContext } from './guest-memory.js';
import { DIRECTORY_INHERITING, DIRECTORY_RIGHTS } from './wasi-abi.js';
import { WasiExit } from './wasi-exit.js';
import type { ResolvedWasiOptions } from './wasi-options.js';

export type WasiRunState = 'running' | 'exited' | 'finished';

/** What a run produced. */
export interface WasiResult {
  /** 0 when `_start` returned; the code given to proc_exit otherwise. */
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** True when stdout or stderr went past its cap and was cut. */
  truncated: boolean;
  /** Bytes dropped past each cap. */
  droppedBytes: { stdout: number; stderr: number };
}

export class WasiRun implements MemoryContext {
  state: WasiRunState = 'running';
  memory: WebAssembly.Memory | null = null;
  exitCode: number | null = null;
  readonly fds = new FdTable();
  readonly stdout: CappedOutput;
  readonly stderr: CappedOutput;
  /** Bytes of stdin already read. */
  stdinPosition = 0;
  /** `performance.now()` past which host calls throw DEADLINE_EXCEEDED; null for none. */
  readonly deadline: number | null;

  constructor(readonly options: ResolvedWasiOptions) {
    this.stdout = new CappedOutput(options.stdoutCap);
    this.stderr = new CappedOutput(options.stderrCap);
    this.deadline = options.deadlineMs === null ? null : performance.now() + options.deadlineMs;
    this.fds.set(0, { kind: 'stdin' });
    this.fds.set(1, { kind: 'output', sink: this.stdout });
    this.fds.set(2, { kind: 'output', sink: this.stderr });
    options.preopens.forEach((preopen, i) => {
      this.fds.set(3 + i, {
        kind: 'directory',
        preopen,
        components: [],
        rights: DIRECTORY_RIGHTS,
        inheriting: DIRECTORY_INHERITING,
        prestatName: preopen.guestPath,
        listing: null,
      });
    });
  }

  /** Entry check of every host call: throws when the run may not continue. */
  enter(call: string): void {
    if (this.state === 'finished') {
      throw new CowpoolError('LEASE_RELEASED', `wasi ${call}: the run has finished; its instance may not call the host any more`);
    }
    if (this.state === 'exited') throw new WasiExit(this.exitCode as number);
    if (this.deadline !== null && performance.now() > this.deadline) {
      throw new CowpoolError('DEADLINE_EXCEEDED', `wasi ${call}: the run passed its deadline of ${this.options.deadlineMs} ms`);
    }
  }

  /** proc_exit: records the code and unwinds the guest. */
  exit(code: number): never {
    this.exitCode = code >>> 0;
    this.state = 'exited';
    throw new WasiExit(this.exitCode);
  }

  /** Ends the run: descriptors closed, output collected. Entry: running or exited. */
  finish(): WasiResult {
    if (this.state === 'finished') throw new CowpoolError('SLOT_STATE', 'WasiRun.finish(): the run already finished');
    this.state = 'finished';
    this.memory = null;
    this.fds.closeAll();
    return {
      exitCode: this.exitCode ?? 0,
      stdout: this.stdout.bytes(),
      stderr: this.stderr.bytes(),
      truncated: this.stdout.truncated || this.stderr.truncated,
      droppedBytes: { stdout: this.stdout.droppedBytes, stderr: this.stderr.droppedBytes },
    };
  }
}
