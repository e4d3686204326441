import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/program.ts';
import { runCli } from '../support/cli.ts';
import { MIGRATIONS_DIR, readSqlFiles } from '../../src/db/sql-files.ts';
import { ENGINES } from '../support/engines.ts';
import { embeddedTarget, postgresTarget, type Target } from '../support/cli-targets.ts';

const MIGRATIONS = (await readSqlFiles(MIGRATIONS_DIR)).map((f) => f.name);
const LAST = MIGRATIONS.at(-1)!.replace('.', '\\.');

for (const engine of ENGINES) {
  describe(`steward CLI on ${engine.name}`, () => {
    let target: Target;
    const cli = (...args: string[]) => runCli(args, target.env);
    before(async () => {
      target = engine.name === 'pglite' ? await embeddedTarget() : await postgresTarget();
    });
    after(async () => {
      await target.cleanup();
    });

    it('db status on an empty database lists every migration as pending and exits 1', async () => {
      const res = await cli('db', 'status', '--json');
      assert.equal(res.code, 1, res.stderr);
      const { migrations } = JSON.parse(res.stdout) as { migrations: { migration: string; status: string }[] };
      assert.deepEqual(migrations.map((m) => m.status), MIGRATIONS.map(() => 'pending'));
    });

    if (engine.name === 'postgres') {
      it('on a server, commands refuse an unmigrated schema and say what to run', async () => {
        const res = await cli('tenants', 'list');
        assert.equal(res.code, 1);
        assert.match(res.stderr, new RegExp(`${MIGRATIONS.length} pending migration\\(s\\).*run: steward db migrate`));
      });
    }

    it('db migrate applies all migrations; db status then exits 0', async () => {
      const res = await cli('db', 'migrate', '--json');
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual((JSON.parse(res.stdout) as { applied: string[] }).applied, MIGRATIONS);
      const status = await cli('db', 'status');
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`${LAST}\\s+applied`));
      assert.match((await cli('db', 'migrate')).stdout, new RegExp(`up to date \\(${MIGRATIONS.length} migrations applied\\)`));
    });

    it('db seed loads the demo once; a second run says so and adds nothing', async () => {
      const first = await cli('db', 'seed');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /seeded 000_demo_tenant\.sql/);
      const second = await cli('db', 'seed');
      assert.match(second.stdout, /already seeded/);
      const forced = await cli('db', 'seed', '--force');
      assert.equal(forced.code, 0, forced.stderr);
      const list = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as unknown[];
      assert.equal(list.length, 2);
    });

    it('tenants create and list', async () => {
      const res = await cli('tenants', 'create', '--name', 'Acme', '--timezone', 'Europe/Paris', '--concurrency-limit', '3', '--json');
      assert.equal(res.code, 0, res.stderr);
      const created = JSON.parse(res.stdout) as { id: string; timezone: string; concurrency_limit: number };
      assert.equal(created.timezone, 'Europe/Paris');
      assert.equal(created.concurrency_limit, 3);
      const table = await cli('tenants', 'list');
      assert.match(table.stdout, /^ID\s+NAME\s+PLAN/m);
      assert.match(table.stdout, new RegExp(`${created.id}\\s+Acme\\s+free\\s+Europe/Paris`));
    });

    it('bad input exits 1 naming the field and changes nothing; a bad command line exits 2', async () => {
      const cases: [string[], RegExp][] = [
        [['tenants', 'create', '--name', 'X', '--id', 'nope'], /field id/],
        [['tenants', 'create', '--name', 'X', '--timezone', 'Mars/Base'], /field timezone/],
        [['tenants', 'create', '--name', 'X', '--concurrency-limit', 'abc'], /field concurrency_limit/],
        [['tenants', 'create', '--name', '   '], /field name/],
        [['tenants', 'create', '--name', 'X', '--id', '11111111-1111-1111-1111-111111111111'], /already exists \[conflict, field id\]/],
        [['audit', 'verify', '--tenant', 'nope'], /field tenant/],
        [['tenants', 'list', '--limit', '0'], /field limit/],
      ];
      for (const [args, pattern] of cases) {
        const res = await cli(...args);
        assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
        assert.match(res.stderr, pattern, args.join(' '));
      }
      assert.equal((await cli('tenants', 'create')).code, 2);
      assert.equal((await cli('no-such-command')).code, 2);
      assert.equal((await cli('db', 'reset')).code, 2, 'reset without --yes');
      const list = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as unknown[];
      assert.equal(list.length, 3);
    });

    it('audit verify: intact, then a row tampered with by the superuser is reported by id', async () => {
      const ok = await cli('audit', 'verify');
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /audit log intact/);

      const owner = await target.owner();
      let tamperedId: number;
      try {
        tamperedId = await owner.transaction(async (tx) => {
          // Bypass the append-only trigger, as only a superuser can.
          await tx.query(`set local session_replication_role = replica`);
          const row = await tx.query<{ id: number }>(
            `update audit_log set payload = payload || '{"allowed": true}'
              where id = (select min(id) from audit_log where tenant_id = '11111111-1111-1111-1111-111111111111')
              returning id`);
          return row.rows[0]!.id;
        });
      } finally {
        await owner.close();
      }
      const broken = await cli('audit', 'verify');
      assert.equal(broken.code, 1);
      assert.match(broken.stdout, new RegExp(`chain 11111111-1111-1111-1111-111111111111, row id ${tamperedId} \\(position 1\\): hash_mismatch`));
      const json = JSON.parse((await cli('audit', 'verify', '--json')).stdout) as { intact: boolean; broken: { id: number }[] };
      assert.equal(json.intact, false);
      assert.deepEqual(json.broken.map((b) => b.id), [tamperedId]);
      const other = await cli('audit', 'verify', '--tenant', '77777777-7777-7777-7777-777777777777');
      assert.equal(other.code, 0, 'the other tenant\'s chain is intact');
    });

    it('db reset --yes deletes everything and starts again from migrations and seed', async () => {
      const res = await cli('db', 'reset', '--yes');
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`applied ${MIGRATIONS.length} migration\\(s\\)`));
      assert.match(res.stdout, /seeded 000_demo_tenant\.sql/);
      const list = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as { name: string }[];
      assert.deepEqual(list.map((t) => t.name).sort(), ['Demo Tenant', 'Second Tenant']);
      assert.equal((await cli('audit', 'verify')).code, 0);
    });
  });
}

describe('steward CLI without a database', () => {
  it('every command has --help', async () => {
    const paths: string[][] = [[]];
    const walk = (cmd: ReturnType<typeof buildProgram>, prefix: string[]): void => {
      for (const sub of cmd.commands) {
        paths.push([...prefix, sub.name()]);
        walk(sub, [...prefix, sub.name()]);
      }
    };
    walk(buildProgram(), []);
    assert.ok(paths.length >= 9, `found ${paths.length} commands`);
    for (const path of paths) {
      const res = await runCli([...path, '--help']);
      assert.equal(res.code, 0, `${path.join(' ')} --help: ${res.stderr}`);
      assert.match(res.stdout, new RegExp(`^Usage: steward${path.length ? ` ${path.join(' ')}` : ''}`, 'm'));
    }
  });

  it('a malformed DATABASE_URL is a config error naming the variable', async () => {
    const res = await runCli(['tenants', 'list'], { DATABASE_URL: 'mysql://nope' });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /DATABASE_URL: must be a postgres/);
  });
});
