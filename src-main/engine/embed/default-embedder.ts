/**
 * The default PhotoEmbedder: sharp/heic decoding + the CGD backbone built from nsfwjs.
 */
import { decodeImage } from '../decode/decode-image';
import { greyFingerprint } from '../decode/fingerprint';
import { ensureModel, defaultModelsDir } from '../model/model-store';
import { DEFAULT_BACKBONE } from '../model/model-spec';
import { BackboneThread } from './backbone-thread';
import type { DecodeRequest, DecodedPhoto, PhotoEmbedder } from './photo-embedder';

export const THUMBNAIL_SIZE = 320;

export interface EmbedderOptions {
  backbone?: string;
  modelsDir?: string;
  log?: (m: string) => void;
}

export async function createDefaultEmbedder(opts: EmbedderOptions = {}): Promise<PhotoEmbedder> {
  const log = opts.log ?? (() => {});
  const { manifest, modelPath } = ensureModel(
    opts.backbone ?? DEFAULT_BACKBONE,
    opts.modelsDir ?? defaultModelsDir(),
    log,
  );
  // inference runs in a worker thread: ORT's run() blocks the thread that calls it
  const backbone = new BackboneThread(manifest, modelPath, log);
  const provider = await backbone.warm();
  const input = { size: manifest.input.size, fit: manifest.input.fit };
  return {
    modelId: `${manifest.id}@${manifest.sha256.slice(0, 12)}`,
    channels: manifest.outputs.dim,
    provider,
    description: { name: manifest.name, tap: manifest.tap, inputSize: manifest.input.size },
    async decode(source: string | Buffer, req: DecodeRequest = {}): Promise<DecodedPhoto> {
      const d = await decodeImage(
        source,
        { input, region: req.region, thumbnailSize: req.thumbnail === false ? 0 : THUMBNAIL_SIZE },
        req.label,
      );
      return {
        tensor: d.pixels,
        width: d.width,
        height: d.height,
        thumbnail: d.thumbnail,
        takenAt: d.takenAt,
        fingerprint: greyFingerprint(d.pixels, input.size),
      };
    },
    embed: (tensors) => backbone.run(tensors),
    close: () => backbone.close(),
  };
}
