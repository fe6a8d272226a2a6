import { encodePng } from '@food/core/png';
import { multipartBody } from '@food/core/testing/multipart-body';
import { gradient, makePng, makePngBomb } from '@food/core/testing/synthetic-images';
import sharp, { type Sharp } from 'sharp';

/**
 * A corpus of bad and odd uploads, generated at test time (sharp writes most formats, the rest are
 * crafted byte by byte), for POST /api/predict. Each case says what the server must answer: a 200 with
 * a prediction, or a 4xx with `{ error: { code, message } }` and one of the listed codes. None may get
 * a 5xx, hang, or leave a file anywhere.
 */
export interface CorpusCase {
  name: string;
  url: string;
  payload?: Buffer | string;
  headers?: Record<string, string>;
  /** 200, or the 4xx statuses and error codes accepted. */
  expect: { status: 200 } | { status: number[]; codes: string[] };
  /** Upright reference: a 200 must give the same probabilities as this case (EXIF orientation). */
  sameAs?: string;
}

export interface CorpusOptions {
  /** The server's --max-upload-bytes, to build an upload just over it. */
  maxUploadBytes: number;
  /** The checkpoint's class count, for out-of-range topK. */
  numClasses: number;
  /** A URL on a local HTTP server whose hit counter must stay 0 (SVG external references). */
  canaryUrl: string;
}

const PREDICT = '/api/predict';
const ok = { status: 200 } as const;
const fails = (status: number | number[], ...codes: string[]) => ({
  status: Array.isArray(status) ? status : [status],
  codes,
});

/** The upright picture rotated without an EXIF tag: its answer must differ (the orientation check can fail). */
export const ROTATED_CONTROL = 'rotated 90° without EXIF (control)';

/** The upright reference picture: asymmetric, so a wrong orientation changes the pixels seen. */
const UPRIGHT = { width: 48, height: 32 };

function rawRgb(width: number, height: number, seed = 0): Buffer {
  const pixel = gradient(seed);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return data;
}

const fromRaw = (width: number, height: number, seed = 0, channels: 3 | 4 = 3) =>
  sharp(channels === 3 ? rawRgb(width, height, seed) : withAlpha(rawRgb(width, height, seed)), {
    raw: { width, height, channels },
  });

function withAlpha(rgb: Buffer): Buffer {
  const rgba = Buffer.alloc((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba.set(rgb.subarray(i, i + 3), j);
    rgba[j + 3] = (i / 3) % 7 === 0 ? 0 : 160; // fully transparent and half transparent pixels
  }
  return rgba;
}

/**
 * The pixels to store with EXIF orientation `o` so that applying the orientation gives UPRIGHT back
 * (EXIF 2.32 table: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 CW, 7 transverse, 8 rotate 270 CW).
 */
async function storedForOrientation(orientation: number): Promise<Buffer> {
  const rotate = (angle: number) => (s: Sharp) => s.rotate(angle);
  const flop = (s: Sharp) => s.flop();
  // One step per pass: within one pipeline sharp flops before it rotates, whatever the call order.
  const inverse: Record<number, Array<(s: Sharp) => Sharp>> = {
    1: [],
    2: [flop],
    3: [rotate(180)],
    4: [(s) => s.flip()],
    5: [rotate(90), flop], // transpose
    6: [rotate(-90)],
    7: [rotate(-90), flop], // transverse
    8: [rotate(90)],
  };
  let stored = await fromRaw(UPRIGHT.width, UPRIGHT.height, 4).png().toBuffer();
  for (const step of inverse[orientation]) stored = await step(sharp(stored)).png().toBuffer();
  // Lossless WebP carries EXIF and keeps pixels exact, so the answer must equal the upright one.
  return sharp(stored).withMetadata({ orientation }).webp({ lossless: true }).toBuffer();
}

/** A baseline JPEG whose entropy-coded data is overwritten with noise (bad Huffman codes). */
async function corruptHuffmanJpeg(): Promise<Buffer> {
  const jpeg = Buffer.from(await fromRaw(64, 64, 2).jpeg({ quality: 90 }).toBuffer());
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  const scanStart = sos + 2 + jpeg.readUInt16BE(sos + 2);
  for (let i = scanStart + 10; i < jpeg.length - 20; i += 3) jpeg[i] = (i * 37) & 0xfe; // never 0xff
  return jpeg;
}

/** A tiny JPEG whose SOF header is patched to declare `side`×`side` pixels. */
async function jpegBomb(side: number): Promise<Buffer> {
  const jpeg = Buffer.from(await fromRaw(16, 16).jpeg().toBuffer());
  for (let i = 0; i < jpeg.length - 9; i++) {
    if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
      jpeg.writeUInt16BE(side, i + 5);
      jpeg.writeUInt16BE(side, i + 7);
      return jpeg;
    }
  }
  throw new Error('no SOF marker');
}

/** An ISO-BMFF `ftyp heic` box (what an iPhone photo starts with), then garbage. */
function fakeHeic(): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftypheic', 4, 'ascii');
  ftyp.writeUInt32BE(0, 12);
  ftyp.write('mif1heic', 16, 'ascii');
  const garbage = Buffer.alloc(2048);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff;
  return Buffer.concat([ftyp, garbage]);
}

const MINIMAL_PDF =
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n';

/** A ZIP with one stored file: local header, data, central directory, end record. */
function minimalZip(): Buffer {
  const name = Buffer.from('photo.jpg');
  const data = Buffer.from('not really a photo');
  const [size, nameSize, zeros] = [data.length, name.length, (bytes: number) => Buffer.alloc(bytes)];
  const local = Buffer.concat([
    u32(0x04034b50),
    u16(10),
    zeros(12),
    u32(size),
    u32(size),
    u16(nameSize),
    zeros(2),
  ]);
  const central = Buffer.concat([u32(0x02014b50), u16(20), u16(10), zeros(12), u32(size), u32(size)]);
  // Name length; no extra field, comment or attributes; the local header is at offset 0.
  const centralName = Buffer.concat([u16(nameSize), zeros(16)]);
  const directorySize = central.length + centralName.length + nameSize;
  const end = Buffer.concat([u32(0x06054b50), zeros(4), u16(1), u16(1), u32(directorySize)]);
  const directoryOffset = Buffer.concat([u32(local.length + nameSize + size), zeros(2)]);
  return Buffer.concat([local, name, data, central, centralName, name, end, directoryOffset]);
}

/** Little-endian fields, as ZIP headers store them. */
function u16(value: number): Buffer {
  const field = Buffer.alloc(2);
  field.writeUInt16LE(value);
  return field;
}

function u32(value: number): Buffer {
  const field = Buffer.alloc(4);
  field.writeUInt32LE(value);
  return field;
}

/** A 16-bit grey PNG, written by hand (sharp writes 16-bit RGB; this covers another decoder path). */
function grey16Png(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 2 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      rows.writeUInt16BE(((x * 997 + y * 4099) * 13) & 0xffff, y * (width * 2 + 1) + 1 + x * 2);
  }
  return encodePng(width, height, rows, { bitDepth: 16, colourType: 0 });
}

const raw = (name: string, payload: Buffer | string, contentType: string, expect: CorpusCase['expect']) => ({
  name,
  url: PREDICT,
  payload,
  headers: { 'content-type': contentType },
  expect,
});

const upload = (
  name: string,
  image: Uint8Array | string,
  expect: CorpusCase['expect'],
  options: { filename?: string; contentType?: string; url?: string; sameAs?: string } = {},
): CorpusCase => {
  const body = multipartBody([
    {
      name: 'image',
      value: image,
      filename: options.filename ?? 'photo.jpg',
      contentType: options.contentType ?? 'image/jpeg',
    },
  ]);
  return { name, url: options.url ?? PREDICT, ...body, expect, sameAs: options.sameAs };
};

/** Builds the whole corpus (about 70 cases, well under a second). */
export async function buildCorpus(options: CorpusOptions): Promise<CorpusCase[]> {
  const { maxUploadBytes, numClasses, canaryUrl } = options;
  const png = makePng(48, 40, gradient(1));
  const jpeg = await fromRaw(64, 48, 2).jpeg({ quality: 85 }).toBuffer();
  const frames = await Promise.all([1, 2, 3].map((seed) => fromRaw(24, 24, seed).png().toBuffer()));
  const svgWithExternalRefs =
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">' +
    `<image href="${canaryUrl}/x.png" width="64" height="64"/>` +
    `<image xlink:href="${canaryUrl}/y.png" width="32" height="32"/>` +
    `<style>@import url("${canaryUrl}/z.css");</style>` +
    `<rect width="64" height="64" fill="url(${canaryUrl}/w.svg#p)"/></svg>`;

  const cases: CorpusCase[] = [
    // Empty and missing bodies.
    { name: 'no body, no content type', url: PREDICT, expect: fails(400, 'IMAGE_MISSING') },
    raw('empty raw image/jpeg body', Buffer.alloc(0), 'image/jpeg', fails(400, 'IMAGE_MISSING')),
    upload('zero-byte file', Buffer.alloc(0), fails(400, 'IMAGE_EMPTY')),

    // Not images, posing as .jpg.
    upload('plain text as .jpg', 'just some text, not a photo\n', fails(415, 'IMAGE_UNSUPPORTED')),
    upload(
      'HTML as .jpg',
      '<!doctype html><html><body><img src=x onerror=alert(1)></body></html>',
      fails(415, 'IMAGE_UNSUPPORTED'),
    ),
    upload('PDF as .jpg', MINIMAL_PDF, fails(415, 'IMAGE_UNSUPPORTED')),
    upload('ZIP as .jpg', minimalZip(), fails(415, 'IMAGE_UNSUPPORTED')),
    upload('JSON as .jpg', '{"image":"photo.jpg"}', fails(415, 'IMAGE_UNSUPPORTED')),
    upload(
      'random bytes as .jpg',
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)),
      fails(415, 'IMAGE_UNSUPPORTED'),
    ),

    // Damaged images.
    upload(
      'truncated JPEG (first half)',
      jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      fails(422, 'IMAGE_CORRUPT'),
    ),
    upload(
      'truncated JPEG (header only)',
      jpeg.subarray(0, 200),
      fails([415, 422], 'IMAGE_CORRUPT', 'IMAGE_UNSUPPORTED'),
    ),
    upload('truncated PNG', png.subarray(0, Math.floor(png.length * 0.6)), fails(422, 'IMAGE_CORRUPT')),
    upload(
      'PNG cut inside IHDR',
      png.subarray(0, 20),
      fails([415, 422], 'IMAGE_CORRUPT', 'IMAGE_UNSUPPORTED'),
    ),
    // libjpeg reports bad Huffman codes as a warning and decodes grey blocks; image.ts fails only on
    // errors (so real photos with harmless warnings pass), hence a 200 is acceptable here.
    upload('JPEG with corrupt Huffman data', await corruptHuffmanJpeg(), {
      status: [200, 422],
      codes: ['IMAGE_CORRUPT'],
    }),
    upload(
      'PNG with wrong magic number',
      Buffer.concat([Buffer.from([0x88]), png.subarray(1)]),
      fails(415, 'IMAGE_UNSUPPORTED'),
    ),
    upload(
      'JPEG with wrong magic number',
      Buffer.concat([Buffer.from([0xff, 0xd9]), jpeg.subarray(2)]),
      fails(415, 'IMAGE_UNSUPPORTED'),
    ),
    upload('PNG with a bad IDAT checksum', corruptIdatCrc(png), fails(422, 'IMAGE_CORRUPT')),

    // Sizes.
    upload(
      'PNG decompression bomb (50,000×50,000 declared)',
      makePngBomb(50_000),
      fails(413, 'IMAGE_TOO_LARGE'),
    ),
    upload(
      'JPEG decompression bomb (50,000×50,000 declared)',
      await jpegBomb(50_000),
      fails(413, 'IMAGE_TOO_LARGE'),
    ),
    upload('1×1 PNG', makePng(1, 1), ok),
    upload('300×3 PNG (elongated 100:1)', makePng(300, 3), ok),
    upload('3×300 PNG (elongated 1:100)', makePng(3, 300), ok),
    upload('10000×3 PNG (a strip)', makePng(10_000, 3), fails(422, 'IMAGE_TOO_THIN')),
    upload('3×10000 PNG (a strip)', makePng(3, 10_000), fails(422, 'IMAGE_TOO_THIN')),
    upload(
      'upload over --max-upload-bytes',
      Buffer.concat([png, Buffer.alloc(maxUploadBytes)]),
      fails(413, 'UPLOAD_TOO_LARGE'),
    ),
    raw(
      'raw body over --max-upload-bytes',
      Buffer.concat([jpeg, Buffer.alloc(maxUploadBytes)]),
      'image/jpeg',
      fails(413, 'UPLOAD_TOO_LARGE'),
    ),

    // Colour models, bit depths, formats.
    upload('CMYK JPEG', await fromRaw(40, 40, 3).toColourspace('cmyk').jpeg().toBuffer(), ok),
    upload('grayscale JPEG', await fromRaw(40, 40, 3).toColourspace('b-w').jpeg().toBuffer(), ok),
    upload('progressive JPEG', await fromRaw(40, 40, 3).jpeg({ progressive: true }).toBuffer(), ok),
    upload('16-bit RGB PNG', await fromRaw(40, 40, 5).toColourspace('rgb16').png().toBuffer(), ok, {
      contentType: 'image/png',
    }),
    upload('16-bit grey PNG', grey16Png(40, 30), ok, { contentType: 'image/png' }),
    upload(
      'palette PNG with transparency',
      await fromRaw(40, 40, 6, 4).png({ palette: true }).toBuffer(),
      ok,
    ),
    upload('RGBA PNG with transparent pixels', await fromRaw(40, 40, 6, 4).png().toBuffer(), ok),
    upload('grey + alpha PNG', await fromRaw(40, 40, 6, 4).toColourspace('b-w').png().toBuffer(), ok),
    upload(
      'animated GIF (3 frames)',
      await sharp(frames, { join: { animated: true } })
        .gif()
        .toBuffer(),
      ok,
      { contentType: 'image/gif' },
    ),
    upload('lossy WebP', await fromRaw(40, 40, 7).webp().toBuffer(), ok, { contentType: 'image/webp' }),
    upload('WebP with alpha', await fromRaw(40, 40, 7, 4).webp().toBuffer(), ok, {
      contentType: 'image/webp',
    }),
    upload('AVIF', await fromRaw(40, 40, 8).avif().toBuffer(), ok, { contentType: 'image/avif' }),
    upload(
      'HEIC (ftyp heic header, then garbage)',
      fakeHeic(),
      fails([415, 422], 'IMAGE_UNSUPPORTED', 'IMAGE_CORRUPT'),
    ),
    upload('TIFF', await fromRaw(40, 40, 9).tiff().toBuffer(), ok, { contentType: 'image/tiff' }),
    upload('SVG with external references', svgWithExternalRefs, fails(415, 'IMAGE_UNSUPPORTED'), {
      contentType: 'image/svg+xml',
      filename: 'x.svg',
    }),
    raw(
      'raw SVG body with external references',
      svgWithExternalRefs,
      'image/svg+xml',
      fails(415, 'IMAGE_UNSUPPORTED'),
    ),
    upload(
      'JPEG with a Display P3 ICC profile',
      await fromRaw(40, 40, 10).withIccProfile('p3').jpeg().toBuffer(),
      ok,
    ),
    upload('PNG with an ICC profile', await fromRaw(40, 40, 10).withIccProfile('p3').png().toBuffer(), ok),

    // EXIF orientation: every one must give the upright picture's answer.
    upload(
      'upright reference (lossless WebP)',
      await fromRaw(UPRIGHT.width, UPRIGHT.height, 4).webp({ lossless: true }).toBuffer(),
      ok,
    ),
  ];
  cases.push(
    upload(
      ROTATED_CONTROL,
      await fromRaw(UPRIGHT.width, UPRIGHT.height, 4).rotate(90).webp({ lossless: true }).toBuffer(),
      ok,
    ),
  );
  for (let orientation = 1; orientation <= 8; orientation++) {
    cases.push(
      upload(`EXIF orientation ${orientation}`, await storedForOrientation(orientation), ok, {
        sameAs: 'upright reference (lossless WebP)',
      }),
    );
  }

  cases.push(
    // Multipart structure.
    {
      name: 'two files',
      url: PREDICT,
      ...multipartBody([
        { name: 'image', value: png, filename: 'a.png' },
        { name: 'image', value: png, filename: 'b.png' },
      ]),
      expect: fails(400, 'IMAGE_MULTIPLE'),
    },
    {
      name: 'file in the wrong field',
      url: PREDICT,
      ...multipartBody([{ name: 'file', value: png, filename: 'a.png' }]),
      expect: fails(400, 'IMAGE_FIELD_UNEXPECTED'),
    },
    {
      name: 'only a text field',
      url: PREDICT,
      ...multipartBody([{ name: 'image', value: 'not a file' }]),
      expect: fails(400, 'IMAGE_MISSING'),
    },
    {
      name: 'too many fields',
      url: PREDICT,
      ...multipartBody(Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, value: 'x' }))),
      expect: fails(400, 'TOO_MANY_FIELDS', 'FIELD_UNEXPECTED'),
    },
    {
      name: 'multipart without a boundary parameter',
      url: PREDICT,
      payload: multipartBody([{ name: 'image', value: png, filename: 'a.png' }]).payload,
      headers: { 'content-type': 'multipart/form-data' },
      expect: fails(400, 'MULTIPART_MALFORMED'),
    },
    {
      name: 'multipart with a boundary the body does not use',
      url: PREDICT,
      payload: multipartBody([{ name: 'image', value: png, filename: 'a.png' }]).payload,
      headers: { 'content-type': 'multipart/form-data; boundary=something-else' },
      expect: fails(400, 'MULTIPART_MALFORMED'),
    },
    {
      name: 'multipart without the closing boundary',
      url: PREDICT,
      payload: multipartBody([{ name: 'image', value: png, filename: 'a.png' }]).payload.subarray(0, -30),
      headers: { 'content-type': 'multipart/form-data; boundary=----food-test-boundary' },
      expect: fails(400, 'MULTIPART_MALFORMED'),
    },
    {
      name: 'multipart part without headers',
      url: PREDICT,
      payload: '------food-test-boundary\r\n\r\nhello\r\n------food-test-boundary--\r\n',
      headers: { 'content-type': 'multipart/form-data; boundary=----food-test-boundary' },
      expect: fails(400, 'IMAGE_MISSING'),
    },
    {
      name: 'multipart with a garbage preamble only',
      url: PREDICT,
      payload: 'garbage garbage garbage',
      headers: { 'content-type': 'multipart/form-data; boundary=----food-test-boundary' },
      expect: fails(400, 'MULTIPART_MALFORMED'),
    },
    upload('path-like file name ../../etc/passwd.jpg', png, ok, { filename: '../../etc/passwd.jpg' }),
    upload('absolute file name /tmp/food-corpus-abs.jpg', png, ok, { filename: '/tmp/food-corpus-abs.jpg' }),
    upload('unicode file name', png, ok, { filename: 'ラーメン 🍜 crème brûlée.jpg' }),
    upload('file name with a NUL and CRLF', png, ok, { filename: 'a\u0000b.jpg' }),

    // Content types.
    raw('application/json body', '{"image":"x"}', 'application/json', fails(415, 'UNSUPPORTED_MEDIA_TYPE')),
    raw('invalid JSON body', '{"image":', 'application/json', fails(400, 'INVALID_JSON')),
    raw('text/plain body', 'hello', 'text/plain', fails(415, 'UNSUPPORTED_MEDIA_TYPE')),
    raw(
      'application/octet-stream image',
      png,
      'application/octet-stream',
      fails(415, 'UNSUPPORTED_MEDIA_TYPE'),
    ),
    raw(
      'form-urlencoded body',
      'image=abc',
      'application/x-www-form-urlencoded',
      fails(415, 'UNSUPPORTED_MEDIA_TYPE'),
    ),
    raw('image/jpeg header over PNG bytes', png, 'image/jpeg', ok),
    raw('raw PNG body', png, 'image/png', ok),
    raw('raw text labelled image/png', 'hello', 'image/png', fails(415, 'IMAGE_UNSUPPORTED')),

    // topK.
    ...['0', '-1', '1.5', 'abc', '', '1e400'].map((topK) =>
      upload(`topK=${JSON.stringify(topK)} in the query`, png, fails(400, 'TOPK_INVALID'), {
        url: `${PREDICT}?topK=${encodeURIComponent(topK)}`,
      }),
    ),
    // Above the class count is capped, not refused (clients asking for 5 of a 2-class model).
    ...[String(numClasses + 1), '1000000000'].map((topK) =>
      upload(`topK=${topK} in the query (capped)`, png, ok, { url: `${PREDICT}?topK=${topK}` }),
    ),
    ...['0', '-1', '1.5', 'abc'].map((topK) => ({
      name: `topK=${JSON.stringify(topK)} as a form field`,
      url: PREDICT,
      ...multipartBody([
        { name: 'topK', value: topK },
        { name: 'image', value: png, filename: 'a.png', contentType: 'image/png' },
      ]),
      expect: fails(400, 'TOPK_INVALID'),
    })),
    upload('topK twice in the query', png, fails(400, 'TOPK_INVALID', 'INVALID_REQUEST'), {
      url: `${PREDICT}?topK=1&topK=2`,
    }),
  );
  return cases;
}

function corruptIdatCrc(png: Buffer): Buffer {
  const copy = Buffer.from(png);
  const idat = copy.indexOf(Buffer.from('IDAT', 'ascii'));
  const length = copy.readUInt32BE(idat - 4);
  // Flip bits in the compressed data (the CRC no longer matches and inflate fails).
  for (let i = idat + 4 + 2; i < idat + 4 + length; i += 5) copy[i] ^= 0x5a;
  return copy;
}
