import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));
export const SEEDS_DIR = fileURLToPath(new URL('../../db/seeds/', import.meta.url));

export interface SqlFile {
  /** NNN from NNN_name.sql */
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** The numbered SQL files of a directory, in order; anything else there is an error. */
export async function readSqlFiles(dir: string): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const files: SqlFile[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match?.[1]) throw new Error(`${join(dir, name)}: file names must look like NNN_name.sql`);
    const sql = await readFile(join(dir, name), 'utf8');
    const version = Number(match[1]);
    if (files.some((f) => f.version === version)) throw new Error(`${dir}: two files numbered ${match[1]}`);
    files.push({ version, name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return files;
}
