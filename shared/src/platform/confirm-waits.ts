// The bounded waits of a confirmed publish: socket back-pressure, an earlier publish of the same
// message, the broker's confirms. Each ends by a deadline (epoch ms) shared by a whole batch. A stop
// bounds its waits for the broker with them too.

/** Resolves with `promise`'s value, or with `fallback` once the deadline passes. */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, fallback: T): Promise<T> {
  const timer = deadlineTimer(deadline);
  try {
    return await Promise.race([promise, timer.reached.then(() => fallback)]);
  } finally {
    timer.cancel();
  }
}

/**
 * Waits for `work` to settle, fulfilled or rejected, at most until the deadline: a stop's wait for
 * the broker's answer to a cancel or a close, which a silent broker never gives.
 */
export async function settledBefore(work: Promise<unknown>, deadline: number): Promise<void> {
  await beforeDeadline(
    work.then(
      () => undefined,
      () => undefined,
    ),
    deadline,
    undefined,
  );
}

/** Like `beforeDeadline` for each promise, with one timer for all of them. */
export async function allBeforeDeadline<T>(promises: Promise<T>[], deadline: number, fallback: T): Promise<T[]> {
  const timer = deadlineTimer(deadline);
  const late = timer.reached.then(() => fallback);
  try {
    return await Promise.all(promises.map((promise) => Promise.race([promise, late])));
  } finally {
    timer.cancel();
  }
}

function deadlineTimer(deadline: number): { reached: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  return { reached, cancel: () => clearTimeout(timer) };
}
