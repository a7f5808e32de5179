/**
 * npm run build:model — builds (or verifies) the default ONNX backbone from the nsfwjs weights
 * into resources/models/, and the default backbone's int8 copy for the CPU (model-build/build-int8.ts).
 * Idempotent: a current, intact model is left as it is.
 *   npm run build:model -- [--backbone ID] [--all] [--no-int8]
 */
import { ensureModel } from '../src-main/engine/model/model-store';
import { BACKBONES, DEFAULT_BACKBONE } from '../src-main/engine/model/model-spec';
import { ensureInt8Model } from '../src-main/model-build/build-int8';

const args = process.argv.slice(2);
const ids = args.includes('--all')
  ? Object.keys(BACKBONES)
  : [
      args[args.indexOf('--backbone') + 1] && args.includes('--backbone')
        ? args[args.indexOf('--backbone') + 1]
        : DEFAULT_BACKBONE,
    ];

try {
  for (const id of ids) {
    const t = Date.now();
    const { manifest, modelPath, built } = ensureModel(id, undefined, (m) => console.log(m));
    console.log(
      `${built ? 'built' : 'up to date'}: ${modelPath} — ${manifest.name}, ${manifest.outputs.dim}-d pooled vectors, ` +
        `${(manifest.bytes / 1e6).toFixed(1)} MB, ${(manifest.flops / 1e9).toFixed(2)} GFLOP/image (${Date.now() - t} ms)`,
    );
    // The quantiser handles the default backbone's graph (Conv + ReLU); the others stay fp32.
    if (id !== DEFAULT_BACKBONE || args.includes('--no-int8')) continue;
    const t8 = Date.now();
    const q = await ensureInt8Model(id, undefined, (m) => console.log(m));
    console.log(
      `${q.built ? 'built' : 'up to date'}: int8 ${q.manifest.int8!.file} — ${(q.manifest.int8!.bytes / 1e6).toFixed(1)} MB (${Date.now() - t8} ms)`,
    );
  }
} catch (e) {
  console.error(`build:model failed: ${(e as Error).message}`);
  process.exit(1);
}
