import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StewardError } from '../errors.ts';
import { isProcessAlive } from './process-alive.ts';

/**
 * An exclusive lock on an embedded data directory. PGlite lets two processes open the
 * same directory and then corrupts it silently (reference/vector-and-embedded.md), so
 * every process that opens one takes this lock first: a file created with O_EXCL that
 * holds the owner's pid. A lock whose pid is no longer alive is stale and is replaced.
 */
export class DataDirLock {
  readonly path: string;
  #released = false;
  readonly #onExit = (): void => this.release();

  private constructor(path: string) {
    this.path = path;
    process.once('exit', this.#onExit);
  }

  static acquire(dataDir: string): DataDirLock {
    const path = `${dataDir.replace(/\/+$/, '')}.lock`;
    mkdirSync(dirname(path), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() }));
        closeSync(fd);
        return new DataDirLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readHolder(path);
        if (holder !== undefined && isProcessAlive(holder)) {
          throw new StewardError('data_dir_locked', `data directory ${dataDir} is in use by another Steward process (pid ${holder}); stop it first, or remove ${path} if no such process exists`, { field: 'dataDir', details: { pid: holder, lockFile: path } });
        }
        // Stale (holder gone, or a half-written file): take it over.
        try { unlinkSync(path); } catch { /* another process took it over first */ }
      }
    }
    throw new StewardError('data_dir_locked', `could not lock data directory ${dataDir} (${path})`, { field: 'dataDir' });
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    process.removeListener('exit', this.#onExit);
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

function readHolder(path: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}
