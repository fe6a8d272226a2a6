import { readFileSync } from 'node:fs';
import { integerIn } from '@food/core/parse-number';
import { CommanderError, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli.ts';
import { byteSizeIn, serverUrl } from '../src/cli-options.ts';

describe('flag parsers', () => {
  it('accepts integers in range and rejects the rest with a clear message', () => {
    const port = integerIn(0, 65535);
    expect(port('5000')).toBe(5000);
    for (const bad of ['', 'abc', '1.5', '-1', '70000']) {
      expect(() => port(bad)).toThrow(new InvalidArgumentError('Expected an integer from 0 to 65535.'));
    }
  });

  it('reads byte sizes with binary suffixes', () => {
    const size = byteSizeIn(1024, 1024 ** 3);
    expect(size('10MiB')).toBe(10 * 1024 * 1024);
    expect(size('512k')).toBe(512 * 1024);
    expect(size('2048')).toBe(2048);
    expect(() => size('5 parsecs')).toThrow(InvalidArgumentError);
    expect(() => size('2GiB')).toThrow(InvalidArgumentError);
  });

  it('normalises server URLs to their origin', () => {
    expect(serverUrl('http://127.0.0.1:5000/')).toBe('http://127.0.0.1:5000');
    expect(() => serverUrl('127.0.0.1:5000')).toThrow(InvalidArgumentError);
    expect(() => serverUrl('ftp://example')).toThrow('Expected an http:// or https:// URL.');
  });
});

describe('food-server --version', () => {
  it("prints the server package's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    let printed = '';
    const program = buildProgram().configureOutput({ writeOut: (text) => (printed += text) });
    const exit = await program.parseAsync(['--version'], { from: 'user' }).catch((error) => error);
    expect(exit).toBeInstanceOf(CommanderError);
    expect([(exit as CommanderError).exitCode, printed]).toEqual([0, `${version}\n`]);
  });
});
