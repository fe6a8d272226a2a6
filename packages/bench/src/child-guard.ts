/** Child servers of the bench die with it: on exit, on Ctrl-C and on SIGTERM, not only on success. */
import type { ChildProcess } from 'node:child_process';

export interface GuardedChild {
  /** Kills the child (SIGTERM) now; resolves once it has exited. */
  stop(): Promise<void>;
  /** Why the child could not be started (spawn's 'error'), once that happened. */
  spawnError(): Error | undefined;
}

/** Call right after spawn, before any await, so neither 'exit' nor 'error' can be missed. */
export function guardChild(child: ChildProcess): GuardedChild {
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    async stop() {
      process.off('exit', kill);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      kill();
      await exited;
    },
    spawnError: () => spawnError,
  };
}
