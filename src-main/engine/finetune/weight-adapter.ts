import { gaussian } from './rng';

/**
 * How the trainable W is parameterised: 'full' trains every entry; 'lowrank' trains W = W⁰ + U Vᵀ of rank
 * `rank`; 'diagonal' (square W only) trains a per-output scaling W = diag(d)·W⁰ — fewer parameters for
 * the few labelled photos to pin down. The network always sees the materialised W.
 */
export class WeightAdapter {
  private readonly w0: Float32Array;
  private readonly u?: Float32Array;
  private readonly v?: Float32Array;
  private readonly gu?: Float32Array;
  private readonly gv?: Float32Array;
  private readonly d?: Float32Array;
  private readonly gd?: Float32Array;

  constructor(
    private readonly w: Float32Array,
    private readonly gw: Float32Array,
    private readonly out: number,
    private readonly inn: number,
    private readonly kind: 'full' | 'lowrank' | 'diagonal',
    private readonly rank: number,
    rng: () => number,
  ) {
    this.w0 = Float32Array.from(w);
    if (kind === 'lowrank') {
      // U starts at zero (W = W⁰), V random so that U receives a gradient from the first step
      this.u = new Float32Array(out * rank);
      this.v = Float32Array.from({ length: inn * rank }, () => gaussian(rng) / Math.sqrt(inn));
      this.gu = new Float32Array(out * rank);
      this.gv = new Float32Array(inn * rank);
    } else if (kind === 'diagonal') {
      this.d = new Float32Array(out).fill(1);
      this.gd = new Float32Array(out);
    }
  }

  /** The tensors the optimiser updates, with the values that decay pulls them towards. */
  tensors(): { value: Float32Array; grad: Float32Array; anchor?: Float32Array }[] {
    if (this.kind === 'lowrank') {
      return [
        { value: this.u!, grad: this.gu!, anchor: new Float32Array(this.u!.length) },
        { value: this.v!, grad: this.gv!, anchor: Float32Array.from(this.v!) },
      ];
    }
    if (this.kind === 'diagonal')
      return [{ value: this.d!, grad: this.gd!, anchor: new Float32Array(this.out).fill(1) }];
    return [{ value: this.w, grad: this.gw, anchor: Float32Array.from(this.w) }];
  }

  /** Chain rule from ∂L/∂W to the adapter's own parameters. */
  pullGrads(): void {
    const { out, inn, rank, gw } = this;
    if (this.kind === 'lowrank') {
      const u = this.u!;
      const v = this.v!;
      const gu = this.gu!.fill(0);
      const gv = this.gv!.fill(0);
      for (let o = 0; o < out; o++) {
        for (let k = 0; k < inn; k++) {
          const g = gw[o * inn + k];
          if (g === 0) continue;
          for (let r = 0; r < rank; r++) {
            gu[o * rank + r] += g * v[k * rank + r];
            gv[k * rank + r] += g * u[o * rank + r];
          }
        }
      }
    } else if (this.kind === 'diagonal') {
      const gd = this.gd!.fill(0);
      for (let o = 0; o < out; o++) {
        let s = 0;
        for (let k = 0; k < inn; k++) s += gw[o * inn + k] * this.w0[o * inn + k];
        gd[o] = s;
      }
    }
  }

  /** Writes the current W for the next forward pass. */
  materialize(): void {
    const { out, inn, rank, w, w0 } = this;
    if (this.kind === 'lowrank') {
      const u = this.u!;
      const v = this.v!;
      for (let o = 0; o < out; o++) {
        for (let k = 0; k < inn; k++) {
          let s = w0[o * inn + k];
          for (let r = 0; r < rank; r++) s += u[o * rank + r] * v[k * rank + r];
          w[o * inn + k] = s;
        }
      }
    } else if (this.kind === 'diagonal') {
      const d = this.d!;
      for (let o = 0; o < out; o++) for (let k = 0; k < inn; k++) w[o * inn + k] = d[o] * w0[o * inn + k];
    }
  }
}
