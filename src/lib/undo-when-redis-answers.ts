// A Redis command whose answer was lost (Redis stalled, the command timed out on our side) may
// still run once Redis wakes: a claim, a cooldown or a quota slot it took would then be held by
// a request that is gone. This gives it back as soon as Redis answers again. The undo must be
// safe when the command never ran (it checks that what it removes is ours).

/** Runs `undo` a second from now and again each second until it succeeds or `forMs` has passed. */
export function undoWhenRedisAnswers(undo: () => Promise<unknown>, forMs: number): void {
  const until = Date.now() + forMs;
  const attempt = () =>
    void undo().catch(() => {
      if (Date.now() < until) setTimeout(attempt, 1000).unref();
    });
  setTimeout(attempt, 1000).unref();
}
