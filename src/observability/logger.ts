import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

// Structured logs: one JSON object per line on stderr, so stdout stays the CLI's
// human-readable report (and what scripts and tests read), and a log shipper can take
// stderr as is. Pretty-printing is left to a viewer (`… 2> >(npx pino-pretty)`).

export type { Logger };

export interface LoggerOptions {
  /** Default info (STEWARD_LOG_LEVEL, via config). */
  level?: LogLevel;
  /** Where lines go; default stderr, written synchronously. Tests pass a stream of their own. */
  destination?: DestinationStream;
}

// user:password@ in any URL (a DATABASE_URL in a driver's error, an endpoint in an
// exporter's): the password is replaced, the rest kept so the line still says where.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/"]*):[^\s@/"]*@/gi;
// ?api_key=…, &access_token=…, X-Amz-Signature=…: credentials a provider's error may quote
// in a URL (signed links, keys in the query string).
const QUERY_SECRET = /([?&][\w.-]*(?:token|key|secret|password|signature)[\w.-]*=)[^&\s"#]+/gi;

/** `text` with URL passwords and secret-looking query parameters replaced by `[redacted]`. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1:[redacted]@').replace(QUERY_SECRET, '$1[redacted]');
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    name: 'steward',
    level: options.level ?? 'info',
    // ISO time and level names: readable in a terminal and parsed by every log shipper
    // without pino's number-to-name mapping.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Keys that hold secrets by name, wherever a caller puts them...
    redact: { paths: ['password', '*.password', 'connectionString', '*.connectionString', 'authorization', '*.authorization', 'headers.*'], censor: '[redacted]' },
    hooks: {
      // ...and secrets inside strings (messages, stacks, causes), on the finished line:
      // one place that no serializer or call site can bypass.
      streamWrite: redactSecrets,
    },
  }, options.destination ?? pino.destination({ dest: 2, sync: true })); // sync: nothing lost when the process exits
}

/** An error's message for a log line's `msg` (the whole error goes in `err`). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
