import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { LogLevel } from '../../src/config.ts';

/** A logger writing into memory: `lines` are the raw JSON lines, `records()` them parsed. */
export function captureLogger(level: LogLevel = 'info'): { logger: Logger; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
