import { UserError } from '@food/core/errors';
import { describe, expect, it } from 'vitest';
import { register } from '../../src/commands/import-weights.ts';
import { runCommandsInProcess } from '../helpers/run-trainer.ts';

describe('import-weights --from', () => {
  it('says a mistyped path was not found, instead of asking to import the weights first', async () => {
    const { error } = await runCommandsInProcess(
      [register],
      ['import-weights', '--from', '/no/such/weights.h5'],
    );
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain('--from /no/such/weights.h5: no such file or folder');
    expect(message).not.toMatch(/import them first/i);
  });
});
