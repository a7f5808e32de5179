/**
 * Which backbone Likeness builds by default, and why. Chosen by measurement on INRIA Holidays
 * (see docs/model.md and `npm run bench:quality -- --ablation`), not by habit: only the frozen
 * ImageNet layers of the nsfwjs weights retrieve well (InceptionV3 up to mixed5, MobileNetV2 up
 * to block_10); their re-trained top layers score 30–38 mAP.
 */
import type { FitMode } from '../decode/decode-image';
import type { SourceModelName } from '../../model-build/nsfwjs-source';
import type { Preprocess } from '../../model-build/keras-to-onnx';

export interface BackboneSpec {
  source: SourceModelName;
  tap: string;
  /** the square input the photo is resized to (the graph itself accepts any size) */
  inputSize: number;
  fit: FitMode;
  preprocess: Preprocess;
  gemP: number;
}

/** Bump when the converter's output changes for the same spec: cached models are rebuilt. */
export const CONVERTER_VERSION = 1;

export const BACKBONES: Record<string, BackboneSpec> = {
  'inception_v3-mixed5': {
    source: 'inception_v3',
    tap: 'mixed5',
    // Above the network's native 299, chosen by the served benchmark (docs/model.md). The whole photo at
    // its own aspect (about 448² pixels, borders trimmed) serves more than a 448 centre crop, which drops
    // a quarter of every 4:3 photo, for the same compute. The graph does not depend on the input's shape;
    // the model id does (default-embedder.ts), so changing either re-embeds a library.
    inputSize: 448,
    fit: 'full',
    preprocess: { scale: 1 / 255, offset: 0 },
    gemP: 3,
  },
  'mobilenet_v2-block_12_add': {
    source: 'mobilenet_v2',
    tap: 'block_12_add',
    inputSize: 224,
    fit: 'squash',
    preprocess: { scale: 1 / 255, offset: 0 },
    gemP: 3,
  },
};

export const DEFAULT_BACKBONE = 'inception_v3-mixed5';
