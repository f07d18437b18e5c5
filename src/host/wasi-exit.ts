/**
 * What `proc_exit` throws to unwind the guest: the run ends with `code`.
 * Internal to the host; runners catch it and report `exitCode`. A guest that
 * catches it (wasm exception handling's catch_all) gains nothing: the run is
 * already `exited`, and every later host call throws it again.
 */
export class WasiExit extends Error {
  override readonly name = 'WasiExit';
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}
