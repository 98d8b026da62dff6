// When mode kvm turns exitless: a module of its own, without the addon, so that the CLI's options can
// name the default without loading the platform.

/**
 * Guest events (syscalls and faults) that run with VM exits before the platform turns exitless. An
 * exit costs ~35 us more than an exitless round trip on our PVM hosts, so these cost ~35 ms at most
 * (less where a call waits anyway); turning exitless costs a vCPU thread per context, a core for the
 * poller and a cross-thread wake-up for each early page fault: ~12 ms of wall time and ~30 ms of CPU
 * for a program that exits at once.
 */
export const EXITLESS_AFTER_EVENTS = 1000;
