/**
 * Native modules loaded on first use. Loading onnxruntime-node or sharp costs 0.1–0.5 s (their shared
 * libraries), and the commands that run no model and decode no image (`likeness status`, `duplicates`,
 * `similar` on a library photo) must not pay for them. Type-only imports of these modules stay free.
 */
import type * as Ort from 'onnxruntime-node';
import type SharpModule from 'sharp';

let ort: Promise<typeof Ort> | undefined;
let sharp: Promise<typeof SharpModule> | undefined;

export const loadOrt = (): Promise<typeof Ort> => (ort ??= import('onnxruntime-node'));
export const loadSharp = (): Promise<typeof SharpModule> =>
  (sharp ??= import('sharp').then((m) => m.default));
