// Signal delivery, compared with the host kernel (test/helpers/signal-cases.ts): handlers, masks and
// queues, faults caught by handlers, the FPU/AVX state across a handler, interrupted blocking calls.
import { compareWithNative } from './helpers/signal-cases.js';

compareWithNative([
  // Handlers with SA_SIGINFO, masks, SA_NODEFER, SA_RESETHAND, pending order, RT queues, SIG_IGN, sigaltstack, errors.
  { name: 'sig_handlers', status: 0 },
  // SIGSEGV (MAPERR, ACCERR), SIGBUS, SIGFPE, SIGILL, SIGTRAP caught, siglongjmp out; then a blocked SIGSEGV kills.
  { name: 'sig_fault', status: 139 },
  { name: 'sig_fault', args: ['ignored'], status: 139 },
  // XMM, YMM, ZMM, k registers, MXCSR and x87 state across a handler that clobbers them.
  { name: 'sig_fpu', status: 0 },
  // SIGALRM interrupting pipe reads and writes (SA_RESTART or not), nanosleep, pause, sigsuspend, sigtimedwait.
  { name: 'sig_restart', status: 0 },
  // SIGALRM interrupting a loop that makes no syscalls; the last one kills it.
  { name: 'sig_async', status: 142 },
  // signalfd: non-blocking and blocking reads, each sender's siginfo, a new mask on the same fd, errors.
  { name: 'sig_signalfd', status: 0 },
  // POSIX timers (SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE, overruns, TIMER_ABSTIME, delete, exec) and CPU-time timers.
  { name: 'sig_timers', status: 0, flags: ['-pthread'] },
]);
