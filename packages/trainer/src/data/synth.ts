import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '@food/core/errors';
import seedrandom from 'seedrandom';
// The one place outside core/preprocess/image.ts that imports sharp: synth must ENCODE JPEGs, which the
// image module (decode + preprocess only) has no reason to offer.
import sharp from 'sharp';
import { readableName } from './food101-meta.ts';
import { mapConcurrent } from './map-concurrent.ts';
import { classLook, type Random, renderFood101SizedImage, renderSynthImage } from './synth-image.ts';
import { SYNTHETIC_MARKER, writeSyntheticMarker } from './synthetic-marker.ts';

/** The official Food-101 classes in meta/classes.txt order; synth names its classes after the first N. */
// biome-ignore format: one long list reads better packed
export const FOOD101_CLASSES: readonly string[] = [
  'apple_pie', 'baby_back_ribs', 'baklava', 'beef_carpaccio', 'beef_tartare', 'beet_salad', 'beignets',
  'bibimbap', 'bread_pudding', 'breakfast_burrito', 'bruschetta', 'caesar_salad', 'cannoli', 'caprese_salad',
  'carrot_cake', 'ceviche', 'cheesecake', 'cheese_plate', 'chicken_curry', 'chicken_quesadilla',
  'chicken_wings', 'chocolate_cake', 'chocolate_mousse', 'churros', 'clam_chowder', 'club_sandwich',
  'crab_cakes', 'creme_brulee', 'croque_madame', 'cup_cakes', 'deviled_eggs', 'donuts', 'dumplings', 'edamame',
  'eggs_benedict', 'escargots', 'falafel', 'filet_mignon', 'fish_and_chips', 'foie_gras', 'french_fries',
  'french_onion_soup', 'french_toast', 'fried_calamari', 'fried_rice', 'frozen_yogurt', 'garlic_bread',
  'gnocchi', 'greek_salad', 'grilled_cheese_sandwich', 'grilled_salmon', 'guacamole', 'gyoza', 'hamburger',
  'hot_and_sour_soup', 'hot_dog', 'huevos_rancheros', 'hummus', 'ice_cream', 'lasagna', 'lobster_bisque',
  'lobster_roll_sandwich', 'macaroni_and_cheese', 'macarons', 'miso_soup', 'mussels', 'nachos', 'omelette',
  'onion_rings', 'oysters', 'pad_thai', 'paella', 'pancakes', 'panna_cotta', 'peking_duck', 'pho', 'pizza',
  'pork_chop', 'poutine', 'prime_rib', 'pulled_pork_sandwich', 'ramen', 'ravioli', 'red_velvet_cake',
  'risotto', 'samosa', 'sashimi', 'scallops', 'seaweed_salad', 'shrimp_and_grits', 'spaghetti_bolognese',
  'spaghetti_carbonara', 'spring_rolls', 'steak', 'strawberry_shortcake', 'sushi', 'tacos', 'takoyaki',
  'tiramisu', 'tuna_tartare', 'waffles',
];

/** Food-101 names for up to 101 classes, else `class_000`, `class_001`, ... */
export function synthClassNames(count: number): string[] {
  if (count <= FOOD101_CLASSES.length) return FOOD101_CLASSES.slice(0, count);
  const width = Math.max(2, String(count - 1).length);
  return Array.from({ length: count }, (_, i) => `class_${String(i).padStart(width, '0')}`);
}

export interface SynthOptions {
  outDir: string;
  classes: number;
  imagesPerClass: number;
  seed: number;
  concurrency?: number;
  /**
   * Photos at Food-101's size and compression instead of small test images: the longer side this many
   * pixels (512 in the official set) and a JPEG quality drawn per image from `quality` (inclusive).
   */
  photos?: { longerSide: number; quality: [number, number] };
  /** After each photo written, with the count so far and the total (101,000 photos take minutes). */
  onProgress?: (written: number, total: number) => void;
}

export interface SynthResult {
  classes: string[];
  train: number;
  test: number;
}

/** The official split is 750:250 per class. */
const TEST_SHARE = 0.25;

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** `{"a": ["a/1", "a/2"], "b": [...]}`, spaced like the official (Python json.dump) files. */
function formatSplitJson(classes: readonly string[], lists: ReadonlyMap<string, string[]>): string {
  const items = classes.map(
    (name) =>
      `${JSON.stringify(name)}: [${lists
        .get(name)!
        .map((l) => JSON.stringify(l))
        .join(', ')}]`,
  );
  return `{${items.join(', ')}}`;
}

/**
 * `trainer synth`: a synthetic data set in the exact official Food-101 layout (images/<class>/<id>.jpg,
 * meta/{classes,labels,train,test}.txt and .json), 75:25 train:test per class, byte-identical per seed.
 */
export async function synthesizeDataset(options: SynthOptions): Promise<SynthResult> {
  const { outDir, imagesPerClass, seed } = options;
  await checkSynthOptions(options);
  const classes = synthClassNames(options.classes);
  // alea: seeded and several times faster than the default ARC4 stream for per-pixel noise.
  const random = seedrandom.alea(`synth:${seed}`);
  const usedIds = new Set<string>();
  const trainLists = new Map<string, string[]>();
  const testLists = new Map<string, string[]>();
  const jobs: Array<{ file: string; render: () => EncodableImage }> = [];

  classes.forEach((className, classIndex) => {
    const ids: string[] = [];
    while (ids.length < imagesPerClass) {
      // Food-101 ids are 4–7 digit numbers, so list order (code unit) differs from numeric order.
      const id = String(1000 + Math.floor(random() * 3_999_000));
      if (!usedIds.has(id)) {
        usedIds.add(id);
        ids.push(id);
      }
    }
    const testCount = Math.max(1, Math.round(imagesPerClass * TEST_SHARE));
    trainLists.set(
      className,
      ids
        .slice(testCount)
        .sort(byCodeUnit)
        .map((id) => `${className}/${id}`),
    );
    testLists.set(
      className,
      ids
        .slice(0, testCount)
        .sort(byCodeUnit)
        .map((id) => `${className}/${id}`),
    );
    // Each image draws its own sub-seed now, so pixels do not depend on the order images are encoded in.
    for (const id of ids) {
      const imageSeed = random.int32();
      jobs.push({
        file: path.join(outDir, 'images', className, `${id}.jpg`),
        render: () => renderJob(classIndex, seedrandom.alea(`synth-image:${imageSeed}`), options.photos),
      });
    }
  });

  await mkdir(path.join(outDir, 'meta'), { recursive: true });
  for (const className of classes) await mkdir(path.join(outDir, 'images', className), { recursive: true });
  let written = 0;
  await mapConcurrent(jobs, options.concurrency ?? 4, async ({ file, render }) => {
    const { width, height, rgb, quality } = render();
    const jpeg = await sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg({ quality, chromaSubsampling: '4:2:0' })
      .toBuffer();
    await writeFile(file, jpeg);
    options.onProgress?.(++written, jobs.length);
  });

  await writeMeta(outDir, classes, trainLists, testLists);
  await writeSyntheticMarker(outDir, { seed, classes: options.classes, imagesPerClass });
  const count = (lists: Map<string, string[]>) =>
    [...lists.values()].reduce((sum, list) => sum + list.length, 0);
  return { classes, train: count(trainLists), test: count(testLists) };
}

type EncodableImage = ReturnType<typeof renderSynthImage> & { quality: number };

function renderJob(classIndex: number, random: Random, photos: SynthOptions['photos']): EncodableImage {
  if (!photos) return { ...renderSynthImage(classLook(classIndex), random), quality: 90 };
  const image = renderFood101SizedImage(classLook(classIndex), random, photos.longerSide);
  const [low, high] = photos.quality;
  return { ...image, quality: low + Math.floor(random() * (high - low + 1)) };
}

async function checkSynthOptions({ outDir, classes, imagesPerClass }: SynthOptions): Promise<void> {
  if (!Number.isInteger(classes) || classes < 1) throw new UserError('--classes must be at least 1');
  if (!Number.isInteger(imagesPerClass) || imagesPerClass < 4) {
    throw new UserError('--images-per-class must be at least 4 (3 train, 1 test)');
  }
  for (const existing of ['images', 'meta', SYNTHETIC_MARKER]) {
    if (await stat(path.join(outDir, existing)).catch(() => undefined)) {
      throw new UserError(
        `${path.join(outDir, existing)} already exists; choose an empty --out folder or delete it`,
      );
    }
  }
}

/** meta/: the class list, readable labels and both splits, as .txt and .json like the official set. */
async function writeMeta(
  outDir: string,
  classes: readonly string[],
  trainLists: Map<string, string[]>,
  testLists: Map<string, string[]>,
): Promise<void> {
  const lines = (values: Iterable<string>) => `${[...values].join('\n')}\n`;
  const meta: Record<string, string> = {
    'classes.txt': lines(classes),
    'labels.txt': lines(classes.map(readableName)),
    'train.txt': lines(classes.flatMap((name) => trainLists.get(name)!)),
    'test.txt': lines(classes.flatMap((name) => testLists.get(name)!)),
    'train.json': formatSplitJson(classes, trainLists),
    'test.json': formatSplitJson(classes, testLists),
  };
  for (const [name, text] of Object.entries(meta)) await writeFile(path.join(outDir, 'meta', name), text);
}
