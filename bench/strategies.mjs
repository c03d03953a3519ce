// The published pollers we compare against, as schedules: given the attempt just made
// (1-based) and the time since the first poll, how long to sleep before the next, or null
// to give up. Times are in full-scale milliseconds; the runner scales them.

const uniform = (low, high) => low + Math.random() * (high - low);

/** Poll every second. */
export const fixedOneSecond = {
  name: "fixed 1 s",
  nextDelay: () => 1000,
};

/**
 * The seeds' async client: 1 s doubling, ±0.5 s of jitter added, giving up after
 * 10 attempts or 60 s.
 */
export const seeds = {
  name: "seeds' client",
  nextDelay(attempt, elapsed) {
    const delay = Math.max(0, 1000 * 2 ** (attempt - 1) + uniform(-500, 500));
    if (attempt >= 10 || elapsed + delay > 60_000) return null;
    return delay;
  },
};

/**
 * AWS SDK v3 waiters (util-waiter): minDelay 2 s, maxDelay 120 s; the delay before
 * attempt n+1 is uniform in [minDelay, minDelay·2^(n−1)], maxDelay once past the ceiling.
 */
export const awsWaiter = {
  name: "AWS SDK v3 waiter",
  nextDelay(attempt) {
    const [minDelay, maxDelay] = [2000, 120_000];
    const ceiling = Math.log(maxDelay / minDelay) / Math.log(2) + 1;
    if (attempt > ceiling) return maxDelay;
    return uniform(minDelay, minDelay * 2 ** (attempt - 1));
  },
};

/** Google api-core's polling: 1 s ×1.5 up to 20 s, full jitter (uniform in [0, d]). */
export const googleApiCore = {
  name: "Google api-core",
  nextDelay(attempt) {
    const nominal = Math.min(1000 * 1.5 ** (attempt - 1), 20_000);
    return uniform(0, nominal);
  },
};

export const ANCHORS = [fixedOneSecond, seeds, awsWaiter, googleApiCore];
