import type { BackendName } from '@food/core/backend';
import type { EngineChoice } from '@food/core/engine/resolve-engine';
import type { Command } from 'commander';
import { closeOnSignals, startServer } from '../server.ts';
import { type ServeFlags, serveOptions } from './serve-options.ts';

/** `food-server serve`: start the server with the flags (or their environment variables); stop on signals. */
export function register(program: Command): void {
  const serve = program
    .command('serve')
    .description('Start the HTTP API, web UI (/), API docs (/docs) and metrics (/metrics).');
  for (const option of serveOptions()) serve.addOption(option);
  serve
    .addHelpText(
      'after',
      `
Every flag can also be set by the environment variable shown; flags win.

Examples:
  pnpm serve --checkpoint checkpoints/food10/best
  pnpm serve --checkpoint checkpoints/food10/best --host 0.0.0.0 --port 8080 --workers 2
  CHECKPOINT=checkpoints/food10/best PORT=8080 pnpm serve
  pnpm serve --checkpoint checkpoints/food10/best --workers 0 --backend cpu   # model on the main thread
  pnpm serve --checkpoint checkpoints/food10/best --engine tfjs               # ignore the ONNX export

Then open http://127.0.0.1:5000 (web UI), /docs (API), /metrics (Prometheus).
`,
    )
    .action(async (options: ServeFlags) => {
      const server = await startServer({
        ...options,
        backend: options.backend as BackendName,
        engine: options.engine as EngineChoice,
      });
      closeOnSignals(server, options.drainDelayMs);
    });
}
