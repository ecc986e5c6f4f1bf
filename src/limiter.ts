/**
 * Runs at most `size` tasks at once; the rest wait their turn in arrival order. Under a burst
 * this keeps the event loop free for what must stay fast (acknowledging the platforms within
 * their deadline) instead of interleaving hundreds of half-done commands.
 */
export function createLimiter(size: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return async function limit<T>(task: () => Promise<T>): Promise<T> {
    if (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
