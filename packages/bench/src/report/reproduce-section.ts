/** The commands that rerun the bench, and its caveats. */
export function reproduceSection(): string[] {
  return [
    '## How to reproduce',
    '',
    '```sh',
    'apt-get install -y python3-torch   # the reference (optional: rows say "not measured" without it)',
    'pnpm bench                          # full run, writes reports/benchmarks.md',
    'pnpm bench --write-docs             # the same, and replaces this page (docs/benchmarks.md)',
    'pnpm bench --only forward,train --runs 5',
    'pnpm bench --quick --out /tmp/bench.md   # tiny model: checks the harness in seconds',
    '```',
    '',
    "Caveats: a step's time depends on what else runs (see the load column). Random weights and inputs: a dense " +
      'CNN does the same work whatever the values.',
    '',
  ];
}
