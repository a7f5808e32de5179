import assert from 'node:assert/strict';
import test from 'node:test';
import { withApiErrors } from '../../src-main/engine/api/api-errors';
import { ApiError } from '../../src-main/engine/api/contract';
import { DecodeError } from '../../src-main/engine/decode/decode-image';
import { BusyError, InvalidInputError, NotFoundError, NotReadyError } from '../../src-main/engine/errors';
import { FinetuneInputError } from '../../src-main/engine/finetune/trainer';
import { validateBox } from '../../src-main/engine/query/region';

const thrower = (error: unknown) => withApiErrors({ call: async () => Promise.reject(error) }).call();

test('each domain error reaches the API with its code and message', async () => {
  const cases: [unknown, string][] = [
    [new NotFoundError('No photo with id 7'), 'not_found'],
    [new InvalidInputError('An album needs a name'), 'invalid_argument'],
    [new DecodeError('x.jpg', 'the file is empty'), 'invalid_argument'],
    [new FinetuneInputError('too few albums'), 'invalid_argument'],
    [new NotReadyError('x.jpg is not indexed yet'), 'unavailable'],
    [new BusyError('Fine-tuning is running'), 'unavailable'],
  ];
  for (const [error, code] of cases) {
    await assert.rejects(thrower(error), (e: unknown) => {
      assert.ok(e instanceof ApiError, `${String(error)} → an ApiError`);
      assert.equal(e.code, code);
      assert.equal(e.message, (error as Error).message);
      return true;
    });
  }
});

test('a rule that throws in the engine maps by its class, whatever its words', async () => {
  // The message says "No photo with id", which the old regex mapping would have called not_found.
  await assert.rejects(
    thrower(new InvalidInputError('No photo with id 3 fits this region')),
    (e: unknown) => e instanceof ApiError && e.code === 'invalid_argument',
  );
  await assert.rejects(
    withApiErrors({ region: async () => validateBox({ x: 0.5, y: 0, w: 0.8, h: 0.2 }) }).region(),
    (e: unknown) =>
      e instanceof ApiError && e.code === 'invalid_argument' && /inside the image/.test(e.message),
  );
});

test('errors that are not the domain’s stay as they are (the transport calls them internal)', async () => {
  const plain = new Error('No photo with id 5');
  await assert.rejects(thrower(plain), (e: unknown) => e === plain);
  const api = new ApiError('unauthorized', 'no');
  await assert.rejects(thrower(api), (e: unknown) => e === api);
  assert.equal(ApiError.from(plain).code, 'internal');
});

test('results and non-function members pass through unchanged', async () => {
  const wrapped = withApiErrors({ n: 3, twice: async (x: number) => x * 2 });
  assert.equal(wrapped.n, 3);
  assert.equal(await wrapped.twice(21), 42);
});
