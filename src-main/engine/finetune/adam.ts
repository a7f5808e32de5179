/** Adam over flat Float32Array parameters, with optional decoupled decay towards an anchor (the initial head). */
export interface AdamParam {
  value: Float32Array;
  grad: Float32Array;
  /** when given with `decay`, each step pulls value towards it: value −= lr·decay·(value − anchor) */
  anchor?: Float32Array;
  decay?: number;
  /** step-size multiplier for this tensor (Adam's steps are absolute, so scale them to the tensor's size) */
  lrScale?: number;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    private readonly params: AdamParam[],
    opts: AdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.m = params.map((p) => new Float32Array(p.value.length));
    this.v = params.map((p) => new Float32Array(p.value.length));
  }

  step(lr: number): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 / (1 - Math.pow(b1, this.t));
    const c2 = 1 / (1 - Math.pow(b2, this.t));
    for (let i = 0; i < this.params.length; i++) {
      const { value, grad, anchor, decay } = this.params[i];
      const plr = lr * (this.params[i].lrScale ?? 1);
      const m = this.m[i];
      const v = this.v[i];
      const pull = anchor && decay ? lr * decay : 0;
      for (let k = 0; k < value.length; k++) {
        const g = grad[k];
        const mk = (m[k] = b1 * m[k] + (1 - b1) * g);
        const vk = (v[k] = b2 * v[k] + (1 - b2) * g * g);
        let x = value[k] - (plr * mk * c1) / (Math.sqrt(vk * c2) + this.eps);
        if (pull) x -= pull * (x - anchor![k]);
        value[k] = x;
      }
    }
  }
}
