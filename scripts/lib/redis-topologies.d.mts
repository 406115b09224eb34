import type { ChildProcess } from 'node:child_process';

export interface ClusterNode { port: number; busPort: number; proc: ChildProcess; args: string[] }

export interface LocalCluster {
  /** redis-cluster://127.0.0.1:<p1>,…: every node as a seed */
  url: string;
  nodes: ClusterNode[];
  dir: string;
  /** kill -9 every node and remove the directory */
  stop(): Promise<void>;
  masterPorts(): Promise<number[]>;
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** kill -9 of a master (default: the first); resolves with its port at once */
  killMaster(port?: number): Promise<number>;
}

export interface LocalSentinel {
  /** redis-sentinel://127.0.0.1:<s1>,<s2>,<s3>/<masterName> */
  url: string;
  masterName: string;
  ports: { master: number; replica: number; sentinels: number[] };
  dir: string;
  stop(): Promise<void>;
  currentMaster(): Promise<number>;
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** SENTINEL FAILOVER; resolves with the new master's port once it takes writes */
  failover(timeoutMs?: number): Promise<number>;
}

export function command(port: number, ...args: (string | number)[]): Promise<unknown>;
export function startCluster(opts?: { masters?: number; replicas?: number; nodeTimeoutMs?: number }): Promise<LocalCluster>;
export function startSentinel(opts?: { masterName?: string; downAfterMs?: number; failoverTimeoutMs?: number }): Promise<LocalSentinel>;
