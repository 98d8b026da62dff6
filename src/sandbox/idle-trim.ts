// An idle sandbox gives the host back the memory its Sentry does not use. Once the kernel has handled
// no syscall or fault for a second (every task blocked or asleep: a server waiting for clients, a
// `sleep`, or a program that computes), V8 collects its garbage and shrinks its heap, and glibc hands
// back the free parts of malloc's arenas (kvm/host.cc trimMemory): some milliseconds, once per idle
// spell, where V8 by itself would keep its start-up's young generation and garbage for good.
import { hostCalls } from '../platform/host.js';

const IDLE_CHECK_MS = 1000;

/** Starts watching activity (a count that grows with every event handled); returns the stop. */
export function trimWhenIdle(activity: () => number): () => void {
  let last = -1;
  let trimmed = false;
  const timer = setInterval(() => {
    const now = activity();
    if (now !== last) {
      last = now;
      trimmed = false;
    } else if (!trimmed) {
      trimmed = true;
      hostCalls().trimMemory();
    }
  }, IDLE_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
