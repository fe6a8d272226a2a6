import type { BenchResults } from '../run-bench.ts';
import { formatResult, table } from './format.ts';

/** What PyTorch measured (the reference every ratio divides by), or why it did not run. */
export function pytorchSection({ pytorch }: BenchResults): string[] {
  if (!pytorch) return [];
  if (pytorch.unavailable) return ['## PyTorch reference', '', `Not measured: ${pytorch.unavailable}.`, ''];
  return [
    '## PyTorch reference',
    '',
    `PyTorch ${pytorch.version} (Debian \`python3-torch\`, \`/usr/bin/python3\`), ${pytorch.threads} threads, ` +
      'packages/bench/src/pytorch_resnet50.py: ResNet-50 v1 written by hand with the same layers as ours ' +
      '(biased convs, stride on the first 1×1), NCHW, forward under `torch.inference_mode()`, train step = ' +
      '`Adam(lr=1e-4, weight_decay=1e-4)` on cross-entropy. One warm-up run, then the timed runs, in one process. ' +
      "**On a loaded machine these numbers flatter us:** PyTorch's OpenMP threads wait for each other, so when " +
      'other processes hold the cores its times inflate more than those of a single-threaded measurement. ' +
      'For the real ratio, rerun on an idle machine: `pnpm bench --only train,pytorch`.',
    '',
    table(
      ['Measurement', 'Batch', 'ms/image'],
      [
        ...[...pytorch.forward].map(([batch, r]) => ['forward', String(batch), formatResult(r)]),
        ...[...pytorch.train].map(([batch, r]) => ['train step', String(batch), formatResult(r)]),
        ...(pytorch.gemm ? [['1×1 convolution, GFLOP/s', '–', formatResult(pytorch.gemm)]] : []),
      ],
    ),
    '',
  ];
}
