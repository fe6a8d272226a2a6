import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { corruptCheckpoint } from './checkpoint-error.ts';
import { type CheckpointFileSystem, nodeFileSystem } from './file-system.ts';
import { CHECKPOINT_FILES } from './layout.ts';

/**
 * A tf.io handler for a folder on disk: `model.json` (topology + weights manifest) and one
 * `weights.bin`. tfjs registers `file://` only in tfjs-node, which cannot be installed everywhere
 * (wasm/cpu machines), so checkpoints go through this handler on every backend:
 * `model.save(fileSystemHandler(dir))`, `tf.loadLayersModel(fileSystemHandler(dir))`.
 * The format is the one tfjs-node's `file://` writes, so either can read the other's folders.
 */
export function fileSystemHandler(
  dir: string,
  fileSystem: CheckpointFileSystem = nodeFileSystem,
): tf.io.IOHandler {
  return {
    async save(artifacts) {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('fileSystemHandler saves tf.LayersModel (JSON topology), not a binary GraphDef');
      }
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [CHECKPOINT_FILES.weights], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig && { trainingConfig: artifacts.trainingConfig }),
        ...(artifacts.signature && { signature: artifacts.signature }),
        ...(artifacts.userDefinedMetadata && { userDefinedMetadata: artifacts.userDefinedMetadata }),
      };
      await fileSystem.writeFile(path.join(dir, CHECKPOINT_FILES.weights), new Uint8Array(weightData));
      await fileSystem.writeFile(path.join(dir, CHECKPOINT_FILES.model), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load() {
      const modelJson = await readModelJson(dir);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const shard of group.paths) shards.push(await readShard(dir, shard));
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.CompositeArrayBuffer.join(shards)];
      });
    },
  };
}

/** Reads and minimally validates `model.json`; the rest is checked by tf.loadLayersModel. */
export async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const file = path.join(dir, CHECKPOINT_FILES.model);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'is not valid JSON';
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.model, why, error);
  }
  const json = parsed as Partial<tf.io.ModelJSON> | null;
  if (typeof json?.modelTopology !== 'object' || json.modelTopology === null) {
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.model, 'has no modelTopology');
  }
  if (!Array.isArray(json.weightsManifest) || !json.weightsManifest.every((g) => Array.isArray(g?.paths))) {
    throw corruptCheckpoint(dir, CHECKPOINT_FILES.model, 'has no valid weightsManifest');
  }
  return json as tf.io.ModelJSON;
}

async function readShard(dir: string, shard: string): Promise<ArrayBuffer> {
  const name = shard.replace(/^\.\//, '');
  // A manifest is data from disk: never let it point outside the checkpoint folder.
  if (name !== path.basename(name) || name === '..' || name === '.') {
    throw corruptCheckpoint(
      dir,
      CHECKPOINT_FILES.model,
      `lists a weights file outside the folder (${shard})`,
    );
  }
  try {
    const bytes = await readFile(path.join(dir, name));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    throw corruptCheckpoint(dir, name, 'cannot be read', error);
  }
}
