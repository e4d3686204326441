import { Database } from '../../src/db/database.ts';
import { PGliteDriver } from '../../src/db/pglite-driver.ts';
import { PostgresDriver } from '../../src/db/postgres-driver.ts';
import type { Driver } from '../../src/db/types.ts';
import { startApiServer } from '../../src/http/server.ts';

// One Steward API server for bench/rest/runner.ts, in a process of its own so that the
// load generator does not share its event loop. Argument: {"engine","url"|"dataDir","secret"}.
// Prints {"url"} once listening; stops on SIGTERM.

interface ServerRequest {
  engine: 'postgres' | 'pglite';
  url?: string;
  dataDir?: string;
  secret: string;
  pool: number;
}

const req = JSON.parse(process.argv[2] ?? '{}') as ServerRequest;
const driver: Driver = req.engine === 'postgres'
  ? new PostgresDriver({ connectionString: req.url!, max: req.pool })
  : await PGliteDriver.open({ dataDir: req.dataDir! });
const db = new Database(driver);
const server = await startApiServer({ db, jwtSecret: req.secret, port: 0 });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => db.close()).then(() => process.exit(0));
});
