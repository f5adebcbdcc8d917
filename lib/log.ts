import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs to stderr (stdout stays free for CLI output such as --json). */
export function createLogger(level: string = 'info', name = 'driftwatch'): Logger {
  return pino({ name, level }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that writes nothing: the default for parts constructed without one (tests, library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
