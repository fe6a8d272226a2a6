import sharp from 'sharp';

/**
 * A valid, tiny grey PNG of an extreme geometry (issue 15: a 1,400,000×1 PNG is a few kB). Decoders
 * accept it; resizing its shorter side to 256 asks for a 358,400,000-pixel-wide image.
 */
export function extremePng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
}
