/**
 * bench:embed — photos/s of the model path on this machine, on generated 12-megapixel JPEGs:
 * decode alone, backbone alone (batch 1 and 8), and both overlapped, plus the backbone's
 * achieved GFLOP/s against its FLOP count. Prints a table; --json FILE saves the figures.
 * On the CPU it also times the fp32 and int8 backbones against each other (batches interleaved, so
 * that a busy machine slows both alike) and ends with `backbone fp32=A int8=B photos/s`.
 *   npm run bench:embed -- [--photos N] [--provider cpu|webgpu|cuda|dml|coreml] [--json FILE]
 */
import fs from 'node:fs';
import { saveBenchJson } from './lib/save-json';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, type ModelInput } from '../src-main/engine/decode/decode-image';
import { Backbone } from '../src-main/engine/embed/backbone';
import { ensureModel, int8ModelPath } from '../src-main/engine/model/model-store';
import { DEFAULT_BACKBONE } from '../src-main/engine/model/model-spec';
import {
  intraOpThreads,
  preferredProviders,
  type ProviderName,
} from '../src-main/engine/runtime/execution-provider';
import { flagString, parseFlags, table } from './lib/cli-args';

const flags = parseFlags(process.argv.slice(2));
const count = Number(flagString(flags, 'photos', '24'));
const jsonOut = flagString(flags, 'json');
const forced = flagString(flags, 'provider') as ProviderName | undefined;

/** A photo-like 4000×3000 JPEG: smooth gradients plus texture, so it compresses like a photo. */
async function makePhoto(file: string, seed: number): Promise<void> {
  const w = 4000;
  const h = 3000;
  const small = Buffer.alloc(200 * 150 * 3);
  for (let y = 0; y < 150; y++)
    for (let x = 0; x < 200; x++) {
      const i = (y * 200 + x) * 3;
      small[i] = (x * 1.2 + seed * 37) % 256;
      small[i + 1] = (y * 1.6 + seed * 91) % 256;
      small[i + 2] = ((x + y) * 0.8 + ((x * y + seed) % 23) * 4) % 256;
    }
  await sharp(small, { raw: { width: 200, height: 150, channels: 3 } })
    .resize(w, h, { kernel: 'cubic' })
    .blur(1.2)
    .jpeg({ quality: 90 })
    .toFile(file);
}

async function timeIt<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, value };
}

async function main(): Promise<void> {
  const { manifest, modelPath } = ensureModel(DEFAULT_BACKBONE);
  const input = { size: manifest.input.size, fit: manifest.input.fit };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'likeness-bench-embed-'));
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `photo-${i}.jpg`));
  process.stderr.write(`generating ${count} 12-MP JPEGs in ${dir} …\n`);
  for (let i = 0; i < files.length; i++) await makePhoto(files[i], i);

  const providers = preferredProviders(undefined, undefined, forced);
  const int8Path = int8ModelPath(manifest, modelPath);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const backbone = new Backbone(manifest, modelPath, log, providers, int8Path);
  const { provider, precision, skipped } = await backbone.warm();
  const cores = os.availableParallelism();

  // Decode alone: as many in flight as libuv's pool has threads (sharp decodes there).
  const inflight = Math.max(2, cores);
  const decodeAll = async () => {
    const out: ModelInput[] = new Array(files.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < files.length) {
          const i = next++;
          out[i] = (await decodeImage(files[i], { input })).tensor;
        }
      }),
    );
    return out;
  };
  await decodeImage(files[0], { input }); // warm-up
  const dec = await timeIt(decodeAll);
  const tensors = dec.value;

  const rate = (s: number) => files.length / s;
  const backboneAlone = async (batch: number) => {
    await backbone.run(tensors.slice(0, batch)); // warm-up at this batch size
    return timeIt(async () => {
      for (let i = 0; i < tensors.length; i += batch) await backbone.run(tensors.slice(i, i + batch));
    });
  };
  const b1 = await backboneAlone(1);
  const b8 = await backboneAlone(8);

  // Both overlapped: decode batch k+1 while the backbone runs batch k (what the indexer does).
  const batch = 8;
  const both = await timeIt(async () => {
    const decodeBatch = (start: number) =>
      Promise.all(
        files.slice(start, start + batch).map((f) => decodeImage(f, { input }).then((d) => d.tensor)),
      );
    let pending = decodeBatch(0);
    for (let i = 0; i < files.length; i += batch) {
      const ready = await pending;
      if (i + batch < files.length) pending = decodeBatch(i + batch);
      await backbone.run(ready);
    }
  });
  await backbone.close();

  // fp32 against int8 on the CPU, batch 8, alternating batches.
  let precisionRates: { fp32: number; int8: number } | null = null;
  if (provider === 'cpu' && int8Path) {
    const fp32 = new Backbone(manifest, modelPath, log, ['cpu'], null);
    const int8 = new Backbone(manifest, modelPath, log, ['cpu'], int8Path);
    const seconds = { fp32: 0, int8: 0 };
    for (const b of [fp32, int8]) await b.run(tensors.slice(0, batch)); // warm-up
    for (let i = 0; i < tensors.length; i += batch)
      for (const [name, b] of [
        ['fp32', fp32],
        ['int8', int8],
      ] as const)
        seconds[name] += (await timeIt(() => b.run(tensors.slice(i, i + batch)))).seconds;
    await Promise.all([fp32.close(), int8.close()]);
    precisionRates = { fp32: rate(seconds.fp32), int8: rate(seconds.int8) };
  }
  fs.rmSync(dir, { recursive: true, force: true });

  const decodeRate = rate(dec.seconds);
  const shape = `${tensors[0].width}×${tensors[0].height}`;
  const backboneRate = rate(b8.seconds);
  const bothRate = rate(both.seconds);
  const slower = Math.min(decodeRate, backboneRate);
  const gflops = manifest.flops / 1e9;
  const achieved = gflops * backboneRate;
  const predicted = (100 * intraOpThreads()) / gflops; // ~100 GFLOP/s per core (ARCHITECTURE.md)
  const result = {
    model: manifest.id,
    provider,
    precision,
    skipped,
    cores,
    photos: files.length,
    photoSize: '4000x3000 JPEG',
    inputSize: manifest.input.size,
    inputShape: shape,
    decodePhotosPerSec: decodeRate,
    backboneBatch1PhotosPerSec: rate(b1.seconds),
    backboneBatch8PhotosPerSec: backboneRate,
    endToEndPhotosPerSec: bothRate,
    endToEndOverSlowerPart: bothRate / slower,
    backboneGflopPerImage: gflops,
    backboneAchievedGflops: achieved,
    backbonePredictedPhotosPerSec: predicted,
    backboneWithin2xOfPrediction: backboneRate * 2 >= predicted,
    ...(precisionRates && {
      backboneFp32PhotosPerSec: precisionRates.fp32,
      backboneInt8PhotosPerSec: precisionRates.int8,
      int8Speedup: precisionRates.int8 / precisionRates.fp32,
    }),
    loadAverage: os.loadavg(),
  };
  console.log(
    table([
      { stage: 'decode (12 MP → model input)', 'photos/s': decodeRate },
      { stage: 'backbone, batch 1', 'photos/s': rate(b1.seconds) },
      { stage: 'backbone, batch 8', 'photos/s': backboneRate },
      { stage: 'decode + backbone, overlapped', 'photos/s': bothRate },
    ]),
  );
  console.log(
    `provider=${provider} cores=${cores}  backbone ${gflops.toFixed(2)} GFLOP/image → ${achieved.toFixed(0)} GFLOP/s achieved; ` +
      `prediction at 100 GFLOP/s/core: ${predicted.toFixed(1)} photos/s`,
  );
  console.log(`end-to-end / slower part = ${(bothRate / slower).toFixed(2)}`);
  for (const s of skipped) console.log(`skipped ${s.provider}: ${s.reason}`);
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cores} cores`,
  );
  saveBenchJson('embed', result, jsonOut);
  if (precisionRates)
    console.log(
      `backbone fp32=${precisionRates.fp32.toFixed(2)} int8=${precisionRates.int8.toFixed(2)} photos/s (int8 ${(precisionRates.int8 / precisionRates.fp32).toFixed(2)}×, ${shape} px ≈ ${manifest.input.size}², batch ${batch}, ${intraOpThreads()} threads)`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
