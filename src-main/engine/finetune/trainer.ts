/**
 * Fine-tunes the CGD head on the user's albums (each album a class), from cached raw pooled vectors.
 * Loss = batch-hard triplet on ψ + smoothed, tempered softmax cross-entropy on the first branch (the
 * paper's recipe); Adam; early stopping on held-out album photos. The result is adopted only if the
 * held-out Recall@1 improves significantly (paired sign test), so a run on meaningless labels does not
 * replace a working head. The input head is never modified.
 */
import { InvalidInputError } from '../errors';
import { headOutDim, type HeadWeights, type Pooled } from '../head/head-types';
import { l2NormalizeRows, projectRows } from '../head/project';
import { Adam, type AdamParam } from './adam';
import { ALBUM_INIT_DEFAULTS, albumInit } from './album-init';
import {
  type Architecture,
  type Combine,
  type HeadModel,
  HeadNet,
  composeOutputSpace,
  headFromModel,
  modelFromHead,
  outputSpaceModel,
  prepareInputs,
  projectInputs,
} from './head-model';
import { batchHardTriplet, smoothedCrossEntropy } from './losses';
import { rankingQuality, signTestP, signedRankP } from './recall';
import { gaussian, makeRng, shuffleInPlace } from './rng';
import { LibraryGuard, type GuardFigures } from './library-guard';
import { AlbumBatchSampler } from './sampler';
import { WeightAdapter } from './weight-adapter';

export interface FinetuneOptions {
  /** 'CGD' (default); 'A' and 'B' are the paper's ablations */
  arch: Architecture;
  /** branch combination; defaults to the initial head's */
  combine?: Combine;
  /** auxiliary classification loss on the first branch */
  classification: boolean;
  /** label smoothing ε (0 = off) */
  smoothing: number;
  /** softmax temperature τ (1 = off) */
  temperature: number;
  /** triplet margin */
  margin: number;
  /** weight of the classification loss relative to the ranking loss */
  classWeight: number;
  learningRate: number;
  /** learning rate of the classifier (it starts from scratch, the head does not) */
  classifierLearningRate: number;
  maxEpochs: number;
  /** stop after this many epochs without a better held-out R@1 */
  patience: number;
  /** P albums × m photos per batch */
  albumsPerBatch: number;
  photosPerAlbum: number;
  /**
   * 'output': learn W_i = M_i·W_i⁰ with a square M_i on the initial head's outputs (fast, few parameters);
   * 'input': learn the full W_i on the raw inputs
   */
  space: 'output' | 'input';
  /** parameterisation of each W: every entry, a low-rank update, or a per-output scaling */
  adapter: 'full' | 'lowrank' | 'diagonal';
  /** rank of the 'lowrank' adapter */
  rank: number;
  /** also learn the centering μ_i */
  learnMean: boolean;
  /** decoupled decay of W and μ towards the initial head (per unit learning rate) */
  decay: number;
  /** share of each album (≥ 4 photos) held out for early stopping and the adoption test */
  heldOutFraction: number;
  /** adoption needs the held-out gain to pass a one-sided sign test at this level */
  significance: number;
  seed: number;
  /** after choosing the epoch count on the held-out photos, retrain on all album photos for that many */
  refit: boolean;
  /** an "epoch" (one evaluation) is a pass over the training photos, but at least this many steps */
  minStepsPerEpoch: number;
  /**
   * start from the closed-form album whitening (album-init.ts: within-album whitening, album-discriminant
   * emphasis, self-training on the library) instead of the current head; CGD and A only
   */
  albumInit: boolean;
  /** album-init.ts AlbumInitOptions: α, p, β, k, t */
  initShrinkage: number;
  initPower: number;
  initEmphasis: number;
  pseudoK: number;
  pseudoThreshold: number;
  pseudoRounds: number;
  /** album-init.ts stretchCap: the most one discriminant direction is stretched (s_k); 0 = no cap */
  initStretchCap: number;
  /** the photos self-training put into albums also train the gradient steps (output space) */
  pseudoTrain: boolean;
  /**
   * adoption evidence: k-fold cross-validation over all album photos (every photo is judged once by a
   * head fitted without it); 0 or 1 = the single held-out split alone
   */
  folds: number;
  /** the cross-validated test: Wilcoxon signed-rank on the per-photo AP changes, or the sign test */
  cvTest: 'signedRank' | 'sign';
  /**
   * the least cross-validated mAP gain (0..1) that counts: per-photo AP changes need not be symmetric
   * around 0 when nothing was learnt (shuffled labels move AP a little, one way), so a test alone is not enough
   */
  minGainMAP: number;
  /** the library guard: neighbours per photo, photos sampled from the library, least mean overlap (0 = off) */
  guardK: number;
  guardSample: number;
  guardMinOverlap: number;
  /** the tempering asks the start for this much more overlap than the guard asks of the trained head */
  guardDrift: number;
}

export const FINETUNE_DEFAULTS: FinetuneOptions = {
  arch: 'CGD',
  classification: true,
  smoothing: 0.1,
  temperature: 0.5,
  margin: 0.1,
  classWeight: 1,
  learningRate: 1e-2,
  classifierLearningRate: 1e-2,
  maxEpochs: 40,
  patience: 8,
  albumsPerBatch: 16,
  photosPerAlbum: 4,
  space: 'output',
  adapter: 'full',
  rank: 16,
  learnMean: false,
  decay: 1,
  heldOutFraction: 0.25,
  significance: 0.01,
  seed: 1,
  minStepsPerEpoch: 10,
  refit: true,
  albumInit: true,
  initShrinkage: ALBUM_INIT_DEFAULTS.shrinkage,
  initPower: ALBUM_INIT_DEFAULTS.power,
  initEmphasis: ALBUM_INIT_DEFAULTS.emphasis,
  pseudoK: ALBUM_INIT_DEFAULTS.pseudoK,
  pseudoThreshold: ALBUM_INIT_DEFAULTS.pseudoThreshold,
  pseudoRounds: ALBUM_INIT_DEFAULTS.pseudoRounds,
  pseudoTrain: false,
  initStretchCap: 0,
  folds: 4,
  cvTest: 'signedRank',
  minGainMAP: 0.02,
  guardK: 10,
  guardSample: 800,
  guardMinOverlap: 0.58,
  guardDrift: 0.05,
};

export interface EpochReport {
  /** 0: the starting head, before any training (reported once, not in metrics.epochs) */
  epoch: number;
  /** mean training loss over the epoch (NaN at epoch 0) */
  loss: number;
  /** held-out Recall@1 (0..1) after the epoch */
  heldOutR1: number;
  /** held-out mean average precision (0..1): selects the epoch */
  heldOutMAP: number;
}

export interface TrainInput {
  pooled: readonly Pooled[];
  /** album of each photo */
  labels: readonly (string | number)[];
  initHead: HeadWeights;
  /**
   * unlabelled photos from the rest of the library (a sample, album photos excluded): the album
   * initialisation's library mean and self-training pool
   */
  library?: readonly Pooled[];
  options?: Partial<FinetuneOptions>;
  /** what to call each album in the verdict (by label), e.g. the album's name; the label otherwise */
  albumNames?: Record<string, string>;
}

export interface TrainResult {
  /** the trained head (best epoch), or a copy of the initial head where the architecture cannot be served */
  head: HeadWeights;
  /** the trained model in training form (serves every architecture; used by benchmarks) */
  model: HeadModel;
  metrics: {
    before: { r1: number; mAP: number };
    after: { r1: number; mAP: number };
    epochs: EpochReport[];
    bestEpoch: number;
    /** photos whose average precision the new head raises, and lowers (cross-validated when cv is set) */
    wins: number;
    losses: number;
    p: number;
    /** the cross-validated adoption evidence (options.folds ≥ 2) */
    cv?: CrossValidationFigures;
    /** the library guard's figures (when a library sample was given) */
    guard?: GuardFigures;
  };
  adopted: boolean;
  reason: string;
  albums: { label: string; train: number; heldOut: number }[];
  options: FinetuneOptions;
  trainMs: number;
}

export class FinetuneInputError extends InvalidInputError {}

export interface TrainCallbacks {
  onEpoch?: (e: EpochReport) => void;
  signal?: AbortSignal;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const e = new Error('Fine-tuning was cancelled; the current head is unchanged.');
    e.name = 'AbortError';
    throw e;
  }
}

interface Split {
  /** kept photo indices (into the input), their class, and which are held out */
  rows: number[];
  cls: Int32Array;
  train: number[];
  heldOut: number[];
  albums: { label: string; train: number; heldOut: number }[];
}

function splitAlbums(labels: readonly (string | number)[], frac: number, seed: number): Split {
  const groups = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const k = String(l);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  });
  const big = [...groups.values()].filter((g) => g.length >= 4).length;
  if (big < 2) {
    throw new FinetuneInputError(
      `Fine-tuning needs at least 2 albums with at least 4 photos each; got ${groups.size} album(s), ${big} with 4 or more photos.`,
    );
  }
  const rng = makeRng(seed ^ 0x5eed);
  const rows: number[] = [];
  const clsList: number[] = [];
  const train: number[] = [];
  const heldOut: number[] = [];
  const albums: Split['albums'] = [];
  let c = 0;
  for (const [label, g] of [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (g.length < 2) continue; // a single photo cannot form a positive pair
    const order = shuffleInPlace([...g], rng);
    const h = g.length >= 4 ? Math.max(1, Math.round(g.length * frac)) : 0;
    order.forEach((src, j) => {
      const r = rows.length;
      rows.push(src);
      clsList.push(c);
      (j < h ? heldOut : train).push(r);
    });
    albums.push({ label, train: g.length - h, heldOut: h });
    c++;
  }
  return { rows, cls: Int32Array.from(clsList), train, heldOut, albums };
}

interface HeldOutEval {
  r1: number;
  mAP: number;
  ap: Float64Array;
}

/** Held-out photos query all kept album photos (train + held-out, themselves excluded). */
function evaluate(emb: Float32Array, dim: number, split: Split, gallery: Int32Array): HeldOutEval {
  return rankingQuality(emb, dim, split.cls, split.heldOut, gallery);
}

function rms(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, a.length));
}

function cloneModel(m: HeadModel): HeadModel {
  return {
    ...m,
    branches: m.branches.map((b) => ({
      ...b,
      mean: Float32Array.from(b.mean),
      weight: Float32Array.from(b.weight),
    })),
  };
}

function copyModelWeights(from: HeadModel, to: HeadModel): void {
  from.branches.forEach((b, i) => {
    to.branches[i].weight.set(b.weight);
    to.branches[i].mean.set(b.mean);
  });
}

interface FitContext {
  o: FinetuneOptions;
  K: number;
  inputs: Float32Array[];
  cls: Int32Array;
  signal?: AbortSignal;
}

/** One training run: the network, its optimisers, the batch sampler and the step loop. */
class Fitter {
  readonly net: HeadNet;
  private readonly sampler: AlbumBatchSampler;
  private readonly adam: Adam;
  private readonly adapters: WeightAdapter[];
  private readonly clsAdam: Adam | null;
  private readonly rowCls: Int32Array;
  private readonly local: Int32Array;
  private readonly idx: Int32Array;
  private readonly bLabels: Int32Array;
  private readonly dPsi: Float32Array;
  private readonly dPhi: Float32Array[];
  private readonly dLogits: Float32Array;
  private readonly steps: number;
  private lastYield = performance.now();

  constructor(
    private readonly ctx: FitContext,
    private readonly model: HeadModel,
    private readonly rows: ArrayLike<number>,
    rng: () => number,
  ) {
    const { o, K } = ctx;
    this.rowCls = Int32Array.from(rows, (r) => ctx.cls[r]);
    this.sampler = new AlbumBatchSampler(this.rowCls, o.albumsPerBatch, o.photosPerAlbum, rng);
    const B = this.sampler.batchSize;
    const net = (this.net = new HeadNet(model, o.classification ? K : 0, Math.max(B, 256)));
    initClassifier(net, ctx.inputs, rows, ctx.cls, rng);
    const params: AdamParam[] = [];
    this.adapters = model.branches.map((b, i) => {
      const a = new WeightAdapter(b.weight, net.gW[i], b.outDim, b.inDim, o.adapter, o.rank, rng);
      // learning rates are relative: a whitening W has entries far from 1, and Adam's steps are absolute
      const scale = rms(b.weight);
      for (const t of a.tensors()) {
        const own = t.anchor ? rms(t.anchor) : 0;
        params.push({ ...t, decay: o.decay, lrScale: own > 0 ? own : scale });
      }
      if (o.learnMean) {
        params.push({
          value: b.mean,
          grad: net.gMu[i],
          anchor: Float32Array.from(b.mean),
          decay: o.decay,
          lrScale: rms(b.mean) || 1,
        });
      }
      return a;
    });
    this.adam = new Adam(params);
    this.clsAdam = o.classification
      ? new Adam([
          { value: net.classW, grad: net.gClassW },
          { value: net.classB, grad: net.gClassB },
        ])
      : null;
    this.local = new Int32Array(B);
    this.idx = new Int32Array(B);
    this.bLabels = new Int32Array(B);
    this.dPsi = new Float32Array(B * net.outDim);
    this.dPhi = model.branches.map((b) => new Float32Array(B * b.outDim));
    this.dLogits = new Float32Array(B * Math.max(1, K));
    this.steps = this.sampler.batchesPerEpoch(o.minStepsPerEpoch);
  }

  /** Trains one epoch (1-based, for the schedule); returns its mean loss. */
  async epoch(epoch: number): Promise<number> {
    const { o, K, inputs, signal } = this.ctx;
    const { net, model, idx, bLabels, dPsi, dPhi, dLogits } = this;
    // cosine decay to a tenth over maxEpochs: large steps first, then settle
    const f = 0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / o.maxEpochs));
    let lossSum = 0;
    for (let s = 0; s < this.steps; s++) {
      const rows = this.sampler.next(this.local);
      for (let r = 0; r < rows; r++) {
        idx[r] = this.rows[this.local[r]];
        bLabels[r] = this.rowCls[this.local[r]];
      }
      net.forward(inputs, idx, rows, o.classification);
      let loss = 0;
      if (o.arch === 'A') {
        for (let i = 0; i < net.nb; i++) {
          loss += batchHardTriplet(
            net.phi[i],
            rows,
            model.branches[i].outDim,
            bLabels,
            o.margin,
            dPhi[i],
          ).loss;
        }
      } else {
        loss += batchHardTriplet(net.psi, rows, net.outDim, bLabels, o.margin, dPsi).loss;
      }
      if (o.classification) {
        const ce = smoothedCrossEntropy(net.logits, rows, K, bLabels, o.temperature, o.smoothing, dLogits);
        loss += o.classWeight * ce;
        if (o.classWeight !== 1) for (let k = 0; k < rows * K; k++) dLogits[k] *= o.classWeight;
      }
      lossSum += loss;
      net.zeroGrads();
      net.backward(
        rows,
        {
          dPsi: o.arch === 'A' ? null : dPsi,
          dPhi: o.arch === 'A' ? dPhi : null,
          dLogits: o.classification ? dLogits : null,
        },
        o.learnMean,
      );
      for (const a of this.adapters) a.pullGrads();
      this.adam.step(o.learningRate * f);
      for (const a of this.adapters) a.materialize();
      this.clsAdam?.step(o.classifierLearningRate * f);
      if (performance.now() - this.lastYield > 30) {
        // let a cancel message reach us mid-epoch
        await tick();
        checkAbort(signal);
        this.lastYield = performance.now();
      }
    }
    return lossSum / this.steps;
  }
}

export async function trainHead(input: TrainInput & TrainCallbacks): Promise<TrainResult> {
  const { pooled, labels, initHead, onEpoch, signal } = input;
  const o: FinetuneOptions = { ...FINETUNE_DEFAULTS, ...input.options };
  if (pooled.length !== labels.length) {
    throw new FinetuneInputError(`${pooled.length} pooled vectors but ${labels.length} labels`);
  }
  checkAbort(signal);
  const t0 = performance.now();
  const split = splitAlbums(labels, o.heldOutFraction, o.seed);
  const K = split.albums.length;
  const keptPooled = split.rows.map((i) => pooled[i]);
  const n = keptPooled.length;
  const allRows = Int32Array.from({ length: n }, (_, i) => i);

  // Baseline: the initial head as it is served (CGD form, whatever architecture is being trained).
  const baseModel = modelFromHead(initHead, 'CGD');
  const baseEmb = projectRows(initHead, keptPooled);
  const baseDim = headOutDim(initHead);
  const before = evaluate(baseEmb, baseDim, split, allRows);
  // epoch 0: the current head's held-out figure, where the user's chart starts (no loss yet)
  onEpoch?.({ epoch: 0, loss: NaN, heldOutR1: before.r1, heldOutMAP: before.mAP });

  const base = modelFromHead(initHead, o.arch, o.combine);
  const baseInputs = prepareInputs(base, keptPooled);
  const useAlbumInit = o.albumInit && o.arch !== 'B';
  // the current head's outputs: the output space's inputs, and what the album initialisation fits on
  const outputs = o.space === 'output' || useAlbumInit ? projectInputs(base, baseInputs, n) : null;
  const inputs = o.space === 'output' ? outputs! : baseInputs;
  // The album initialisation sees the training photos only, so that the held-out ones judge it too.
  const starter = useAlbumInit ? albumStarter(base, outputs!, split, input.library, o) : null;
  const albumStart = starter?.fit ?? null;
  // the guard for the photos nobody labelled: their neighbour lists under the current head, on a sample
  const guard =
    o.guardMinOverlap > 0 && o.arch !== 'B' && (input.library?.length ?? 0) > o.guardK
      ? new LibraryGuard(baseModel, input.library!, o.guardK, o.guardSample, o.guardMinOverlap)
      : null;
  const inputForm = (m: HeadModel) => (o.space === 'output' ? composeOutputSpace(base, m) : m);
  let emphasis = o.initEmphasis;
  // the fit on all album photos is needed twice (tempering, refit): kept for the last β asked
  let allFit: { emphasis: number; s: StartFit } | null = null;
  const startFrom = (rows: ArrayLike<number>): StartFit => {
    if (!albumStart)
      return { model: o.space === 'output' ? outputSpaceModel(base) : base, pseudoLabelled: 0, pseudo: [] };
    if (rows !== allRows) return albumStart(rows, emphasis);
    if (allFit?.emphasis !== emphasis) allFit = { emphasis, s: albumStart(rows, emphasis) };
    return allFit.s;
  };
  // The stretch β, adapted to this library: the largest of β, ⅞β, ¾β, … 0 whose start (fitted on all
  // album photos, with the library photos self-training found at full β) keeps enough of the library's
  // neighbours (o.guardMinOverlap + o.guardDrift: the gradient steps move a little further). The stretch
  // is what costs photos nobody labelled.
  const tempered: { emphasis: number; overlap: number }[] = [];
  if (albumStart && guard && o.initEmphasis > 0) {
    const full = startFrom(allRows);
    for (const f of [1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0]) {
      const e = f * o.initEmphasis;
      const overlap = guard.overlap(inputForm(full.withEmphasis!(e)));
      tempered.push({ emphasis: e, overlap });
      emphasis = e;
      if (overlap >= o.guardMinOverlap + o.guardDrift) break;
      await tick();
      checkAbort(signal);
    }
  }
  const ctx: FitContext = { o, K, inputs, cls: split.cls, signal };
  // self-training's photos train the gradient steps too (output space): the library's rows follow the albums'
  const pool = o.pseudoTrain && o.space === 'output' ? starter?.pool : undefined;
  const poolRows = pool ? pool[0].length / base.branches[0].outDim : 0;
  const extInputs = pool
    ? inputs.map((a, i) => {
        const out = new Float32Array(a.length + pool[i].length);
        out.set(a);
        out.set(pool[i], a.length);
        return out;
      })
    : inputs;
  const trainingSet = (
    rows: ArrayLike<number>,
    s: StartFit,
  ): { ctx: FitContext; rows: ArrayLike<number> } => {
    if (!pool || !s.pseudo.length) return { ctx, rows };
    const cls = new Int32Array(n + poolRows).fill(-1);
    cls.set(split.cls);
    const all = Array.from(rows);
    for (const q of s.pseudo) {
      cls[n + q.index] = q.album;
      all.push(n + q.index);
    }
    return { ctx: { ...ctx, inputs: extInputs, cls }, rows: all };
  };
  const startFit = startFrom(split.train);
  const start = startFit.model;
  const model = cloneModel(start);
  const best = cloneModel(start);
  const first = trainingSet(split.train, startFit);
  const fitter = new Fitter(first.ctx, model, first.rows, makeRng(o.seed));
  const net = fitter.net;
  const evalHeldOut = () => evaluate(net.embedAll(inputs, n), net.outDim, split, allRows);

  const epochs: EpochReport[] = [];
  // epoch 0 is the starting point: the current head, or the album initialisation
  let bestEval = albumStart ? evalHeldOut() : before;
  let bestEpoch = 0;
  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    const loss = await fitter.epoch(epoch);
    const ev = evalHeldOut();
    const report: EpochReport = { epoch, loss, heldOutR1: ev.r1, heldOutMAP: ev.mAP };
    epochs.push(report);
    onEpoch?.(report);
    if (ev.mAP > bestEval.mAP) {
      bestEval = ev;
      bestEpoch = epoch;
      copyModelWeights(model, best);
    } else if (epoch - bestEpoch >= o.patience) {
      break;
    }
    await tick();
    checkAbort(signal);
  }
  const hasCandidate = bestEpoch > 0 || albumStart !== null;
  let pseudoLabelled = 0;
  if (o.refit && hasCandidate) {
    // the held-out photos chose the epoch count; now every album photo trains, on the same schedule
    // refitted at the tempered β from scratch: self-training at a smaller β labels fewer library photos,
    // and those it does not label are the ones a wrong label would have cost (seed 3: 590 instead of 712
    // photos, never-labelled classes −0.7 instead of −1.9)
    const s = albumStart ? startFrom(allRows) : { model: start, pseudoLabelled: 0, pseudo: [] };
    pseudoLabelled = s.pseudoLabelled;
    const again = cloneModel(s.model);
    const set = trainingSet(allRows, s);
    const refitter = new Fitter(set.ctx, again, set.rows, makeRng(o.seed));
    for (let epoch = 1; epoch <= bestEpoch; epoch++) {
      await refitter.epoch(epoch);
      await tick();
      checkAbort(signal);
    }
    copyModelWeights(again, best);
  }
  const trained = inputForm(best);

  // Adoption evidence. Cross-validated (o.folds ≥ 2): every album photo is judged once, by the same
  // procedure (album initialisation, then the chosen number of epochs) fitted on the other folds, against
  // the current head's ranking of that photo; otherwise the single held-out split.
  let cv: CrossValidation | null = null;
  if (hasCandidate && o.folds >= 2) {
    cv = await crossValidate(
      ctx,
      split,
      baseEmb,
      baseDim,
      Math.min(o.folds, maxFolds(split)),
      bestEpoch,
      (rows) => {
        const s = startFrom(rows);
        return { model: s.model, ...trainingSet(rows, s) };
      },
    );
  }
  const guardFigures =
    guard && hasCandidate && o.arch !== 'B'
      ? guard.figures(trained, albumStart ? emphasis : undefined)
      : undefined;

  let wins = 0;
  let losses = 0;
  for (let q = 0; q < bestEval.ap.length; q++) {
    const d = bestEval.ap[q] - before.ap[q];
    if (d > 1e-9) wins++;
    else if (d < -1e-9) losses++;
  }
  let p = signTestP(wins, losses);
  if (cv) ({ wins, losses, p } = cv);
  const verdict = decide({
    o,
    split,
    before,
    bestEval,
    bestEpoch,
    cv,
    guard: guardFigures,
    tempered,
    wins,
    losses,
    p,
    noCandidate: bestEval === before,
    names: input.albumNames ?? {},
    detail: albumStart
      ? `best epoch ${bestEpoch} of training from the album initialisation, ${pseudoLabelled} library photos self-labelled${tempered.length > 1 ? `, stretch β tempered to ${emphasis}` : ''}`
      : `best epoch ${bestEpoch}`,
  });
  checkAbort(signal);
  return {
    head: headFromModel(trained) ?? headFromModel(modelFromHead(initHead, 'CGD'))!,
    model: trained,
    metrics: {
      before: { r1: before.r1, mAP: before.mAP },
      after: { r1: bestEval.r1, mAP: bestEval.mAP },
      epochs,
      bestEpoch,
      wins,
      losses,
      p,
      ...(cv ? { cv: cv.figures } : {}),
      ...(guardFigures ? { guard: guardFigures } : {}),
    },
    adopted: verdict.adopted,
    reason: verdict.reason,
    albums: split.albums,
    options: o,
    trainMs: performance.now() - t0,
  };
}

export interface CrossValidationFigures {
  folds: number;
  /** album photos judged (each once) */
  photos: number;
  before: { r1: number; mAP: number };
  after: { r1: number; mAP: number };
  /** per album: photos whose ranking the candidate procedure improves, and worsens */
  albums: { label: string; wins: number; losses: number }[];
}

interface CrossValidation {
  figures: CrossValidationFigures;
  wins: number;
  losses: number;
  p: number;
}

/** The most folds that still leave every album of ≥ 4 photos at least 2 training photos per fold. */
function maxFolds(split: Split): number {
  const sizes = split.albums.map((a) => a.train + a.heldOut).filter((s) => s >= 4);
  return Math.max(2, Math.min(...sizes) - 1);
}

/**
 * k-fold cross-validation over all kept album photos, stratified by album: fold f's photos are ranked
 * (against every album photo) by the procedure fitted without them, and compared photo by photo with the
 * current head's ranking. The epoch count is the one the held-out split chose, fixed for every fold.
 */
async function crossValidate(
  ctx: FitContext,
  split: Split,
  baseEmb: Float32Array,
  baseDim: number,
  k: number,
  epochs: number,
  prepare: (rows: number[]) => { model: HeadModel; ctx: FitContext; rows: ArrayLike<number> },
): Promise<CrossValidation> {
  const { o, inputs, signal } = ctx;
  const n = split.rows.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const fold = new Int32Array(n);
  const rng = makeRng(o.seed ^ 0xcf01d);
  const byAlbum = new Map<number, number[]>();
  for (let r = 0; r < n; r++)
    (byAlbum.get(split.cls[r]) ?? byAlbum.set(split.cls[r], []).get(split.cls[r])!).push(r);
  let offset = 0;
  for (const rows of byAlbum.values()) {
    shuffleInPlace(rows, rng).forEach((r, j) => (fold[r] = (offset + j) % k));
    offset += rows.length;
  }
  const beforeAll = rankingQuality(baseEmb, baseDim, split.cls, all, all);
  const apAfter = new Float64Array(n);
  let hits = 0;
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let r = 0; r < n; r++) (fold[r] === f ? test : train).push(r);
    if (!test.length) continue;
    const set = prepare(train);
    const m = cloneModel(set.model);
    let net: HeadNet;
    if (epochs > 0) {
      const fitter = new Fitter(set.ctx, m, set.rows, makeRng(o.seed + 1 + f));
      for (let e = 1; e <= epochs; e++) {
        await fitter.epoch(e);
        await tick();
        checkAbort(signal);
      }
      net = fitter.net;
    } else net = new HeadNet(m, 0, 256);
    const ev = rankingQuality(net.embedAll(inputs, n), net.outDim, split.cls, test, all);
    test.forEach((r, i) => (apAfter[r] = ev.ap[i]));
    hits += Math.round(ev.r1 * test.length);
    await tick();
    checkAbort(signal);
  }
  let wins = 0;
  let losses = 0;
  const albums = split.albums.map((a) => ({ label: a.label, wins: 0, losses: 0 }));
  let mapAfter = 0;
  const diffs = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    mapAfter += apAfter[r] / n;
    const d = (diffs[r] = apAfter[r] - beforeAll.ap[r]);
    if (d > 1e-9) {
      wins++;
      albums[split.cls[r]].wins++;
    } else if (d < -1e-9) {
      losses++;
      albums[split.cls[r]].losses++;
    }
  }
  return {
    figures: {
      folds: k,
      photos: n,
      before: { r1: beforeAll.r1, mAP: beforeAll.mAP },
      after: { r1: hits / n, mAP: mapAfter },
      albums,
    },
    wins,
    losses,
    p: o.cvTest === 'sign' ? signTestP(wins, losses) : signedRankP(diffs),
  };
}

interface DecisionInput {
  o: FinetuneOptions;
  split: Split;
  before: HeldOutEval;
  bestEval: HeldOutEval;
  bestEpoch: number;
  cv: CrossValidation | null;
  guard: GuardFigures | undefined;
  tempered: { emphasis: number; overlap: number }[];
  wins: number;
  losses: number;
  p: number;
  noCandidate: boolean;
  detail: string;
  names: Record<string, string>;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The adoption rule, and its reason in plain words (with what would help when it refuses). */
function decide(d: DecisionInput): { adopted: boolean; reason: string } {
  const { o, split, before, bestEval, cv, guard, wins, losses, p } = d;
  const K = split.albums.length;
  const guardText = guard
    ? `; the rest of the library keeps ${pct(guard.overlap)} of its photos' ${guard.k} nearest neighbours (at least ${pct(guard.minOverlap)} required)`
    : '';
  if (o.arch === 'B') {
    return {
      adopted: false,
      reason: `Not adopted: architecture B is an ablation that the stored head format cannot serve (held-out Recall@1 ${pct(before.r1)} → ${pct(bestEval.r1)}).`,
    };
  }
  if (cv) {
    const c = cv.figures;
    const figures = `tested on all ${c.photos} album photos in turn (${c.folds}-fold cross-validation), Recall@1 ${pct(c.before.r1)} → ${pct(c.after.r1)}, mAP ${pct(c.before.mAP)} → ${pct(c.after.mAP)}`;
    if (guard && !guard.passed) {
      return {
        adopted: false,
        reason: `Not adopted: it would change how the rest of your library is searched too much — photos outside the albums keep only ${pct(guard.overlap)} of their ${guard.k} nearest neighbours (at least ${pct(guard.minOverlap)} is required), even with the album stretch turned down; ${figures}. What would help: albums that differ from each other in what the photos show rather than in how they were taken, or use this version anyway if you mostly search within these albums.`,
      };
    }
    if (c.after.mAP - c.before.mAP < o.minGainMAP) {
      const worse = c.albums.filter((a) => a.losses > a.wins).map((a) => `“${d.names[a.label] ?? a.label}”`);
      return {
        adopted: false,
        reason: `Not adopted: the ranking of album photos did not improve${c.after.mAP > c.before.mAP ? ` by the ${(100 * o.minGainMAP).toFixed(0)} points of mAP that count as a gain` : ''} (${figures})${worse.length ? `; photos of ${worse.length === 1 ? 'album' : 'albums'} ${worse.join(', ')} ranked worse more often than better` : ''}. What would help: check that each album holds one kind of subject, and add photos that show it in different settings.`,
      };
    }
    if (p > o.significance) {
      const perAlbum = Math.ceil((split.rows.length / K) * 1.5);
      return {
        adopted: false,
        reason: `Not adopted: ${figures}, but the ranking improved for ${wins} photos and worsened for ${losses}, which is not a reliable gain (${o.cvTest === 'sign' ? 'sign' : 'signed-rank'} test p = ${p.toFixed(3)} > ${o.significance}). What would help: more photos per album (about ${perAlbum}) or one more album.`,
      };
    }
    return {
      adopted: true,
      reason: `Adopted: ${figures} (ranking better for ${wins} photos, worse for ${losses}, p = ${p.toFixed(3)})${guardText}; ${d.detail}.`,
    };
  }
  // the single held-out split (o.folds < 2)
  const r1Text = `held-out Recall@1 ${pct(before.r1)} → ${pct(bestEval.r1)}`;
  // Held-out R@1 at 100% cannot improve: then the ranking (mAP: where the rest of each album comes) must.
  const ceiling = before.r1 >= 1 - 1e-9;
  const mapText = `mAP ${pct(before.mAP)} → ${pct(bestEval.mAP)}`;
  // the fewest held-out photos that could show a reliable gain at all (every one better, sign test)
  let needed = 1;
  while (signTestP(needed, 0) > o.significance) needed++;
  const help =
    split.heldOut.length < needed
      ? `only ${split.heldOut.length} photos are held out to judge it, and even ${needed} all ranked better would be needed to tell a gain from chance: add photos to each album (about ${Math.ceil(needed / (o.heldOutFraction * K))} per album) or label one more album`
      : 'label more photos per album';
  if (d.noCandidate)
    return {
      adopted: false,
      reason: `Not adopted: no epoch improved on the current head (held-out Recall@1 ${pct(before.r1)}, mAP ${pct(before.mAP)} on ${split.heldOut.length} held-out photos); ${help}.`,
    };
  if (guard && !guard.passed)
    return {
      adopted: false,
      reason: `Not adopted: it would change how the rest of your library is searched too much — photos outside the albums keep only ${pct(guard.overlap)} of their ${guard.k} nearest neighbours (at least ${pct(guard.minOverlap)} is required); ${r1Text}.`,
    };
  if (ceiling ? bestEval.mAP <= before.mAP : bestEval.r1 <= before.r1)
    return {
      adopted: false,
      reason: ceiling
        ? `Not adopted: held-out Recall@1 is already 100%, and the ranking did not improve (${mapText}).`
        : `Not adopted: ${r1Text} did not improve.`,
    };
  if (p > o.significance)
    return {
      adopted: false,
      reason: `Not adopted: ${ceiling ? `held-out Recall@1 already 100%, ${mapText}` : r1Text}, but ranking improved for ${wins} held-out photos and worsened for ${losses}, which is not a reliable gain (sign test p = ${p.toFixed(3)} > ${o.significance}); ${help}.`,
    };
  return {
    adopted: true,
    reason: `Adopted: ${r1Text}, ${mapText} (ranking better for ${wins} held-out photos, worse for ${losses}, p = ${p.toFixed(3)})${guardText}; ${d.detail}.`,
  };
}

/**
 * The training model's starting point from album-init.ts, fitted on the given album rows: its per-branch
 * matrices M become the square output-space weights, or are composed into W for input-space training.
 */
function albumStarter(
  base: HeadModel,
  outputs: Float32Array[],
  split: Split,
  library: readonly Pooled[] | undefined,
  o: FinetuneOptions,
): {
  fit: (rows: ArrayLike<number>, emphasis: number) => StartFit;
  pool: Float32Array[] | undefined;
} {
  const dims = base.branches.map((b) => b.outDim);
  // the library sample through the current head, once for every fit
  const pool = library?.length
    ? projectInputs(base, prepareInputs(base, library), library.length)
    : undefined;
  const fit = (rows: ArrayLike<number>, emphasis: number): StartFit => {
    const { M, pseudo, withEmphasis } = albumInit(
      { y: outputs, dims, cls: split.cls, labelled: rows, library: pool },
      {
        shrinkage: o.initShrinkage,
        power: o.initPower,
        emphasis,
        pseudoK: o.pseudoK,
        pseudoThreshold: o.pseudoThreshold,
        pseudoRounds: o.pseudoRounds,
        ...(o.initStretchCap > 0 ? { stretchCap: o.initStretchCap } : {}),
      },
    );
    const toModel = (Ms: Float64Array[]): HeadModel => {
      const square: HeadModel = {
        ...base,
        branches: base.branches.map((b, i) => ({
          inDim: b.outDim,
          outDim: b.outDim,
          mean: new Float32Array(b.outDim),
          weight: Float32Array.from(Ms[i]),
        })),
      };
      return o.space === 'output' ? square : composeOutputSpace(base, square);
    };
    return {
      model: toModel(M),
      pseudoLabelled: pseudo.length,
      pseudo,
      withEmphasis: (e) => toModel(withEmphasis(e)),
    };
  };
  return { fit, pool };
}

interface StartFit {
  model: HeadModel;
  pseudoLabelled: number;
  /** library photos (index into the library pool) that self-training put into an album */
  pseudo: { index: number; album: number }[];
  /** the same fit with another stretch β (album init only) */
  withEmphasis?: (emphasis: number) => HeadModel;
}

/**
 * Classifier init by imprinting: each class weight is the mean first-branch descriptor of its training
 * photos (normalised), so the classification loss starts informative instead of random.
 */
function initClassifier(
  net: HeadNet,
  inputs: Float32Array[],
  rows: ArrayLike<number>,
  cls: Int32Array,
  rng: () => number,
): void {
  const K = net.numClasses;
  if (K === 0) return;
  const d = net.classDim;
  const idx = new Int32Array(net.maxBatch);
  for (let s = 0; s < rows.length; s += net.maxBatch) {
    const m = Math.min(net.maxBatch, rows.length - s);
    for (let r = 0; r < m; r++) idx[r] = rows[s + r];
    net.forward(inputs, idx, m, false);
    for (let r = 0; r < m; r++) {
      const c = cls[rows[s + r]];
      for (let k = 0; k < d; k++) net.classW[c * d + k] += net.phi[0][r * d + k];
    }
  }
  l2NormalizeRows(net.classW, K, d);
  for (let c = 0; c < K; c++) {
    for (let k = 0; k < d; k++) net.classW[c * d + k] += 1e-3 * gaussian(rng);
  }
}
