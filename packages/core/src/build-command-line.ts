/**
 * How every command line (food-trainer, food-server, food-tools) starts: one commander program with
 * `--version`, its commands, and the same short answer to a bad flag. In core although it is CLI code:
 * all three share it, and trainer and server share only core (run-command-line.ts is how they end).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { packageVersion } from './run-command-line.ts';

export interface CommandLineSpec {
  /** The program name commander prints, e.g. `food-trainer`. */
  name: string;
  description: string;
  /** The CLI module's `import.meta.url`: the package.json above it gives `--version`. */
  moduleUrl: string;
  /** How a user runs the program from the repository root, e.g. `pnpm trainer`. */
  invocation: string;
  /** Root scripts that run one command (`train: 'pnpm train'`), so a hint names what the user typed. */
  shortcuts?: Readonly<Record<string, string>>;
  /** Each adds one command to the program (commands/<name>.ts's `register`). */
  commands: ReadonlyArray<(program: Command) => void>;
}

/**
 * The program for `spec`, built with `exitOverride()` for runCommandLine. A flag error prints one
 * `error: …` line and one line on where to get help, not the whole help (50-70 lines).
 */
export function buildCommandLine(spec: CommandLineSpec): Command {
  const program = new Command(spec.name)
    .description(spec.description)
    .version(packageVersion(spec.moduleUrl), '--version', 'print the version');
  for (const register of spec.commands) register(program);
  program.exitOverride().showHelpAfterError(`Run '${spec.invocation} --help' for the commands.`);
  for (const command of program.commands) {
    hintAfterErrors(command, spec.shortcuts?.[command.name()] ?? `${spec.invocation} ${command.name()}`);
  }
  return program;
}

/** `Run 'INVOCATION --help' for the options.` after an error of `command` and of each subcommand. */
function hintAfterErrors(command: Command, invocation: string): void {
  const what = command.commands.length > 0 ? 'options and commands' : 'options';
  command.exitOverride().showHelpAfterError(`Run '${invocation} --help' for the ${what}.`);
  for (const subcommand of command.commands)
    hintAfterErrors(subcommand, `${invocation} ${subcommand.name()}`);
}

/**
 * Whether the module at `moduleUrl` is the process's entry point (so tests can import its program).
 * Through real paths: a package bin in node_modules/.bin is a link to it.
 */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
