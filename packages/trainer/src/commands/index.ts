import type { Command } from 'commander';

/** Each command module exports `register(program)`; add new commands to this list. */
export const commands: Array<(program: Command) => void> = [];
