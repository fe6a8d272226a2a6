/**
 * Pixels of synthetic "food" photos: each class has its own base hue and pattern (stripes, checks,
 * blobs, ...), each image a random size, pattern scale, phase and noise. The class cue survives any
 * resize and crop, so a tiny CNN separates the classes within a few epochs — what pipeline tests need.
 */

export type Random = () => number;

export interface SynthImage {
  width: number;
  height: number;
  /** HWC uint8 RGB. */
  rgb: Uint8Array;
}

const PATTERNS = [
  'horizontal-stripes',
  'vertical-stripes',
  'checks',
  'blobs',
  'diagonal-stripes',
  'rings',
] as const;
type Pattern = (typeof PATTERNS)[number];

export interface ClassLook {
  hue: number;
  pattern: Pattern;
}

/** Hues spaced by the golden angle stay far apart for any number of classes. */
export function classLook(classIndex: number): ClassLook {
  return { hue: (classIndex * 0.618_033_988_75) % 1, pattern: PATTERNS[classIndex % PATTERNS.length] };
}

function hsvToRgb(hue: number, saturation: number, value: number): [number, number, number] {
  const h = (((hue % 1) + 1) % 1) * 6;
  const sector = Math.floor(h);
  const f = h - sector;
  const p = value * (1 - saturation);
  const q = value * (1 - saturation * f);
  const t = value * (1 - saturation * (1 - f));
  const rgb: Array<[number, number, number]> = [
    [value, t, p],
    [q, value, p],
    [p, value, t],
    [p, q, value],
    [t, p, value],
    [value, p, q],
  ];
  return rgb[sector % 6].map((channel) => channel * 255) as [number, number, number];
}

const between = (random: Random, low: number, high: number) => low + random() * (high - low);

/** Renders one image; all randomness comes from `random`, so a seeded stream gives identical pixels. */
export function renderSynthImage(look: ClassLook, random: Random, minSide = 160, maxSide = 400): SynthImage {
  const width = Math.floor(between(random, minSide, maxSide + 1));
  const height = Math.floor(between(random, minSide, maxSide + 1));
  return renderSynthPixels(look, random, width, height);
}

/**
 * Width:height of Food-101 photos and how often each occurs, as measured on 300 food10 photos (sharp
 * metadata): square 58 %, 4:3 and 3:4 23 %, the rest 3:2, 2:3 and wider.
 */
const FOOD101_ASPECTS: ReadonlyArray<[ratio: number, share: number]> = [
  [1, 0.58],
  [4 / 3, 0.12],
  [3 / 4, 0.11],
  [3 / 2, 0.08],
  [2 / 3, 0.05],
  [16 / 9, 0.03],
  [9 / 16, 0.03],
];

/** A photo shaped like Food-101's: longer side `longerSide` (512 in the official set), aspect drawn from its mix. */
export function renderFood101SizedImage(look: ClassLook, random: Random, longerSide: number): SynthImage {
  const draw = random();
  let cumulative = 0;
  const [ratio] =
    FOOD101_ASPECTS.find(([, share]) => {
      cumulative += share;
      return draw < cumulative;
    }) ?? FOOD101_ASPECTS[0]!;
  const width = ratio >= 1 ? longerSide : Math.round(longerSide * ratio);
  const height = ratio >= 1 ? Math.round(longerSide / ratio) : longerSide;
  return renderSynthPixels(look, random, width, height);
}

function renderSynthPixels(look: ClassLook, random: Random, width: number, height: number): SynthImage {
  const shorter = Math.min(width, height);
  const base = hsvToRgb(look.hue + between(random, -0.03, 0.03), 0.6, between(random, 0.65, 0.85));
  const accent = hsvToRgb(look.hue + 0.5, 0.7, between(random, 0.35, 0.55));
  const period = shorter * between(random, 0.12, 0.3);
  const phase = random() * period;
  const blobs = Array.from({ length: 4 + Math.floor(random() * 6) }, () => ({
    x: random() * width,
    y: random() * height,
    radius: shorter * between(random, 0.06, 0.16),
  }));
  const centre = { x: between(random, 0.3, 0.7) * width, y: between(random, 0.3, 0.7) * height };

  const half = period / 2;
  const band = (v: number) => Math.floor((v + phase) / half) % 2 === 0;
  // Chosen once per image: the per-pixel loop below must stay cheap (tests synthesise hundreds of images).
  const inPattern: (x: number, y: number) => boolean = {
    'horizontal-stripes': (_x: number, y: number) => band(y),
    'vertical-stripes': (x: number) => band(x),
    'diagonal-stripes': (x: number, y: number) => band((x + y) * Math.SQRT1_2),
    checks: (x: number, y: number) => band(x) !== band(y),
    rings: (x: number, y: number) => band(Math.sqrt((x - centre.x) ** 2 + (y - centre.y) ** 2)),
    blobs: (x: number, y: number) => blobs.some((b) => (x - b.x) ** 2 + (y - b.y) ** 2 < b.radius ** 2),
  }[look.pattern];

  const rgb = new Uint8Array(width * height * 3);
  let offset = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = inPattern(x, y) ? accent : base;
      const grain = (random() - 0.5) * 40;
      for (let c = 0; c < 3; c++) {
        const value = colour[c] + grain;
        rgb[offset++] = value < 0 ? 0 : value > 255 ? 255 : value + 0.5;
      }
    }
  }
  return { width, height, rgb };
}
