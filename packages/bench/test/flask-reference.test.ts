import { describe, expect, it } from 'vitest';
import {
  missingModulesReason,
  parseReferenceChoice,
  referenceArgs,
  referenceUnavailable,
} from '../src/flask-reference.ts';
import { parseFlags } from '../src/serve-bench.ts';

describe('bench:serve --reference', () => {
  it('defaults to auto and accepts flask and none only', () => {
    expect(parseFlags([]).options.reference).toBe('auto');
    expect(parseFlags(['--reference', 'none']).options.reference).toBe('none');
    expect(parseFlags(['--reference', 'flask']).options.reference).toBe('flask');
    expect(() => parseFlags(['--reference', 'torchserve'])).toThrow(
      '--reference: expected one of auto, flask, none, got "torchserve"',
    );
    expect(parseReferenceChoice('auto')).toBe('auto');
  });

  it('names the Debian packages that bring the missing modules', () => {
    expect(missingModulesReason(['flask'], '/usr/bin/python3')).toBe(
      '/usr/bin/python3 cannot import flask (apt-get install -y python3-flask)',
    );
    expect(missingModulesReason(['flask', 'torch', 'PIL'], 'py')).toBe(
      'py cannot import flask, torch, PIL (apt-get install -y python3-flask python3-torch python3-pil)',
    );
  });

  it('says why when the interpreter is missing', async () => {
    expect(await referenceUnavailable('/nonexistent/python3')).toMatch(
      /^\/nonexistent\/python3 not found \(apt-get install -y python3 python3-flask python3-torch/,
    );
  });

  it("passes the checkpoint's classes, preprocessing and network shape to the server", () => {
    const args = referenceArgs(
      {
        labels: ['apple_pie', 'ramen'],
        preprocess: { resizeShorterSide: 36, cropSize: 32, mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.25] },
        widthMultiplier: 1 / 16,
        blocksPerStage: [1, 1, 1, 1],
      },
      8123,
      2,
    );
    expect(args[0]).toMatch(/flask_reference\.py$/);
    expect(args.slice(1)).toEqual([
      '--port=8123',
      '--threads=2',
      '--labels=apple_pie,ramen',
      '--resize=36',
      '--crop=32',
      '--mean=0.5,0.4,0.3',
      '--std=0.25,0.25,0.25',
      '--width=0.0625',
      '--blocks=1,1,1,1',
    ]);
  });
});
