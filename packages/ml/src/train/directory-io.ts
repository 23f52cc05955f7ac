/**
 * A tfjs IOHandler that saves a model to a directory and loads it back — `model.json` (topology
 * and weights manifest, the format `tf.loadLayersModel` reads) beside `weights.bin` — without
 * @tensorflow/tfjs-node, whose `file://` handler is the only one tfjs ships for Node.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ArgumentError } from '@tandem/core';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** Writes `data` to `path` through a temporary file, so a crash never leaves a torn file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const joined = Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
  return new Uint8Array(joined);
}

/**
 * An IOHandler for `model.save(...)` and `tf.loadLayersModel(...)` on a local directory.
 *
 * @example
 * ```ts
 * await model.save(directoryIO('./checkpoints/mlp'));
 * const again = await tf.loadLayersModel(directoryIO('./checkpoints/mlp'));
 * ```
 */
export function directoryIO(directory: string): tf.io.IOHandler {
  if (typeof directory !== 'string' || directory === '') throw new ArgumentError('directory', 'a directory path', directory);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (!artifacts.modelTopology || artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('directoryIO saves Layers models (JSON topology); got none or a binary topology');
      }
      await mkdir(directory, { recursive: true });
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeAtomic(join(directory, WEIGHTS_BIN), weightBytes(artifacts.weightData));
      await writeAtomic(join(directory, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = JSON.parse(await readFile(join(directory, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(directory, p)))));
        const bytes = Buffer.concat(buffers);
        return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
  };
}
