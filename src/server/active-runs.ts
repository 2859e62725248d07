/**
 * The runs a server holds, so a shutdown can wait for them and then cancel the rest. Each run's own
 * controller is what a client disconnect or the drain deadline aborts.
 */
export class ActiveRuns {
  readonly #runs = new Map<AbortController, Promise<unknown>>();
  #draining = false;

  /** True once `drain` has begun: new runs are refused. */
  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#runs.size;
  }

  /** Holds `run` until it settles; `controller` cancels it. */
  track(controller: AbortController, run: Promise<unknown>): void {
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#runs.set(controller, settled);
    void settled.then(() => this.#runs.delete(controller));
  }

  /**
   * Refuses new runs, waits up to `timeoutMs` for those in flight, then cancels the rest and waits for
   * them to end (a cancelled run still writes its trajectory and answers its client). Resolves with the
   * number cancelled.
   */
  async drain(timeoutMs: number): Promise<number> {
    this.#draining = true;
    const all = () => Promise.all(this.#runs.values());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    const outcome = await Promise.race([all().then(() => "done" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "done") return 0;
    const late = [...this.#runs.keys()];
    for (const controller of late)
      controller.abort(
        new Error(`The server is shutting down: the run passed the ${timeoutMs / 1000} s drain timeout.`),
      );
    await all();
    return late.length;
  }
}
