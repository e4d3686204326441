import type { Command } from 'commander';
import { portNumber } from '../options.ts';
import { printLine } from '../output.ts';
import { stopSignal } from '../stop-signal.ts';

export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('tools for developing against Steward without external accounts');

  dev.command('fake-composio')
    .description('run the local fake of Composio\'s API (toolkits, accounts, fault switches under /_fake) until Ctrl-C')
    .option('--port <n>', 'port to listen on (0 = any free port)', portNumber('port'), 8787)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--api-key <key>', 'the only API key it accepts', 'ak_fake_composio_key')
    .action(async (opts: { port: number; host: string; apiKey: string }) => {
      // Loaded only here: the fake lives with the tests and is never part of a normal run.
      const { startFakeComposio } = await import('../../../test/fakes/composio/index.ts');
      const fake = await startFakeComposio({ port: opts.port, host: opts.host, apiKey: opts.apiKey });
      const stopped = stopSignal();
      printLine(`fake Composio on ${fake.url}`);
      printLine(`  use it: COMPOSIO_BASE_URL=${fake.url} COMPOSIO_API_KEY=${opts.apiKey} steward …`);
      printLine(`  fault switches: POST ${fake.url}/_fake/faults, catalog versions: POST ${fake.url}/_fake/catalog (docs/implementation/composio-tooling.md)`);
      printLine('Press Ctrl-C to stop.');
      await stopped;
      await fake.close();
    });
}
