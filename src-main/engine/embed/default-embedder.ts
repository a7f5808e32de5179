/**
 * The default PhotoEmbedder: sharp/heic decoding + the CGD backbone built from nsfwjs.
 *
 * Creating it reads only the model's manifest: the model is checked and loaded into ONNX Runtime (in a
 * worker thread) on the first `load()` or `embed()`, so that commands needing no inference (`likeness
 * status`, `duplicates`, `similar` on a library photo) never pay for it.
 */
import { decodeImage } from '../decode/decode-image';
import { greyFingerprint } from '../decode/fingerprint';
import { defaultModelsDir, int8ModelPath, loadInstalledModel } from '../model/model-store';
import { BATCH_SIZE } from '../runtime/execution-provider';
import { DEFAULT_BACKBONE } from '../model/model-spec';
import { BackboneThread } from './backbone-thread';
import type { DecodedPhoto } from '../decode/decode-image';
import type { DecodeRequest, PhotoEmbedder } from './photo-embedder';

export const THUMBNAIL_SIZE = 320;

export interface EmbedderOptions {
  backbone?: string;
  modelsDir?: string;
  /** a variant file listed in the model's manifest (default: its main file) */
  modelFile?: string;
  /** input size override (the graph accepts any size); benchmarks compare sizes with it */
  inputSize?: number;
  log?: (m: string) => void;
}

export async function createDefaultEmbedder(opts: EmbedderOptions = {}): Promise<PhotoEmbedder> {
  const log = opts.log ?? (() => {});
  const { manifest, modelPath, modelId } = loadInstalledModel(
    opts.backbone ?? DEFAULT_BACKBONE,
    opts.modelsDir ?? defaultModelsDir(),
    opts.modelFile,
  );
  // inference runs in a worker thread: ORT's run() blocks the thread that calls it
  const backbone = new BackboneThread(
    manifest,
    modelPath,
    log,
    undefined,
    int8ModelPath(manifest, modelPath),
  );
  const input = { size: opts.inputSize ?? manifest.input.size, fit: manifest.input.fit };
  // The graph accepts any size, so its bytes do not change with the input; the pooled vectors do, so
  // the input's size and fit are part of the model's identity (stored vectors of another are re-made).
  return {
    modelId: `${modelId}/${input.size}-${input.fit}`,
    channels: manifest.outputs.dim,
    get provider() {
      return backbone.provider;
    },
    get accelerator() {
      const r = backbone.runtime;
      return r ? { ...r, adapter: null, batchSize: BATCH_SIZE[r.provider] } : undefined;
    },
    description: { name: manifest.name, tap: manifest.tap, inputSize: input.size },
    load: async () => (await backbone.warm()).provider,
    async decode(source: string | Buffer, req: DecodeRequest = {}): Promise<DecodedPhoto> {
      const d = await decodeImage(
        source,
        { input, region: req.region, thumbnailSize: req.thumbnail === false ? 0 : THUMBNAIL_SIZE },
        req.label,
      );
      return { ...d, fingerprint: greyFingerprint(d.tensor) };
    },
    embed: (tensors) => backbone.run(tensors),
    close: () => backbone.close(),
  };
}
