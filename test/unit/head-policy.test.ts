import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CENTRE_MIN_PHOTOS,
  MID_RUN_WHITEN_PHOTOS,
  RELEARN_GROWTH,
  WHITEN_MIN_PHOTOS,
  nextUnsupervisedHead,
} from '../../src-main/engine/pipeline/head-policy';

const start = { kind: 'identity', trainedOn: 0 } as const;
const centred = { kind: 'identity', trainedOn: CENTRE_MIN_PHOTOS } as const;

test('mid-run: centre once, whiten once on a large first run, nothing else', () => {
  assert.equal(nextUnsupervisedHead(start, CENTRE_MIN_PHOTOS - 1, 'mid-run'), null);
  assert.equal(nextUnsupervisedHead(start, CENTRE_MIN_PHOTOS, 'mid-run'), 'identity');
  // no re-centring at every doubling, no whitening at 200 in the middle of a run
  assert.equal(nextUnsupervisedHead(centred, 4 * CENTRE_MIN_PHOTOS, 'mid-run'), null);
  assert.equal(nextUnsupervisedHead(centred, WHITEN_MIN_PHOTOS, 'mid-run'), null);
  assert.equal(nextUnsupervisedHead(centred, MID_RUN_WHITEN_PHOTOS, 'mid-run'), 'pca');
  assert.equal(nextUnsupervisedHead({ kind: 'pca', trainedOn: 2000 } as const, 10_000, 'mid-run'), null);
});

test('end of run: re-learn after enough growth; whitening from WHITEN_MIN_PHOTOS; trained heads stay', () => {
  assert.equal(nextUnsupervisedHead(centred, 100), 'identity');
  assert.equal(nextUnsupervisedHead(centred, WHITEN_MIN_PHOTOS), 'pca');
  const pca = { kind: 'pca', trainedOn: 300 } as const;
  assert.equal(nextUnsupervisedHead(pca, Math.ceil(300 * RELEARN_GROWTH) - 1), null);
  assert.equal(nextUnsupervisedHead(pca, Math.ceil(300 * RELEARN_GROWTH)), 'pca');
  assert.equal(nextUnsupervisedHead({ kind: 'trained', trainedOn: 300 } as const, 10_000), null);
  assert.equal(nextUnsupervisedHead(undefined, 10_000), null);
});
