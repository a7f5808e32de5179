/**
 * Synthetic pooled vectors for the fine-tune tests: classes are clusters in a low-dimensional latent
 * space, mapped to non-negative "channel" activations and buried under strong class-independent
 * nuisance variation, so an unsupervised whitening head is imperfect and labels can improve it.
 */
import { gaussian, makeRng } from '../../src-main/engine/finetune/rng';
import type { Pooled } from '../../src-main/engine/head/head-types';

export function syntheticPooled(
  classes: number,
  perClass: number,
  channels = 32,
  seed = 7,
): { pooled: Pooled[]; labels: number[] } {
  const rng = makeRng(seed);
  const latent = 6;
  const nuisance = 6;
  const mix = Float32Array.from({ length: channels * (latent + nuisance) }, () => gaussian(rng));
  const centres = Array.from({ length: classes }, () =>
    Float32Array.from({ length: latent }, () => gaussian(rng)),
  );
  const pooled: Pooled[] = [];
  const labels: number[] = [];
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < perClass; j++) {
      const z = new Float32Array(latent + nuisance);
      for (let k = 0; k < latent; k++) z[k] = centres[c][k] + 0.6 * gaussian(rng);
      for (let k = latent; k < latent + nuisance; k++) z[k] = 2.5 * gaussian(rng);
      const make = (shift: number) => {
        const v = new Float32Array(channels);
        for (let ch = 0; ch < channels; ch++) {
          let s = shift;
          for (let k = 0; k < z.length; k++) s += mix[ch * z.length + k] * z[k];
          v[ch] = Math.max(0, s) + 0.05 * Math.abs(gaussian(rng));
        }
        return v;
      };
      pooled.push({ S: make(1), M: make(3), G: make(2) });
      labels.push(c);
    }
  }
  return { pooled, labels };
}
