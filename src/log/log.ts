// The Sentry's log: winston on stderr, shared by every layer. The CLI sets the level; warnOnce keeps
// repeated guest-triggered warnings (an unimplemented syscall in a loop) to one line each.
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export const log = winston.createLogger({
  level: 'warn',
  format: winston.format.printf(({ level, message }) => `tsvisor ${level}: ${String(message)}`),
  transports: [new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] })],
});

export function setLogLevel(level: LogLevel): void {
  log.level = level;
}

const warned = new Set<string>();
export function logOnce(level: LogLevel, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.log(level, message);
}
