/** Where a command writes: the process's stdout and stderr, or a test's buffers. */
export type Out = (text: string) => void;

export interface CliIo {
  stdout: Out;
  stderr: Out;
}

