import type { ChildProcess } from 'node:child_process';

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  proc: ChildProcess;
  /** SIGTERM and wait for the process to exit (resolves at once if it already has). */
  stop(): Promise<void>;
}

export function freePort(): Promise<number>;
export function ping(port: number): Promise<boolean>;
/** stderr of redis-server: 'inherit' (default) shows its warnings, 'ignore' hides them. */
export function startPrivateRedis(opts?: { stderr?: 'inherit' | 'ignore' }): Promise<PrivateRedis>;
