import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fatbinArchitectures, readElfSection } from '../../src/tools/tensorflow-setup/cuda-kernels.ts';
import {
  andCudaRequirements,
  fetchRequiresDist,
  parseRequiresDist,
  provisionedRequirements,
} from '../../src/tools/tensorflow-setup/cuda-requirements.ts';
import { isCudaLibraryMember } from '../../src/tools/tensorflow-setup/cuda-wheel-contents.ts';
import { pickLinuxWheel } from '../../src/tools/tensorflow-setup/pypi-wheel.ts';

// tensorflow 2.21.0's requires_dist as PyPI's JSON API serves it (trimmed to a few non-CUDA entries).
const TF_221_REQUIRES = [
  'absl-py>=1.0.0',
  'numpy>=1.26.0',
  'nvidia-cublas-cu12<13.0,>=12.5.3.2; extra == "and-cuda"',
  'nvidia-cuda-cupti-cu12<13.0,>=12.5.82; extra == "and-cuda"',
  'nvidia-cuda-nvcc-cu12<13.0,>=12.5.82; extra == "and-cuda"',
  'nvidia-cuda-nvrtc-cu12<13.0,>=12.5.82; extra == "and-cuda"',
  'nvidia-cuda-runtime-cu12<13.0,>=12.5.82; extra == "and-cuda"',
  'nvidia-cudnn-cu12<10.0,>=9.3.0.75; extra == "and-cuda"',
  'nvidia-cufft-cu12<12.0,>=11.2.3.61; extra == "and-cuda"',
  'nvidia-curand-cu12<11.0,>=10.3.6.82; extra == "and-cuda"',
  'nvidia-cusolver-cu12<12.0,>=11.6.3.83; extra == "and-cuda"',
  'nvidia-cusparse-cu12<13.0,>=12.5.1.3; extra == "and-cuda"',
  'nvidia-nccl-cu12<3.0,>=2.27.7; extra == "and-cuda"',
  'nvidia-nvjitlink-cu12<13.0,>=12.5.82; extra == "and-cuda"',
  'tensorflow-io-gcs-filesystem>=0.23.1; (sys_platform != "win32" and python_version < "3.13") and extra == "gcs-filesystem"',
];

describe("TensorFlow's and-cuda extra", () => {
  it('pins each NVIDIA wheel at the lower bound TensorFlow was built with; == pins are taken as given', () => {
    const pinned = andCudaRequirements([
      ...TF_221_REQUIRES,
      'nvidia-cudnn-cu11==8.6.0.163; extra == "and-cuda"',
    ]);
    expect(pinned).toHaveLength(13);
    expect(pinned).toContainEqual({ project: 'nvidia-cublas-cu12', version: '12.5.3.2' });
    expect(pinned).toContainEqual({ project: 'nvidia-cudnn-cu12', version: '9.3.0.75' });
    expect(pinned).toContainEqual({ project: 'nvidia-cudnn-cu11', version: '8.6.0.163' });
  });

  it('provisions the libraries tfjs-node loads and leaves out NCCL, CUPTI and nvcc', () => {
    expect(provisionedRequirements(TF_221_REQUIRES).map((r) => `${r.project}==${r.version}`)).toEqual([
      'nvidia-cublas-cu12==12.5.3.2',
      'nvidia-cuda-nvrtc-cu12==12.5.82',
      'nvidia-cuda-runtime-cu12==12.5.82',
      'nvidia-cudnn-cu12==9.3.0.75',
      'nvidia-cufft-cu12==11.2.3.61',
      'nvidia-curand-cu12==10.3.6.82',
      'nvidia-cusolver-cu12==11.6.3.83',
      'nvidia-cusparse-cu12==12.5.1.3',
      'nvidia-nvjitlink-cu12==12.5.82',
    ]);
  });

  it('reads Requires-Dist from a wheel METADATA (headers only, not the description)', () => {
    const metadata =
      'Metadata-Version: 2.1\nName: tensorflow\nVersion: 2.21.0\n' +
      'Requires-Dist: absl-py >=1.0.0\nRequires-Dist: nvidia-cudnn-cu12 <10.0,>=9.3.0.75 ; extra == "and-cuda"\n' +
      '\nRequires-Dist: this is the long description\n';
    const requires = parseRequiresDist(metadata);
    expect(requires).toHaveLength(2);
    expect(andCudaRequirements(requires)).toEqual([{ project: 'nvidia-cudnn-cu12', version: '9.3.0.75' }]);
  });

  it('unpacks only the shared libraries of a CUDA wheel', () => {
    expect(isCudaLibraryMember('nvidia/cublas/lib/libcublas.so.12')).toBe(true);
    expect(isCudaLibraryMember('nvidia/cuda_nvrtc/lib/libnvrtc-builtins.so.12.5')).toBe(true);
    expect(isCudaLibraryMember('nvidia/cublas/include/cublas.h')).toBe(false);
    expect(isCudaLibraryMember('nvidia_cublas_cu12-12.5.3.2.dist-info/RECORD')).toBe(false);
  });
});

/** A fat binary as nvcc writes it: 16-byte header, entries of a 64-byte header and their payload. */
function fatbin(entries: Array<{ kind: 1 | 2; arch: number; payload: number }>): Buffer {
  const bodies = entries.map(({ kind, arch, payload }) => {
    const entry = Buffer.alloc(64 + payload);
    entry.writeUInt16LE(kind, 0);
    entry.writeUInt32LE(64, 4);
    entry.writeBigUInt64LE(BigInt(payload), 8);
    entry.writeUInt32LE(arch, 28);
    return entry;
  });
  const header = Buffer.alloc(16);
  header.writeUInt32LE(0xba55ed50, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(16, 6);
  header.writeBigUInt64LE(BigInt(bodies.reduce((sum, body) => sum + body.length, 0)), 8);
  return Buffer.concat([header, ...bodies]);
}

describe('the GPUs a libtensorflow has kernels for', () => {
  it('reads SASS and PTX architectures from every fat binary of a .nv_fatbin section, across padding', () => {
    const section = Buffer.concat([
      fatbin([
        { kind: 2, arch: 80, payload: 40 },
        { kind: 2, arch: 90, payload: 24 },
        { kind: 1, arch: 90, payload: 16 },
      ]),
      Buffer.alloc(8), // alignment padding between fat binaries
      fatbin([
        { kind: 2, arch: 60, payload: 8 },
        { kind: 2, arch: 89, payload: 8 },
      ]),
    ]);
    expect(fatbinArchitectures(section)).toEqual({ sass: ['6.0', '8.0', '8.9', '9.0'], ptx: ['9.0'] });
  });

  it('finds no section in a library without CUDA code, and none in a file that is not ELF', async () => {
    expect(await readElfSection(process.execPath, '.nv_fatbin')).toBeUndefined();
    expect((await readElfSection(process.execPath, '.text'))?.length).toBeGreaterThan(0);
    const dir = await mkdtemp(path.join(tmpdir(), 'elf-'));
    try {
      await writeFile(path.join(dir, 'x.so'), 'not an ELF file, but long enough to hold a header...........');
      expect(await readElfSection(path.join(dir, 'x.so'), '.text')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("PyPI's answers for the CUDA route", () => {
  it('reads requires_dist from the JSON API, falling back to the project page when it is that release', async () => {
    const served: string[] = [];
    const server = createServer((request, response) => {
      served.push(request.url!);
      if (request.url === '/pypi/tensorflow/json') {
        response.end(JSON.stringify({ info: { version: '2.21.0', requires_dist: TF_221_REQUIRES } }));
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pypi`;
    try {
      expect(await fetchRequiresDist('tensorflow', '2.21.0', base)).toEqual(TF_221_REQUIRES);
      expect(served).toEqual(['/pypi/tensorflow/2.21.0/json', '/pypi/tensorflow/json']);
      // An older release the API does not answer for: read from the wheel's METADATA instead.
      expect(await fetchRequiresDist('tensorflow', '2.20.0', base)).toBeUndefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("picks NVIDIA's py3-none manylinux wheel of the pinned version", () => {
    const file = (filename: string) => ({
      filename,
      url: `https://f/${filename}`,
      size: 1,
      hashes: { sha256: 's' },
    });
    const page = {
      files: [
        file('nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl'),
        file('nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_aarch64.whl'),
        file('nvidia_cudnn_cu12-9.3.0.75-py3-none-win_amd64.whl'),
        file('nvidia_cudnn_cu12-9.4.0.58-py3-none-manylinux2014_x86_64.whl'),
      ],
    };
    expect(pickLinuxWheel(page, 'nvidia-cudnn-cu12', '9.3.0.75').filename).toBe(
      'nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl',
    );
  });
});
