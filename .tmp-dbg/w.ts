import { learnWhiteningHead } from '../src-main/engine/head/whitening';
const C = 768;
const pooled = Array.from({ length: 50 }, () => ({ S: Float32Array.from({ length: C }, Math.random), M: Float32Array.from({ length: C }, Math.random), G: Float32Array.from({ length: C }, Math.random) }));
const t = Date.now();
learnWhiteningHead(pooled, { combo: 'SMG', dim: 128 });
console.log('learn', Date.now() - t, 'ms');
