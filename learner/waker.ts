/**
 * The learner's one wake-up signal: the main loop sleeps in short slices and any event that may have made
 * progress possible (a committed trial, a re-opened slot, a stop request) cuts the sleep short.
 */
export class Waker {
  private wake: (() => void) | null = null;

  /** Ends the current sleep, if any. */
  kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sleeps up to `ms`, or until the next `kick()`. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
