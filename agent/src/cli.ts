/**
 * algwatch-agent: `check` for a technician on site, `run` for the daemon. Resolves to the exit code:
 * 0 ok / no problems, 1 problems found, 2 could not run (one line on stderr, never a stack trace
 * unless --debug).
 */
import { checkCommand, CHECK_USAGE } from './commands/check.js';

const USAGE = `${CHECK_USAGE}
       algwatch-agent run --server URL --token TOKEN [--data-dir DIR] [--config FILE]`;

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((arg) => arg !== '--debug');
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'check':
        return await checkCommand(rest);
      case 'run': {
        const { runCommand } = await import('./commands/run.js');
        return await runCommand(argv.slice(argv.indexOf('run') + 1)); // the daemon reads --debug itself
      }
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        process.stderr.write(`algwatch-agent: ${command ? `unknown command ${command}` : 'a command is needed'}\n${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`algwatch-agent: ${debug ? (err as Error).stack : (err as Error).message?.split('\n')[0]}\n`);
    return 2;
  }
}
