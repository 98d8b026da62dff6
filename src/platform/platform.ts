// The Platform: what the kernel sees of the machine. A Context is one vCPU running one task's user
// code; `run` drives all contexts and hands each guest event to the kernel's handler, which answers in
// the mailbox. Two ways to run, one event format:
//   exits     every syscall is a VM exit; the JS thread sits in KVM_RUN (addon run()).
//   exitless  vCPUs run on native threads; the stub posts syscalls to the mailbox and spins,
//             the JS thread polls while guests are busy and sleeps in the event loop when all wait.
// Mode kvm-exit runs with exits throughout. Mode kvm starts with exits too and turns exitless once the
// program shows it needs it (`exitlessAfter` events, or a second context kept waiting by a computing
// one): a short program never pays for the vCPU threads, their wake-ups and the poller's core.

import { loadAddon, type NativeMachine, type NativeVcpu } from './addon.js';
import { buildSharedTables, buildVcpu, loadStub, type RootEntry, type StubImage } from './boot.js';
import { MAX_VCPUS, PHYS_BASE, PLATFORM_RESERVED, stubVa } from './layout.js';
import { EXITLESS_AFTER_EVENTS } from './exitless-after.js';
import { KeepAlive } from './keep-alive.js';
import { DoorbellState, EventKind, Mailbox, MailboxOffset, Reg } from './mailbox.js';
import { PageTableQueue } from './queue.js';
import { GuestTsc, hostClocksource } from './tsc.js';

export type PlatformMode = 'kvm' | 'kvm-exit';
export type HostFlavour = NativeMachine['flavour'];

export const enum Resume {
  /** The mailbox holds the answer: run the context again. */
  Now,
  /** The task waits (sleep, blocking read): the kernel calls platform.resume(ctx) later. */
  Later,
  /** The context is finished. */
  Stop,
}

export type EventHandler = (ctx: Context, kind: EventKind) => Resume;

/** The vector of the interrupt the platform injects when asked to (an NMI: no program raises one). */
export const INTERRUPT_VECTOR = 2;

/** XCR0's components, the size of their XSAVE area (standard form), the MXCSR bits the CPU accepts. */
export interface ExtendedState {
  features: number;
  size: number;
  mxcsrMask: number;
}

export interface ContextStart {
  cr3: number;
  rip: number;
  rsp: number;
  fsBase: number;
}

/** Host-side failures of the platform; the message says what the user can do. */
export class PlatformError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export class Context {
  /** Answered and waiting to run (exit mode) or to be told (exitless). */
  runnable = false;
  stopped = false;
  /** Exitless: a request is being handled or waits for resume(). */
  busy = false;
  /**
   * The guest waits inside the stub for an answer (its registers are in the mailbox), so the kernel
   * may give the context other work by rewriting them; false while the guest's own code runs.
   */
  atStub = false;
  /** The kernel's handler for this context's event is running now. */
  handling = false;
  /** With exits: the time-slice ticks that interrupted this context since its last event. */
  ticks = 0;

  constructor(
    readonly id: number,
    readonly mailbox: Mailbox,
    readonly queue: PageTableQueue,
    readonly vcpu: NativeVcpu,
    /**
     * Exitless: the address of the stub's user entry, which a program may call instead of trapping
     * with `syscall` (see guest/stub.S); 0 while the platform runs with exits, where every syscall must exit.
     */
    public userEntry: number,
  ) {}

  setFsBase(base: number): void {
    this.mailbox.setU64(MailboxOffset.fsBase, base);
    this.mailbox.set32(MailboxOffset.fsPending, 1);
  }
}

export interface PlatformOptions {
  memoryBytes: number;
  mode: PlatformMode;
  /** Pause iterations the stub spins before it parks (exitless mode). */
  spinLimit?: number;
  /**
   * Mode kvm: the guest events (syscalls and faults) run with exits before the platform turns
   * exitless; 0: exitless from the first instruction. Default EXITLESS_AFTER_EVENTS.
   */
  exitlessAfter?: number;
}

/**
 * Pause iterations the stub spins before it parks its vCPU: a pause takes about 24 ns on our hosts
 * (measured natively), so this is about 50 us, longer than any syscall the Sentry answers at once and
 * short next to the ~35 us exit that parking costs plus the time a blocked call waits anyway.
 */
const DEFAULT_SPIN_LIMIT = 2000;
/** The exitless loop polls this long after the last request before it sleeps in the event loop. */
const POLL_WINDOW_MS = 0.2;
const POLLS_PER_CLOCK_CHECK = 256;
/** Exit mode hands the event loop a turn after this many events, so timers and I/O callbacks run. */
const EVENTS_PER_TURN = 1024;
/**
 * Exit mode: the longest a guest runs before KVM_RUN is interrupted, so that the Sentry's event loop
 * (timers, a signal telling the sandbox to stop) gets a turn while a program computes.
 */
const TIME_SLICE_MS = 10;

export class KvmPlatform {
  readonly flavour: HostFlavour;
  readonly memory: ArrayBuffer;
  readonly memoryBytes: number;
  readonly rootEntries: readonly RootEntry[];
  /** The guest TSC as a clock (tsc.ts): every vCPU is added to it as it is created. */
  readonly tsc = new GuestTsc(hostClocksource() === 'tsc');
  private readonly machine: NativeMachine;
  private readonly stub: StubImage;
  private readonly contexts: Context[] = [];
  private wakeup: (() => void) | null = null;
  private handler: EventHandler | null = null;
  private closed = false;
  /** The platform runs exitless now (mode kvm, once it turned); else every event is a VM exit. */
  private exitlessNow: boolean;
  /** Events (syscalls, faults) run with exits so far, and the time the platform turned exitless. */
  private exitEvents = 0;
  private turnedAt = -1;
  /** Exitless: the vCPU threads run (contexts made later start at once). */
  private started = false;
  /** Exit mode: where the round-robin search for a runnable context starts next. */
  private cursor = 0;
  private readonly keepAlive = new KeepAlive();

  constructor(readonly options: PlatformOptions) {
    const { Machine } = loadAddon();
    try {
      this.machine = new Machine(options.memoryBytes);
    } catch (err) {
      const e = err as Error & { code?: string };
      throw new PlatformError(e.message, e.code ?? 'EIO');
    }
    this.flavour = this.machine.flavour;
    this.memory = this.machine.memory;
    this.memoryBytes = options.memoryBytes;
    this.stub = loadStub();
    this.rootEntries = buildSharedTables(this.memory, options.memoryBytes, MAX_VCPUS);
    this.exitlessNow = options.mode === 'kvm' && (options.exitlessAfter ?? EXITLESS_AFTER_EVENTS) === 0;
    if (this.exitlessNow) this.turnedAt = performance.now();
  }

  get mode(): PlatformMode {
    return this.options.mode;
  }

  /** Whether vCPUs run on threads of their own now, while the Sentry works (exitless). */
  get exitless(): boolean {
    return this.exitlessNow;
  }

  /** How the run went: the events that ran with exits, and when (performance.now()) it turned exitless, or -1. */
  get exitStats(): { exitEvents: number; exitlessSince: number } {
    return { exitEvents: this.exitEvents, exitlessSince: this.turnedAt };
  }
  /** Guest-physical memory below this belongs to the platform; mm allocates above it. */
  get reservedBytes(): number {
    return PLATFORM_RESERVED;
  }

  punchHole(gpa: number, length: number): void {
    this.machine.punchHole(gpa, length);
  }

  createContext(start: ContextStart): Context {
    const id = this.contexts.length;
    if (id >= MAX_VCPUS) throw new PlatformError(`more than ${MAX_VCPUS} vCPUs`, 'EAGAIN');
    const exitless = this.exitlessNow;
    const boot = buildVcpu(this.memory, id, this.stub, exitless, this.flavour !== 'pvm',
      this.options.spinLimit ?? DEFAULT_SPIN_LIMIT);
    const mailbox = new Mailbox(this.memory, boot.mailboxGpa);
    // TSC_AUX = the vCPU id for the vDSO's getcpu; on PVM the guest's rdtscp reads the host's TSC_AUX.
    const vcpu = this.machine.createVcpu({ id, physBase: PHYS_BASE, ...boot, ...start, tscAux: this.flavour !== 'pvm' });
    this.tsc.add(vcpu);
    const ctx = new Context(id, mailbox, new PageTableQueue(this.memory, boot.queueGpa, mailbox), vcpu, exitless ? this.userEntryOf(id) : 0);
    if (!exitless) vcpu.setTimeSlice(TIME_SLICE_MS);
    ctx.runnable = true;
    this.contexts.push(ctx);
    if (this.started && exitless) vcpu.start(() => this.wake());
    return ctx;
  }

  /**
   * A context that starts at the stub's start_context with `cr3` loaded: its first event is a syscall
   * asking for a task, which the kernel answers with the task's whole register file.
   */
  newContext(cr3: number): Context {
    return this.createContext({ cr3, rip: this.startEntry(this.contexts.length), rsp: 0, fsBase: 0 });
  }

  /** Guest address of user_entry in the stub copy of vCPU `id`. */
  private userEntryOf(id: number): number {
    return stubVa(id) + this.stub.symbols.user_entry!;
  }

  /** Guest address of start_context in the stub copy of vCPU `id`. */
  startEntry(id: number): number {
    return stubVa(id) + this.stub.symbols.start_context!;
  }

  /** The most vCPUs (so tasks running at once) a sandbox can have here: tsvisor's layout or KVM's limit. */
  get vcpuLimit(): { tsvisor: number; kvm: number } {
    return { tsvisor: Math.min(MAX_VCPUS, this.machine.maxVcpus), kvm: this.machine.maxVcpus };
  }

  get contextCount(): number {
    return this.contexts.length;
  }

  /** Guest address of a symbol of the stub copy that runs `ctx` (the signal hops, say). */
  stubEntry(ctx: Context, symbol: string): number {
    const offset = this.stub.symbols[symbol];
    if (offset === undefined) throw new PlatformError(`guest stub is missing symbol ${symbol}: rebuild with npm run build`, 'ENOENT');
    return stubVa(ctx.id) + offset;
  }

  /**
   * Interrupts the program the context runs, as soon as it is in user code: the kernel gets a Fault
   * event with INTERRUPT_VECTOR. For a signal to reach a task that computes without syscalls.
   */
  interrupt(ctx: Context): void {
    if (ctx.stopped) return;
    ctx.mailbox.set32(MailboxOffset.interrupt, 1);
    if (this.exitlessNow) ctx.vcpu.kick();
  }

  /** The FPU/AVX state signal frames hold: the same on every vCPU of the machine. */
  extendedState(ctx: Context): ExtendedState {
    return ctx.vcpu.extendedState();
  }

  /** A context that returned Resume.Later has its answer in the mailbox now. */
  resume(ctx: Context): void {
    if (ctx.stopped) return;
    ctx.runnable = true;
    if (this.exitlessNow) this.answer(ctx);
    this.wake();
  }

  /** The context will never run again (its task exited). */
  stop(ctx: Context): void {
    if (ctx.stopped) return;
    ctx.stopped = true;
    ctx.runnable = false;
    ctx.vcpu.stop();
    this.wake();
  }

  /** Runs every context until all are stopped. */
  async run(handler: EventHandler): Promise<void> {
    this.handler = handler;
    if (!this.exitlessNow) await this.runWithExits();
    if (this.exitlessNow) await this.runExitless();
  }

  /** Runs contexts one at a time with VM exits; returns when all are stopped or the platform turns exitless. */
  private async runWithExits(): Promise<void> {
    const turnAfter = this.options.mode === 'kvm' ? this.options.exitlessAfter ?? EXITLESS_AFTER_EVENTS : Infinity;
    let events = 0;
    for (;;) {
      const ctx = this.firstRunnable();
      if (ctx === undefined) {
        if (this.contexts.every((c) => c.stopped)) return;
        this.keepAlive.hold();
        await new Promise<void>((resolve) => (this.wakeup = resolve));
        this.keepAlive.release();
        continue;
      }
      ctx.atStub = false;
      ctx.vcpu.run();
      const kind = ctx.mailbox.kind;
      this.dispatch(ctx, kind);
      if (kind === EventKind.Interrupted) {
        // A second tick without an event between (a whole time slice of guest code) while another
        // context waited to run: the program wants more than one CPU, which only exitless threads give.
        if (++ctx.ticks >= 2 && turnAfter !== Infinity && this.contexts.some((c) => c !== ctx && c.runnable)) return this.turnExitless();
      } else {
        ctx.ticks = 0;
        if (++this.exitEvents >= turnAfter) return this.turnExitless();
      }
      if (kind === EventKind.Interrupted || ++events % EVENTS_PER_TURN === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * From exits to exitless, between two runs (no vCPU is in KVM_RUN). A runnable context has its
   * answer in place and goes on where its exit left it; one that waits (a blocked call, an idle
   * context, a stopped task) gets the doorbell's "waiting", so its new thread sleeps until resume().
   */
  private turnExitless(): void {
    this.exitlessNow = true;
    this.turnedAt = performance.now();
    for (const ctx of this.contexts) {
      if (ctx.stopped) continue;
      const mb = ctx.mailbox;
      ctx.vcpu.setTimeSlice(0);
      ctx.userEntry = this.userEntryOf(ctx.id);
      mb.set32(MailboxOffset.exitless, 1);
      ctx.busy = !ctx.runnable;
      mb.set32(MailboxOffset.state, ctx.busy ? DoorbellState.Waiting : DoorbellState.Running);
    }
  }

  /** Round robin: the search starts after the context that ran last, so none is starved. */
  private firstRunnable(): Context | undefined {
    const n = this.contexts.length;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      const ctx = this.contexts[i]!;
      if (ctx.runnable) {
        this.cursor = (i + 1) % n;
        return ctx;
      }
    }
    return undefined;
  }

  private async runExitless(): Promise<void> {
    this.started = true;
    for (const ctx of this.contexts) {
      if (ctx.stopped) continue;
      ctx.vcpu.start(() => this.wake());
      // An interrupt asked for while it ran with exits waits for no later run: take it now.
      if (ctx.mailbox.get32(MailboxOffset.interrupt) !== 0) ctx.vcpu.kick();
    }
    let lastRequest = performance.now();
    let polls = 0;
    for (;;) {
      let live = 0;
      let handled = 0;
      for (const ctx of this.contexts) {
        if (ctx.stopped) continue;
        live++;
        if (ctx.busy || ctx.mailbox.get32(MailboxOffset.state) !== DoorbellState.Request) continue;
        ctx.busy = true;
        handled++;
        if (this.dispatch(ctx, ctx.mailbox.kind) === Resume.Now) this.answer(ctx);
        // Answered later (a blocked call): the stub parks at once rather than spin on a host CPU that
        // the threads which run need.
        else if (ctx.busy) ctx.mailbox.set32(MailboxOffset.state, DoorbellState.Waiting);
      }
      if (live === 0) return;
      if (handled > 0) {
        polls = 0;
        lastRequest = -1;
        continue;
      }
      if (++polls % POLLS_PER_CLOCK_CHECK !== 0) continue;
      const now = performance.now();
      if (lastRequest < 0) lastRequest = now;
      if (now - lastRequest < POLL_WINDOW_MS) continue;
      // Every guest computes or waits: sleep until a stub parks (its vCPU thread notifies us) or a
      // blocked call completes (resume()).
      await new Promise<void>((resolve) => {
        this.wakeup = resolve;
        if (this.anyRequestPending()) resolve();
      });
      lastRequest = performance.now();
    }
  }

  private anyRequestPending(): boolean {
    return this.contexts.some((c) => !c.stopped && !c.busy && c.mailbox.get32(MailboxOffset.state) === DoorbellState.Request);
  }

  private dispatch(ctx: Context, kind: EventKind): Resume {
    ctx.runnable = false;
    ctx.atStub = kind !== EventKind.Interrupted;
    ctx.handling = true;
    let result: Resume;
    try {
      result = this.handler!(ctx, kind);
    } finally {
      ctx.handling = false;
    }
    if (result === Resume.Now) ctx.runnable = true;
    else if (result === Resume.Stop) this.stop(ctx);
    return result;
  }

  private answer(ctx: Context): void {
    ctx.busy = false;
    ctx.atStub = false;
    ctx.mailbox.set32(MailboxOffset.state, DoorbellState.Answered);
    if (ctx.mailbox.get32(MailboxOffset.parked) !== 0) ctx.vcpu.wake();
  }

  private wake(): void {
    const w = this.wakeup;
    this.wakeup = null;
    w?.();
  }

  /**
   * One line on a context for a state report (`tsvisor` on SIGQUIT): what the Sentry thinks of it and
   * what its mailbox says, so that a hang shows which side waits for which.
   */
  describe(ctx: Context): string {
    const m = ctx.mailbox;
    const flags = (['stopped', 'busy', 'runnable', 'atStub', 'handling'] as const).filter((f) => ctx[f]).join(',') || 'running';
    return `vCPU ${ctx.id}: ${flags}; doorbell ${m.get32(MailboxOffset.state)}, event ${m.kind}, parked ${m.get32(MailboxOffset.parked)}, ` +
      `interrupt ${m.get32(MailboxOffset.interrupt)}, syscall ${m.u64(MailboxOffset.origRax)}, rip 0x${m.reg(Reg.rip).toString(16)}`;
  }

  /** Benchmark floor: the context's syscalls answered by the addon alone, in this platform's mode. */
  runBare(ctx: Context, limit: number): number {
    return this.exitlessNow ? ctx.vcpu.runBareExitless(limit) : ctx.vcpu.runBare(limit);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keepAlive.close();
    for (const ctx of this.contexts) {
      ctx.vcpu.close();
    }
    this.machine.close();
  }
}
