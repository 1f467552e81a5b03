/**
 * Counts operations still running, so shutdown can wait for them before it closes the database: a client
 * that hung up no longer holds Fastify's close open, but its handler may still be mid-query.
 */
export class InFlight {
  #running = 0;
  #waiting: (() => void)[] = [];

  async track<T>(run: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await run();
    } finally {
      this.#running--;
      if (this.#running === 0) for (const resolve of this.#waiting.splice(0)) resolve();
    }
  }

  /** Resolves once nothing is running. */
  idle(): Promise<void> {
    return this.#running === 0 ? Promise.resolve() : new Promise((resolve) => this.#waiting.push(resolve));
  }
}
