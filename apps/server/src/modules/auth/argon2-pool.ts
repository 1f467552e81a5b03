import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Each worker lowers its own thread's priority (on Linux a thread's nice value is its own), then hashes
 * and verifies on request. Kept as source text so it runs the same from src/ (tests) and dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { setPriority } = require('node:os');
const argon2 = require(workerData.argon2);
try { setPriority(0, workerData.nice); } catch {}
parentPort.on('message', ({ id, op, args }) => {
  try {
    const result = op === 'hash' ? argon2.hashSync(args[0], args[1]) : argon2.verifySync(args[0], args[1]);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

type Task = { id: number; op: 'hash' | 'verify'; args: [string, unknown] };
type Settle = { resolve: (value: never) => void; reject: (err: Error) => void };

/**
 * Argon2 off the event loop at a lower CPU priority than request handling: during a login storm the hashes
 * take whatever CPU the other requests leave, so the event loop stays responsive (the benchmark's storm p99).
 * At rest nothing competes and hashing runs at full speed.
 */
export class Argon2Pool {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queue: Task[] = [];
  readonly #pending = new Map<number, Settle>();
  #nextId = 0;

  readonly #workerOptions: { eval: true; workerData: { argon2: string; nice: number } };
  /** The task each busy worker is on, to fail it if the worker dies. */
  readonly #current = new Map<Worker, number>();
  #closing = false;

  constructor(size: number, nice = 10) {
    const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
    this.#workerOptions = { eval: true, workerData: { argon2, nice } };
    for (let i = 0; i < size; i++) this.#spawn();
  }

  #spawn(): void {
    const worker = new Worker(WORKER_SOURCE, this.#workerOptions);
    worker.unref();
    worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      this.#settle(id, error === undefined ? { result } : { error: new Error(error) });
      this.#dispatch(worker);
    });
    // A worker that dies (out of memory, say) fails its task, not the process, and is replaced.
    worker.on('error', (err) => {
      const id = this.#current.get(worker);
      if (id !== undefined) this.#settle(id, { error: err });
    });
    worker.on('exit', () => {
      this.#current.delete(worker);
      for (const list of [this.#all, this.#idle]) if (list.includes(worker)) list.splice(list.indexOf(worker), 1);
      if (!this.#closing) this.#spawn();
    });
    this.#all.push(worker);
    this.#dispatch(worker);
  }

  #settle(id: number, outcome: { result?: unknown; error?: Error }): void {
    const settle = this.#pending.get(id);
    this.#pending.delete(id);
    if (outcome.error) settle?.reject(outcome.error);
    else settle?.resolve(outcome.result as never);
  }

  hash(password: string, options: object): Promise<string> {
    return this.#run('hash', [password, options]);
  }

  verify(hashed: string, password: string): Promise<boolean> {
    return this.#run('verify', [hashed, password]);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#all.map((w) => w.terminate()));
  }

  #run<T>(op: Task['op'], args: Task['args']): Promise<T> {
    const id = this.#nextId++;
    const done = new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve, reject } as Settle));
    this.#queue.push({ id, op, args });
    const worker = this.#idle.pop();
    if (worker) this.#dispatch(worker);
    return done;
  }

  /** Gives the worker the next task, or parks it. */
  #dispatch(worker: Worker): void {
    this.#current.delete(worker);
    const task = this.#queue.shift();
    if (task) {
      this.#current.set(worker, task.id);
      worker.postMessage(task);
    } else {
      this.#idle.push(worker);
    }
  }
}
