// The Sentry's log: winston on stderr (through the sink that never blocks), shared by every layer. The CLI sets the level
// and the format (text lines for people, winston's JSON for tools); warnOnce keeps repeated guest-triggered warnings
// (an unimplemented syscall in a loop) to one line each.
import { Writable } from 'node:stream';
import winston from 'winston';
import { stderrSink } from './stderr.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const FORMATS: Record<LogFormat, winston.Logform.Format> = {
  text: winston.format.printf(({ level, message }) => `tsvisor ${level}: ${String(message)}`),
  // One object a line: {"level":"warn","message":"...","timestamp":"2026-...Z"}.
  json: winston.format.combine(winston.format.timestamp(), winston.format.json()),
};

export const log = winston.createLogger({
  level: 'warn',
  format: FORMATS.text,
  transports: [new winston.transports.Stream({
    stream: new Writable({ write: (line: Buffer | string, _enc, done) => { stderrSink.write(String(line)); done(); } }),
  })],
});

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}

export function setLogFormat(format: LogFormat): void {
  log.format = FORMATS[format];
}

const warned = new Set<string>();
export function logOnce(level: LogLevel, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.log(level, message);
}
