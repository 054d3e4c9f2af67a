/**
 * What serving the dashboard costs this process: the time spent in dashboard work (pages, assets, history, status,
 * event-stream pushes), summed over the process's life. Synchronous sections only, timed with the monotonic clock,
 * so the figure is an upper bound of the main thread's CPU they took (preemption by other processes counts too).
 * Process-wide like prom-client's process metrics: one learner per process in production; `lamer bench dashboard`
 * reads it before and after each leg.
 */
let busyNs = 0n;

/** Runs `f` and adds its duration to the dashboard's busy time. */
export function timedDashboardWork<T>(f: () => T): T {
  const t0 = process.hrtime.bigint();
  try {
    return f();
  } finally {
    busyNs += process.hrtime.bigint() - t0;
  }
}

/** Seconds this process has spent in dashboard work so far. */
export function dashboardBusySeconds(): number {
  return Number(busyNs) / 1e9;
}
