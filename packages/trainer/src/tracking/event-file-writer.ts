/**
 * TensorBoard event files without TensorFlow: TFRecord framing (length, masked CRC-32C, payload, masked
 * CRC-32C) around hand-encoded `Event` protos (tensorflow/core/util/event.proto, summary.proto). Only the
 * fields TensorBoard needs for scalars and images are written; `tensorboard --logdir` and its
 * event_accumulator read them (test/tracking/event-file-writer.test.ts reads them back with it).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { maskedCrc32c } from '@food/core/crc';

/** Protobuf wire types. */
const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private key(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private varint(value: number | bigint): void {
    let rest = BigInt(value);
    const bytes: number[] = [];
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      bytes.push(rest > 0n ? low | 0x80 : low);
    } while (rest > 0n);
    this.parts.push(Uint8Array.from(bytes));
  }

  uint(field: number, value: number): this {
    this.key(field, VARINT);
    this.varint(value);
    return this;
  }

  /** A fixed-width field: `bytes` (little-endian) as they are, no length. */
  private fixed(field: number, wireType: typeof FIXED64 | typeof FIXED32, bytes: Buffer): this {
    this.key(field, wireType);
    this.parts.push(bytes);
    return this;
  }

  double(field: number, value: number): this {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(value);
    return this.fixed(field, FIXED64, bytes);
  }

  float(field: number, value: number): this {
    const bytes = Buffer.alloc(4);
    bytes.writeFloatLE(value);
    return this.fixed(field, FIXED32, bytes);
  }

  bytes(field: number, value: Uint8Array | string): this {
    const payload = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.key(field, BYTES);
    this.varint(payload.length);
    this.parts.push(payload);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A PNG for an image summary. */
export interface SummaryImage {
  width: number;
  height: number;
  /** 3: RGB (summary.proto's Image.colorspace). */
  colorspace: number;
  png: Uint8Array;
}

/** Event { wall_time = 1; step = 2; file_version = 3 | summary = 5 }. */
function eventBytes(wallTime: number, step: number, what: { fileVersion: string } | { summary: Buffer }) {
  const event = new ProtoWriter().double(1, wallTime).uint(2, step);
  return ('fileVersion' in what ? event.bytes(3, what.fileVersion) : event.bytes(5, what.summary)).finish();
}

/** Summary { repeated Value value = 1 }; Value { tag = 1; simple_value = 2 | image = 4 }. */
function scalarSummary(tag: string, value: number): Buffer {
  const summaryValue = new ProtoWriter().bytes(1, tag).float(2, value).finish();
  return new ProtoWriter().bytes(1, summaryValue).finish();
}

function imageSummary(tag: string, image: SummaryImage): Buffer {
  // Image { height = 1; width = 2; colorspace = 3; encoded_image_string = 4 }
  const encoded = new ProtoWriter()
    .uint(1, image.height)
    .uint(2, image.width)
    .uint(3, image.colorspace)
    .bytes(4, image.png)
    .finish();
  const summaryValue = new ProtoWriter().bytes(1, tag).bytes(4, encoded).finish();
  return new ProtoWriter().bytes(1, summaryValue).finish();
}

/** One TFRecord: uint64 length, masked CRC of the length, the data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(data.length));
  const lengthCrc = Buffer.alloc(4);
  lengthCrc.writeUInt32LE(maskedCrc32c(header));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([header, lengthCrc, data, dataCrc]);
}

/**
 * Appends events to `DIR/events.out.tfevents.<seconds>.<host>.<pid>.food`, the name TensorBoard looks
 * for. Every record is written through at once, so a killed run keeps every event before the kill.
 */
export class EventFileWriter {
  readonly file: string;
  private fd: number | undefined;

  constructor(
    logdir: string,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(logdir, { recursive: true });
    const seconds = Math.floor(now() / 1000);
    this.file = path.join(logdir, `events.out.tfevents.${seconds}.${hostname()}.${process.pid}.food`);
    this.fd = openSync(this.file, 'a');
    this.append(eventBytes(now() / 1000, 0, { fileVersion: 'brain.Event:2' }));
  }

  scalar(tag: string, value: number, step: number): void {
    this.append(eventBytes(this.now() / 1000, step, { summary: scalarSummary(tag, value) }));
  }

  image(tag: string, image: SummaryImage, step: number): void {
    this.append(eventBytes(this.now() / 1000, step, { summary: imageSummary(tag, image) }));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(event: Buffer): void {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    writeSync(this.fd, tfRecord(event));
  }
}
