// The Sentry's log: winston on stderr (through the sink that never blocks), shared by every layer. The CLI sets the level
// and the format (text lines for people, winston's JSON for tools); warnOnce keeps repeated guest-triggered warnings
// (an unimplemented syscall in a loop) to one line each.
// winston is loaded on the first line that is actually written: a run at the default level that logs
// nothing never pays for loading it (tens of milliseconds of module loading at every start).
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type winstonModule from 'winston';
import { stderrSink } from './stderr.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const SEVERITY: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

type Logger = winstonModule.Logger;
type Transport = Logger['transports'][number];

/** The log of every layer: winston's API for what the Sentry uses, with the level checked before winston is loaded. */
class SentryLog {
  private logger: Logger | null = null;
  private current: LogLevel = 'warn';
  private currentFormat: LogFormat = 'text';

  get level(): LogLevel {
    return this.current;
  }

  set level(level: LogLevel) {
    this.current = level;
    if (this.logger !== null) this.logger.level = level;
  }

  set format(format: LogFormat) {
    this.currentFormat = format;
    if (this.logger !== null) this.logger.format = this.formatOf(format);
  }

  error(message: string): void {
    this.log('error', message);
  }

  warn(message: string): void {
    this.log('warn', message);
  }

  info(message: string): void {
    this.log('info', message);
  }

  debug(message: string): void {
    this.log('debug', message);
  }

  log(level: LogLevel, message: string): void {
    if (SEVERITY[level] > SEVERITY[this.current]) return;
    this.winston().log(level, message);
  }

  /** winston's transports (tests swap them to capture the log). */
  get transports(): Transport[] {
    return this.winston().transports;
  }

  add(transport: Transport): void {
    this.winston().add(transport);
  }

  remove(transport: Transport): void {
    this.winston().remove(transport);
  }

  private winston(): Logger {
    if (this.logger !== null) return this.logger;
    const winston = this.winstonModule();
    this.logger = winston.createLogger({
      level: this.current,
      format: this.formatOf(this.currentFormat),
      transports: [new winston.transports.Stream({
        stream: new Writable({ write: (line: Buffer | string, _enc, done) => { stderrSink.write(String(line)); done(); } }),
      })],
    });
    return this.logger;
  }

  private formatOf(format: LogFormat): winstonModule.Logform.Format {
    const winston = this.winstonModule();
    if (format === 'text') return winston.format.printf(({ level, message }) => `tsvisor ${level}: ${String(message)}`);
    // One object a line: {"level":"warn","message":"...","timestamp":"2026-...Z"}.
    return winston.format.combine(winston.format.timestamp(), winston.format.json());
  }

  private winstonModule(): typeof winstonModule {
    // Synchronous, so that a line logged just before the process exits is written; winston is CommonJS.
    return createRequire(import.meta.url)('winston') as typeof winstonModule;
  }
}

export const log = new SentryLog();

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}

export function setLogFormat(format: LogFormat): void {
  log.format = format;
}

const warned = new Set<string>();
export function logOnce(level: LogLevel, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.log(level, message);
}
