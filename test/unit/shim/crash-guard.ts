/**
 * Records every uncaughtException and unhandledRejection while installed, so a test can assert that hostile input
 * never reached the process level (where, without a listener, it would end the process), and can stop waiting
 * for an answer as soon as one happens.
 */
export class CrashGuard {
  readonly failures: unknown[] = [];
  #wake: Array<() => void> = [];
  readonly #record = (err: unknown): void => {
    this.failures.push(err);
    for (const wake of this.#wake.splice(0)) wake();
  };

  static install(): CrashGuard {
    const guard = new CrashGuard();
    process.on('uncaughtException', guard.#record);
    process.on('unhandledRejection', guard.#record);
    return guard;
  }

  dispose(): void {
    process.off('uncaughtException', this.#record);
    process.off('unhandledRejection', this.#record);
  }

  /** Throws the first failure recorded, if any. */
  check(): void {
    if (this.failures.length > 0) {
      const first = this.failures[0];
      throw new Error(`process-level failure: ${first instanceof Error ? first.stack : String(first)}`, { cause: first });
    }
  }

  /** `promise`, unless a process-level failure happens first (then rejects with it). */
  async race<T>(promise: Promise<T>): Promise<T> {
    this.check();
    const failed = new Promise<never>((_resolve, reject) => {
      this.#wake.push(() => reject(new Error('process-level failure', { cause: this.failures[0] })));
    });
    return Promise.race([promise, failed]);
  }
}
