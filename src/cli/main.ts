import { CommanderError } from 'commander';
import { StewardError } from '../errors.ts';
import { buildProgram } from './program.ts';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof StewardError) {
      process.stderr.write(`steward: ${error.message} [${error.code}${error.field ? `, field ${error.field}` : ''}]\n`);
      return 1;
    }
    process.stderr.write(`steward: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
