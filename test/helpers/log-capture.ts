// The Sentry's log (winston, on stderr) captured instead of printed, for tests that provoke errors on
// purpose: what they check is that the error is reported, and a passing run stays quiet.
import { Writable } from 'node:stream';
import winston from 'winston';
import { log } from '../../src/log/log.js';

/** Runs fn with the Sentry's log going to an array instead of stderr; returns fn's result and the lines. */
export async function withLogCaptured<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  const capture = new winston.transports.Stream({ stream: sink });
  const saved = [...log.transports];
  for (const transport of saved) log.remove(transport);
  log.add(capture);
  try {
    return { result: await fn(), lines };
  } finally {
    log.remove(capture);
    for (const transport of saved) log.add(transport);
  }
}
