import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataDirLock } from '../../src/db/data-dir-lock.ts';
import { StewardError } from '../../src/errors.ts';

const lockPid = (text: string): unknown => (JSON.parse(text) as { pid?: unknown }).pid;

describe('DataDirLock', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'steward-lock-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is exclusive: a second acquire fails naming the holder pid, and works again after release', async () => {
    const dir = join(root, 'a');
    const lock = DataDirLock.acquire(dir);
    assert.equal(lockPid(await readFile(lock.path, 'utf8')), process.pid);
    assert.throws(() => DataDirLock.acquire(dir), (e: unknown) =>
      e instanceof StewardError && e.code === 'data_dir_locked' && e.message.includes(`pid ${process.pid}`) && e.details?.pid === process.pid);
    lock.release();
    assert.equal(existsSync(lock.path), false);
    DataDirLock.acquire(dir).release();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dir = join(root, 'b');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    assert.ok(deadPid > 0);
    await writeFile(`${dir}.lock`, JSON.stringify({ pid: deadPid }));
    const lock = DataDirLock.acquire(dir);
    assert.equal(lockPid(await readFile(lock.path, 'utf8')), process.pid);
    lock.release();
  });

  it('takes over an unreadable (half-written) lock file', async () => {
    const dir = join(root, 'c');
    await writeFile(`${dir}.lock`, '{"pi');
    const lock = DataDirLock.acquire(dir);
    assert.equal(lockPid(await readFile(lock.path, 'utf8')), process.pid);
    lock.release();
  });
});
