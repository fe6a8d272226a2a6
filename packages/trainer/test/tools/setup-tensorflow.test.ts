import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '@food/core/errors';
import { describe, expect, it } from 'vitest';
import { nodeGypArguments } from '../../src/tools/tensorflow-setup/build-binding.ts';
import { findLinuxWheel, pickLinuxWheel } from '../../src/tools/tensorflow-setup/pypi-wheel.ts';
import { includeClosure, quotedIncludes } from '../../src/tools/tensorflow-setup/wheel-contents.ts';

const file = (filename: string, extra: object = {}) => ({
  filename,
  url: `https://files.example/${filename}`,
  size: 100,
  hashes: { sha256: `sha-${filename}` },
  ...extra,
});

describe('pickLinuxWheel', () => {
  const page = {
    files: [
      file('tensorflow_cpu-2.12.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
      file('tensorflow_cpu-2.12.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
      file('tensorflow_cpu-2.12.0-cp310-cp310-win_amd64.whl'),
      file('tensorflow_cpu-2.12.0-cp39-cp39-macosx_10_15_x86_64.whl'),
      file('tensorflow_cpu-2.12.0-cp38-cp38-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', {
        yanked: 'broken',
      }),
      file('tensorflow_cpu-2.12.1-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
    ],
  };

  it('takes the Linux x86-64 wheel of that exact version with the lowest CPython, skipping yanked files', () => {
    expect(pickLinuxWheel(page, 'tensorflow-cpu', '2.12.0')).toEqual({
      filename: 'tensorflow_cpu-2.12.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      url: 'https://files.example/tensorflow_cpu-2.12.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      size: 100,
      sha256: 'sha-tensorflow_cpu-2.12.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    });
  });

  it('a version without a Linux wheel is an error that names versions that exist', () => {
    expect(() => pickLinuxWheel(page, 'tensorflow-cpu', '2.99.0')).toThrowError(
      /no Linux x86-64 wheel of tensorflow-cpu 2\.99\.0\. Pass another --tensorflow version \(recent ones: 2\.12\.0, 2\.12\.1\)/,
    );
  });
});

describe('findLinuxWheel', () => {
  it('an unreachable PyPI is one line that says what it means and what to do', async () => {
    // A port nothing listens on: the connection is refused, as behind a firewall that rejects it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const attempt = findLinuxWheel('tensorflow-cpu', '2.12.0', `http://127.0.0.1:${port}/simple`);
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrowError(
      /^PyPI is not reachable \(127\.0\.0\.1:\d+: ECONNREFUSED\): cannot download TensorFlow; the tensorflow backend stays unavailable and training uses wasm\. Run again where PyPI is reachable, or pass --wheel FILE/,
    );
    await attempt.catch((error: Error) => expect(error.message).not.toContain('\n'));
  });

  it('reads the JSON form of the simple index (PEP 691) that a PyPI mirror serves', async () => {
    const wheel = 'tensorflow-2.12.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl';
    const server = createServer((request, response) => {
      expect(request.url).toBe('/simple/tensorflow/');
      expect(request.headers.accept).toBe('application/vnd.pypi.simple.v1+json');
      response.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      response.end(JSON.stringify({ files: [file(wheel)] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const found = await findLinuxWheel('tensorflow', '2.12.0', `http://127.0.0.1:${port}/simple`);
      expect(found.filename).toBe(wheel);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the C API headers taken from the wheel', () => {
  it('finds quoted includes only: the system headers are the compiler’s', () => {
    const source =
      '#include <stdint.h>\n#include "tensorflow/c/tf_status.h"\n  #  include "tsl/c/tsl_status.h"\n// #include "x.h"';
    expect(quotedIncludes(source)).toEqual(['tensorflow/c/tf_status.h', 'tsl/c/tsl_status.h']);
  });

  it('follows includes transitively, once each, and leaves out what the wheel does not ship', async () => {
    const wheel = new Map([
      ['tensorflow/c/c_api.h', '#include "tensorflow/c/tf_status.h"\n#include "tensorflow/c/tf_tensor.h"'],
      ['tensorflow/c/tf_status.h', '#include "xla/tsl/c/tsl_status.h"'],
      ['tensorflow/c/tf_tensor.h', '#include "tensorflow/c/tf_status.h"\n#include "generated/not_shipped.h"'],
      ['xla/tsl/c/tsl_status.h', '#include <stddef.h>'],
      ['tensorflow/core/framework/unrelated.h', ''],
    ]);
    const closure = await includeClosure(['tensorflow/c/c_api.h'], async (header) => wheel.get(header));
    expect([...closure.keys()].sort()).toEqual([
      'tensorflow/c/c_api.h',
      'tensorflow/c/tf_status.h',
      'tensorflow/c/tf_tensor.h',
      'xla/tsl/c/tsl_status.h',
    ]);
  });
});

describe('nodeGypArguments', () => {
  it("keeps pnpm's patch_hash= folder name out of module_path (make reads a target with = as an assignment)", () => {
    const root =
      '/repo/node_modules/.pnpm/@tensorflow+tfjs-node@4.22.0_patch_hash=8cd8b6d9_04c1a7f8/node_modules/@tensorflow/tfjs-node';
    const args = nodeGypArguments(root, `${root}/lib/napi-v8/tfjs_binding.node`, '/usr', 8);
    expect(args).toContain('--module_path=../lib/napi-v8');
    expect(args).toContain('--napi_build_version=8');
    expect(args.join(' ')).not.toContain('patch_hash');
  });
});
