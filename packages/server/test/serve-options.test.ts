import { describe, expect, it } from 'vitest';
import { serveOptions } from '../src/commands/serve-options.ts';
import { DEFAULTS, ENVIRONMENT } from '../src/config.ts';

describe('serve flags', () => {
  const options = serveOptions();

  it('each defaults to DEFAULTS and reads the environment variable config.ts names', () => {
    for (const option of options) {
      const key = option.attributeName() as keyof typeof ENVIRONMENT;
      expect(option.envVar, option.flags).toBe(ENVIRONMENT[key]);
      if (key in DEFAULTS)
        expect(option.defaultValue, option.flags).toBe(DEFAULTS[key as keyof typeof DEFAULTS]);
    }
    expect(options.map((option) => option.attributeName())).toEqual(Object.keys(ENVIRONMENT));
  });

  it.each([
    ['--port <port>', '65536', 'Expected an integer from 0 to 65535.'],
    ['--max-batch <n>', '0', 'Expected an integer from 1 to 256.'],
    ['--drain-delay-ms <ms>', '600001', 'Expected an integer from 0 to 600000.'],
  ])('%s rejects %s with its range', (flags, value, message) => {
    const option = options.find((candidate) => candidate.flags === flags);
    expect(() => option?.parseArg?.(value, undefined)).toThrow(message);
    expect(option?.parseArg?.('1', undefined)).toBe(1);
  });
});
