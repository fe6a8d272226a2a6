/**
 * The only module that knows sharp (libvips). Everything that turns image bytes into model input goes
 * through here, so statistics, training, evaluation and serving see pixels made the same way.
 *
 * Geometry follows torchvision's ImageNet presets: `Resize(resizeShorterSide)` (aspect preserved) then
 * `CenterCrop(cropSize)` for evaluation, `RandomResizedCrop(cropSize)` + `RandomHorizontalFlip()` for
 * training. Output is HWC, RGB, float32: (pixel / 255 − mean[c]) / std[c].
 */
import sharp, { type KernelEnum, type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { UserError } from '../errors.ts';
import { type Interpolation, type PreprocessConfig, PreprocessConfigError } from './config.ts';

// libvips' operation cache keeps recent decodes (up to 50 MB) in case the same operation repeats.
// Training reads each file once per epoch and the server sees unique uploads, so the cache only
// costs memory. Threads per image stay at sharp's default (1 on glibc Linux, against heap
// fragmentation); parallelism comes from callers decoding several images at once (the batch loader).
sharp.cache(false);

export type ImageDecodeErrorCode =
  | 'IMAGE_EMPTY'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_UNSUPPORTED'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_THIN';

/** The bytes are not an image we can use; the message says why and what to do. */
export class ImageDecodeError extends UserError {
  override name = 'ImageDecodeError';
  declare readonly code: ImageDecodeErrorCode;

  constructor(message: string, code: ImageDecodeErrorCode, options?: { cause?: unknown }) {
    super(message, code);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export interface DecodeLimits {
  /**
   * Largest accepted width × height, checked from the header before any pixel is decoded, so a
   * small file that declares a huge image (a decompression bomb) costs nothing.
   */
  maxPixels?: number;
}

/** 40 megapixels: above most phone cameras' default resolution, far below what would exhaust memory. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/**
 * Longest side ÷ shortest side we accept. Resizing the shorter side to `resizeShorterSide` multiplies
 * the longer one by the same factor, so a 1,400,000×1 strip would become 358,400,000×256: past what
 * libvips can address (it threw, and the server answered 500). Panoramas stay far below 100:1, and
 * the centre crop of anything thinner shows under 1 % of it.
 */
export const MAX_ASPECT_RATIO = 100;

/** Formats a photo reasonably arrives in. SVG, PDF and friends are refused rather than rasterised. */
const SUPPORTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const SUPPORTED_LIST = 'JPEG, PNG, WebP, GIF, AVIF or TIFF';

const KERNELS: Record<Interpolation, keyof KernelEnum> = {
  nearest: 'nearest',
  bilinear: 'linear',
  // libvips' cubic is Catmull-Rom, the kernel PIL's BICUBIC uses.
  bicubic: 'cubic',
  lanczos3: 'lanczos3',
};

/** Transparent pixels are composited onto white, as the photo looked on a page; see `decoder`. */
const BACKGROUND = { r: 255, g: 255, b: 255 };

export interface ImageInfo {
  format: string;
  /** Width and height after the EXIF orientation is applied. */
  width: number;
  height: number;
}

/** Reads only the header: format and (oriented) size. Throws `ImageDecodeError`. */
export async function decodeImageInfo(bytes: Uint8Array, limits: DecodeLimits = {}): Promise<ImageInfo> {
  if (bytes.length === 0) {
    throw new ImageDecodeError(
      'The image is empty (0 bytes). Check that the file was copied or uploaded completely, then retry.',
      'IMAGE_EMPTY',
    );
  }
  let metadata: Metadata;
  try {
    // The header is trusted for size only; no pixels are decoded here, so no pixel limit is needed
    // (we check it below, with the real size in the message).
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw toDecodeError(error);
  }
  const { format } = metadata;
  if (!SUPPORTED_FORMATS.has(format)) {
    throw new ImageDecodeError(
      `Unsupported image format "${format}": expected ${SUPPORTED_LIST}. Re-export the photo as JPEG or PNG.`,
      'IMAGE_UNSUPPORTED',
    );
  }
  if (format === 'heif' && metadata.compression === 'hevc') {
    // Prebuilt libvips decodes AVIF but not HEVC (patents).
    throw new ImageDecodeError(
      'HEIC photos are not supported. Re-export the photo as JPEG or PNG (on iPhone: Settings › Camera › Formats › Most Compatible).',
      'IMAGE_UNSUPPORTED',
    );
  }
  const { width, height } = metadata.autoOrient;
  checkImageGeometry(width, height, limits);
  return { format, width, height };
}

/**
 * Throws `ImageDecodeError` (IMAGE_TOO_LARGE, IMAGE_TOO_THIN) when an image of this size cannot be
 * preprocessed. `decodeImageInfo` calls it, so every path that reads an image (serving, evaluation,
 * training, `trainer prepare`'s checks) refuses the same images with the same message.
 */
export function checkImageGeometry(width: number, height: number, limits: DecodeLimits = {}): void {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      `The image is ${width}×${height} (${megapixels(width * height)} megapixels), above the limit of ` +
        `${megapixels(maxPixels)} megapixels. Downscale it (for example to 4000 pixels on the long side) and retry.`,
      'IMAGE_TOO_LARGE',
    );
  }
  const ratio = Math.max(width, height) / Math.min(width, height);
  if (ratio > MAX_ASPECT_RATIO) {
    throw new ImageDecodeError(
      `The image is ${width}×${height}: its long side is ${Math.round(ratio)} times its short side, more ` +
        `than the ${MAX_ASPECT_RATIO} allowed (the model looks at a centred square of it). Crop it closer ` +
        'to the subject and retry.',
      'IMAGE_TOO_THIN',
    );
  }
}

/**
 * Decodes, resizes the shorter side to `resizeShorterSide` (aspect preserved; smaller images are
 * upscaled, never padded) and centre-crops `cropSize`². Returns 8-bit sRGB, HWC, length cropSize²·3.
 */
export async function loadCroppedRgb(
  bytes: Uint8Array,
  config: PreprocessConfig,
  limits: DecodeLimits = {},
): Promise<Uint8Array> {
  assertCropFits(config);
  const { width, height } = await decodeImageInfo(bytes, limits);
  const resized = resizedSize(width, height, config.resizeShorterSide);
  const crop = config.cropSize;
  return toRgb(
    () =>
      decoder(bytes, limits)
        .resize(resized.width, resized.height, { kernel: KERNELS[config.interpolation], fit: 'fill' })
        // torchvision's CenterCrop rounds the offset; flooring differs by at most one pixel on odd margins.
        .extract({
          left: Math.floor((resized.width - crop) / 2),
          top: Math.floor((resized.height - crop) / 2),
          width: crop,
          height: crop,
        }),
    crop,
  );
}

/** (pixel / 255 − mean[c]) / std[c] for HWC RGB bytes. The single definition of normalisation. */
export function normalizePixels(rgb: Uint8Array, config: PreprocessConfig): Float32Array {
  if (rgb.length % 3 !== 0) throw new RangeError(`RGB buffer length ${rgb.length} is not a multiple of 3`);
  // 256 values per channel: a lookup table makes this exact and branch-free.
  const table = new Float32Array(768);
  for (let channel = 0; channel < 3; channel++) {
    for (let value = 0; value < 256; value++) {
      table[channel * 256 + value] = (value / 255 - config.mean[channel]) / config.std[channel];
    }
  }
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = table[rgb[i]];
    out[i + 1] = table[256 + rgb[i + 1]];
    out[i + 2] = table[512 + rgb[i + 2]];
  }
  return out;
}

/** Evaluation and serving preprocessing: the function every consumer of a checkpoint calls. */
export async function preprocessImage(
  bytes: Uint8Array,
  config: PreprocessConfig,
  limits?: DecodeLimits,
): Promise<Float32Array> {
  return normalizePixels(await loadCroppedRgb(bytes, config, limits), config);
}

export interface AugmentOptions extends DecodeLimits {
  /** Range of the crop's area as a fraction of the image (torchvision default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop's width / height (torchvision default [3/4, 4/3]). */
  ratio?: [number, number];
}

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Training augmentation: RandomResizedCrop to `cropSize`² then a horizontal flip with p = 0.5, then
 * the same `normalizePixels` as `preprocessImage`. `random` (a seeded RNG, values in [0, 1)) makes
 * the result a pure function of (bytes, config, seed).
 *
 * Scale keeps torchvision's (0.08, 1): the reference recipe that ImageNet ResNet-50 was trained
 * with, and food is recognised by texture that survives small crops. Pass `scale` to soften it.
 */
export async function augmentImage(
  bytes: Uint8Array,
  config: PreprocessConfig,
  random: () => number,
  options: AugmentOptions = {},
): Promise<Float32Array> {
  assertCropFits(config);
  const { width, height } = await decodeImageInfo(bytes, options);
  const box = randomResizedCropBox(width, height, random, options.scale, options.ratio);
  const flip = random() < 0.5;
  const crop = config.cropSize;
  const pipeline = () => {
    const cropped = decoder(bytes, options)
      // extract before resize = crop in source pixels (after EXIF orientation), like torchvision.
      .extract(box)
      .resize(crop, crop, { kernel: KERNELS[config.interpolation], fit: 'fill' });
    return flip ? cropped.flop() : cropped;
  };
  return normalizePixels(await toRgb(pipeline, crop), config);
}

/**
 * torchvision `RandomResizedCrop.get_params`: 10 tries at a random area and log-uniform aspect ratio
 * that fits, else the whole image clamped to the ratio range, centred. Rounds half away from zero
 * where Python rounds half to even; the two agree except on exact .5 ties.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  random: () => number,
  scale: [number, number] = [0.08, 1],
  ratio: [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(random, scale[0], scale[1]);
    const aspect = Math.exp(uniform(random, logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1]);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** Shorter side → `shorterSide`, longer side scaled and truncated like torchvision's Resize. */
export function resizedSize(
  width: number,
  height: number,
  shorterSide: number,
): { width: number; height: number } {
  if (width <= height) return { width: shorterSide, height: Math.floor((shorterSide * height) / width) };
  return { width: Math.floor((shorterSide * width) / height), height: shorterSide };
}

/**
 * A sharp pipeline over `bytes` with the decoding rules every path shares:
 * - EXIF orientation applied, so a phone photo is upright whatever the camera stored;
 * - first frame of an animation (`pages: 1`);
 * - `failOn: 'error'`: a truncated or damaged JPEG raises instead of decoding to grey, while the
 *   harmless warnings common in real photos (extra bytes before a marker) still pass;
 * - the pixel limit enforced again by libvips, in case the header check was bypassed;
 * - alpha composited onto white. Fully transparent pixels carry undefined colour (often black) that
 *   dropping alpha would expose; white is how the image looked in a browser or a product shot.
 */
function decoder(bytes: Uint8Array, limits: DecodeLimits): Sharp {
  return sharp(bytes, {
    autoOrient: true,
    pages: 1,
    failOn: 'error',
    sequentialRead: true,
    limitInputPixels: limits.maxPixels ?? DEFAULT_MAX_PIXELS,
  }).flatten({ background: BACKGROUND });
}

/**
 * Builds and runs the pipeline to 8-bit sRGB with 3 channels (grey, CMYK, 16-bit, palette all land
 * here). Building is inside the `try` too: sharp checks resize and extract arguments as they are set.
 */
async function toRgb(pipeline: () => Sharp, crop: number): Promise<Uint8Array> {
  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await pipeline()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw toDecodeError(error);
  }
  const { data, info } = result;
  if (info.channels !== 3 || data.length !== crop * crop * 3) {
    throw new Error(
      `Internal: decoded ${info.width}×${info.height}×${info.channels}, expected ${crop}×${crop}×3`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function toDecodeError(error: unknown): ImageDecodeError {
  if (error instanceof ImageDecodeError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(reason)) {
    return new ImageDecodeError(
      `Not a recognised image (expected ${SUPPORTED_LIST}). Re-export the photo as JPEG or PNG.`,
      'IMAGE_UNSUPPORTED',
      { cause: error },
    );
  }
  if (/pixel limit/i.test(reason)) {
    return new ImageDecodeError(
      'The image declares more pixels than allowed. Downscale it (for example to 4000 pixels on the long side) and retry.',
      'IMAGE_TOO_LARGE',
      { cause: error },
    );
  }
  return new ImageDecodeError(
    `The image is damaged or truncated and cannot be decoded (${reason.trim()}). Re-export the photo as JPEG or PNG, or copy it again.`,
    'IMAGE_CORRUPT',
    { cause: error },
  );
}

function assertCropFits(config: PreprocessConfig): void {
  if (config.cropSize > config.resizeShorterSide) {
    throw new PreprocessConfigError(
      `cropSize ${config.cropSize} exceeds resizeShorterSide ${config.resizeShorterSide}; fix preprocess.json.`,
    );
  }
}

function uniform(random: () => number, low: number, high: number): number {
  return low + (high - low) * random();
}

function megapixels(pixels: number): string {
  return (pixels / 1e6).toFixed(1);
}

/**
 * A small square JPEG of the photo (EXIF orientation applied) for people to look at (report thumbnails):
 * not model input, so it is lenient with decoder warnings.
 */
export async function thumbnailJpeg(bytes: Uint8Array, size = 112): Promise<Buffer> {
  return sharp(bytes, { failOn: 'none' })
    .rotate()
    .resize(size, size, { fit: 'cover' })
    .jpeg({ quality: 72, mozjpeg: true })
    .toBuffer();
}

/**
 * The photo re-encoded as JPEG with its longer side scaled to `longerSide` (aspect kept, never
 * enlarged unless asked): Food-101-size copies for the loader benchmark.
 */
export async function resizedJpeg(
  bytes: Uint8Array,
  longerSide: number,
  options: { quality: number; enlarge?: boolean },
): Promise<Buffer> {
  return sharp(bytes, { failOn: 'none' })
    .rotate()
    .resize(longerSide, longerSide, {
      fit: 'inside',
      kernel: 'lanczos3',
      withoutEnlargement: !options.enlarge,
    })
    .jpeg({ quality: options.quality })
    .toBuffer();
}
