import { rename, rm, stat } from 'node:fs/promises';

/**
 * Folders a command recreates, replaced only when it succeeds: each is set aside (renamed to
 * `NAME.previous`) just before the command writes it, deleted once the whole command succeeded, and put
 * back if it failed, so a mistake or a crash never costs the previous result.
 */
export class ReplaceOnSuccess {
  private readonly setAside: string[] = [];

  /** Moves `dir` out of the way (if it exists) so the command can write a fresh one. */
  async clear(dir: string): Promise<void> {
    if (this.setAside.includes(dir)) return;
    const previous = `${dir}.previous`;
    if (await exists(previous)) {
      // Left by a run killed before it could restore: that is the last good folder, `dir` a partial one.
      await rm(dir, { recursive: true, force: true });
      await rename(previous, dir);
    }
    if (await exists(dir)) await rename(dir, previous);
    this.setAside.push(dir);
  }

  /** Success: the previous folders are no longer needed. */
  async commit(): Promise<void> {
    for (const dir of this.setAside.splice(0)) await rm(`${dir}.previous`, { recursive: true, force: true });
  }

  /** Failure: the partial folders go, and the previous ones come back. */
  async restore(): Promise<void> {
    for (const dir of this.setAside.splice(0).reverse()) {
      await rm(dir, { recursive: true, force: true });
      if (await exists(`${dir}.previous`)) await rename(`${dir}.previous`, dir);
    }
  }

  /** Runs `work`, then commits, or restores and rethrows. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      await this.commit();
      return result;
    } catch (error) {
      await this.restore();
      throw error;
    }
  }
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );
