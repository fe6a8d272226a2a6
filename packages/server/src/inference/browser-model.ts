/**
 * The ONNX model the server runs, offered to the web UI for classification on the user's device. Its
 * URL holds the file's sha256, so a URL always means the same bytes: browsers may cache it for good
 * (`immutable`), and a new export gets a new URL.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export const BROWSER_MODEL_ROUTE = '/api/model/onnx';

/** What `/api/model` says about it (`browserModel`). */
export interface BrowserModelInfo {
  /** `/api/model/onnx/SHA256.onnx`. */
  url: string;
  precision: 'float32' | 'int8';
  bytes: number;
  sha256: string;
}

/** The model file and its description; the path stays in the server. */
export interface BrowserModel {
  file: string;
  info: BrowserModelInfo;
}

/**
 * Undefined when the file is not there: the engine, loading the same file, then says what to do (export
 * the checkpoint), in the words every engine error uses.
 */
export async function describeBrowserModel(
  file: string,
  precision: 'float32' | 'int8',
): Promise<BrowserModel | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const sha256 = hash.digest('hex');
  const { size } = await stat(file);
  return { file, info: { url: `${BROWSER_MODEL_ROUTE}/${sha256}.onnx`, precision, bytes: size, sha256 } };
}
