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

describe('EventFileWriter without TensorBoard', () => {
  it('writes a scalar as Event { wall_time (double), step (varint), summary { value { tag, simple_value (float) } } }', async () => {
    const writer = new EventFileWriter(await mkdtemp(path.join(tmpdir(), 'events-')), () => 1500);
    writer.scalar('loss', 0.25, 300);
    writer.close();
    const file = await readFile(writer.file);
    const first = 8 + 4 + Number(file.readBigUInt64LE(0)) + 4; // the file_version event
    const event = file.subarray(first + 12, first + 12 + Number(file.readBigUInt64LE(first)));
    const wallTime = Buffer.alloc(8);
    wallTime.writeDoubleLE(1.5);
    const value = Buffer.alloc(4);
    value.writeFloatLE(0.25);
    const summaryValue = Buffer.concat([
      Buffer.from([0x0a, 4]),
      Buffer.from('loss'),
      Buffer.from([0x15]),
      value,
    ]);
    const summary = Buffer.concat([Buffer.from([0x0a, summaryValue.length]), summaryValue]);
    expect([...event]).toEqual([
      ...[0x09, ...wallTime], // field 1, fixed64
      ...[0x10, 0xac, 0x02], // field 2, varint 300
      ...[0x2a, summary.length, ...summary], // field 5, length-delimited
    ]);
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
