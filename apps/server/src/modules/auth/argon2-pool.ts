import { Piscina } from 'piscina';

/** Shipped beside src/ and dist/ alike: ../../../workers from either. */
const WORKER = new URL('../../../workers/argon2.cjs', import.meta.url).href;

type Task = { op: 'hash'; password: string; options: object } | { op: 'verify'; hash: string; password: string };

/**
 * Argon2 off the event loop at a lower CPU priority than request handling: piscina raises each worker
 * thread's nice value (on Linux a thread's priority is its own), so during a login storm the hashes take
 * whatever CPU the other requests leave and the event loop stays responsive (the benchmark's storm p99).
 * At rest nothing competes and hashing runs at full speed. A worker that dies fails its task, not the
 * process, and is replaced.
 */
export class Argon2Pool {
  readonly #pool: Piscina<Task, string | boolean>;

  constructor(size: number, nice = 10) {
    this.#pool = new Piscina({ filename: WORKER, minThreads: size, maxThreads: size, niceIncrement: nice });
  }

  hash(password: string, options: object): Promise<string> {
    return this.#pool.run({ op: 'hash', password, options }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.#pool.run({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  /** Tasks waiting for a thread. */
  get queueSize(): number {
    return this.#pool.queueSize;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
