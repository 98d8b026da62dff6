// The signal state of src/kernel/signals.ts without /dev/kvm: which signal comes next, coalescing and
// queueing, what a disposition discards, masks, the alternate stack's rules.
import test from 'ava';
import { EINVAL, ENOMEM, EPERM } from '../src/abi/errno.js';
import { infoSigno, senderInfo } from '../src/abi/siginfo.js';
import { SI_QUEUE, SI_USER, SIG_DFL, SIG_IGN, Signal, SIGRTMIN, sigBit, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK } from '../src/abi/signal.js';
import { IntervalTimer } from '../src/kernel/itimer.js';
import { DefaultAction, defaultAction, nextSignal, ProcessSignals, ThreadSignals } from '../src/kernel/signals.js';

const queued = (signo: number, code = SI_USER) => ({ info: senderInfo(signo, code, 1, 0), detail: '' });

test('faults come first, then the lowest number; the thread before its process', (t) => {
  t.is(nextSignal(sigBit(Signal.SIGTERM) | sigBit(Signal.SIGHUP)), Signal.SIGHUP);
  t.is(nextSignal(sigBit(Signal.SIGTERM) | sigBit(Signal.SIGSEGV) | sigBit(Signal.SIGHUP)), Signal.SIGSEGV);
  t.is(nextSignal(sigBit(40) | sigBit(64)), 40);
  t.is(nextSignal(0n), 0);
  const thread = new ThreadSignals(new ProcessSignals());
  thread.process.pending.enqueue(queued(Signal.SIGHUP));
  thread.pending.enqueue(queued(Signal.SIGTERM));
  thread.recompute();
  t.is(infoSigno(thread.take()!.info), Signal.SIGTERM);
  t.is(infoSigno(thread.take()!.info), Signal.SIGHUP);
  t.is(thread.take(), null);
  t.false(thread.deliverable);
});

test('standard signals coalesce, real-time ones queue in order', (t) => {
  const thread = new ThreadSignals(new ProcessSignals());
  t.true(thread.pending.enqueue(queued(Signal.SIGUSR1)));
  t.false(thread.pending.enqueue(queued(Signal.SIGUSR1)));
  for (let i = 0; i < 3; i++) t.true(thread.pending.enqueue(queued(SIGRTMIN + 1, SI_QUEUE)));
  t.is(thread.pending.size, 4);
  thread.recompute();
  const order: number[] = [];
  for (let q = thread.take(); q !== null; q = thread.take()) order.push(infoSigno(q.info));
  t.deepEqual(order, [Signal.SIGUSR1, SIGRTMIN + 1, SIGRTMIN + 1, SIGRTMIN + 1]);
});

test('a blocked signal waits; unblocking makes it deliverable; SIGKILL and SIGSTOP cannot be blocked', (t) => {
  const thread = new ThreadSignals(new ProcessSignals());
  thread.setMask(sigBit(Signal.SIGUSR1) | sigBit(Signal.SIGKILL) | sigBit(Signal.SIGSTOP));
  t.is(thread.mask, sigBit(Signal.SIGUSR1));
  thread.process.pending.enqueue(queued(Signal.SIGUSR1));
  thread.process.changed();
  t.false(thread.deliverable);
  t.is(thread.blockedPending(), sigBit(Signal.SIGUSR1));
  thread.setMask(0n);
  t.true(thread.deliverable);
  t.is(thread.takeFrom(sigBit(Signal.SIGUSR2)), null);
  t.is(infoSigno(thread.takeFrom(sigBit(Signal.SIGUSR1))!.info), Signal.SIGUSR1);
});

test('dispositions: defaults, SIG_IGN discarding what is pending, unknown flags dropped', (t) => {
  t.is(defaultAction(Signal.SIGSEGV), DefaultAction.Core);
  t.is(defaultAction(Signal.SIGTERM), DefaultAction.Terminate);
  t.is(defaultAction(Signal.SIGCHLD), DefaultAction.Ignore);
  t.is(defaultAction(Signal.SIGTSTP), DefaultAction.Stop);
  t.is(defaultAction(SIGRTMIN + 3), DefaultAction.Terminate);
  const process = new ProcessSignals();
  const thread = new ThreadSignals(process);
  t.true(process.ignores(Signal.SIGWINCH));
  t.false(process.ignores(Signal.SIGTERM));
  thread.pending.enqueue(queued(Signal.SIGTERM));
  process.pending.enqueue(queued(Signal.SIGTERM));
  process.setAction(Signal.SIGTERM, { handler: SIG_IGN, flags: 0x400 | 0x1000_0000, restorer: 0, mask: sigBit(Signal.SIGKILL) });
  t.is(thread.pending.size + process.pending.size, 0);
  t.is(process.action(Signal.SIGTERM).flags, 0x1000_0000);
  t.is(process.action(Signal.SIGTERM).mask, 0n);
  process.setAction(Signal.SIGTERM, { handler: 0x401000, flags: 0x8000_0000, restorer: 0, mask: 0n });
  process.resetHandler(Signal.SIGTERM);
  t.is(process.action(Signal.SIGTERM).handler, SIG_DFL);
  t.is(process.action(Signal.SIGTERM).flags, 0x8000_0000);
});

test('sigaltstack: EPERM on it, EINVAL for unknown flags, ENOMEM when small, SS_AUTODISARM', (t) => {
  const thread = new ThreadSignals(new ProcessSignals());
  t.is(thread.altStackFlags(0x5000), SS_DISABLE);
  t.is(thread.setAltStack({ sp: 0x10000, size: 0x4000, flags: 0 }, 0x7000_0000).error, null);
  t.is(thread.setAltStack(null, 0x12000).old.flags, SS_ONSTACK);
  t.is(thread.setAltStack({ sp: 0x20000, size: 0x4000, flags: 0 }, 0x12000).error, EPERM);
  t.is(thread.setAltStack({ sp: 0x20000, size: 0x4000, flags: 5 }, 0x7000_0000).error, EINVAL);
  t.is(thread.setAltStack({ sp: 0x20000, size: 1024, flags: 0 }, 0x7000_0000).error, ENOMEM);
  t.is(thread.setAltStack({ sp: 0x20000, size: 0x4000, flags: SS_AUTODISARM }, 0x7000_0000).error, null);
  t.false(thread.onAltStack(0x21000), 'SS_AUTODISARM: never "on" it');
  t.true(thread.withinAltStack(0x21000));
  t.is(thread.setAltStack(null, 0x21000).old.flags, SS_AUTODISARM | 0);
  t.is(thread.setAltStack({ sp: 0x30000, size: 0, flags: SS_DISABLE }, 0x7000_0000).error, null);
  t.deepEqual(thread.altStack, { sp: 0, size: 0, flags: SS_DISABLE });
});

test('an interval timer fires, re-arms by its period, and reports what is left', async (t) => {
  let fired = 0;
  const timer = new IntervalTimer(() => fired++);
  const old = timer.set({ valueNs: 20_000_000n, intervalNs: 20_000_000n });
  t.deepEqual(old, { valueNs: 0n, intervalNs: 0n });
  const left = timer.get();
  t.true(left.valueNs > 0n && left.valueNs <= 20_000_000n);
  // Two expiries at least; under load the event loop may come late, and missed periods are skipped.
  for (let waited = 0; fired < 2 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  const last = timer.set({ valueNs: 0n, intervalNs: 0n });
  t.true(fired >= 2, `fired ${fired} times`);
  t.is(last.intervalNs, 20_000_000n);
  t.deepEqual(timer.get(), { valueNs: 0n, intervalNs: 0n });
});
