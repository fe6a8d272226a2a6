import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { confusionImage } from '../../src/tracking/confusion-image.ts';
import { EventFileWriter, tfRecord } from '../../src/tracking/event-file-writer.ts';
import { readTensorboardEvents, trackingSkipReason } from '../helpers/tracking-venv.ts';

describe('tfRecord', () => {
  it('frames data as length, masked CRC of the length, data, masked CRC of the data', () => {
    const record = tfRecord(Buffer.from('abc'));
    expect(record.length).toBe(8 + 4 + 3 + 4);
    expect(record.readBigUInt64LE(0)).toBe(3n);
    expect(record.subarray(12, 15).toString()).toBe('abc');
  });
});

describe('confusionImage', () => {
  it('is a PNG of one square per cell, darkest where a row puts all its images', async () => {
    const image = confusionImage([
      [5, 0],
      [1, 4],
    ]);
    expect(image.width).toBe(400);
    expect(image.height).toBe(400);
    expect(Buffer.from(image.png).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe.skipIf(trackingSkipReason)(
  `EventFileWriter, read by tensorboard's event_accumulator${trackingSkipReason ? ` (skipped: ${trackingSkipReason})` : ''}`,
  () => {
    it('writes scalars and an image that TensorBoard reads back exactly', async () => {
      const logdir = await mkdtemp(path.join(tmpdir(), 'food-events-'));
      const writer = new EventFileWriter(logdir);
      const losses = [2.5, 1.25, 0.625, 0.3125];
      for (const [index, loss] of losses.entries()) writer.scalar('step/loss', loss, index + 1);
      writer.scalar('epoch/val_top1', 0.75, 1);
      writer.image(
        'test/confusion_matrix',
        confusionImage([
          [3, 1, 0],
          [0, 4, 0],
          [1, 0, 3],
        ]),
        2,
      );
      writer.close();
      expect((await readFile(writer.file)).length).toBeGreaterThan(0);

      const events = await readTensorboardEvents(logdir);
      expect(events.scalars['step/loss']).toEqual(losses.map((loss, index) => [index + 1, loss]));
      expect(events.scalars['epoch/val_top1']).toEqual([[1, 0.75]]);
      expect(events.images['test/confusion_matrix']).toEqual([[2, 399, 399]]);
    });
  },
);
