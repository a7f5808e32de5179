import { MAX_IDS_PER_CALL } from './api-client';

/** Calls `fn` on consecutive slices of `ids` no longer than one call takes, one after the other. */
export async function inBatches<T>(ids: number[], fn: (batch: number[]) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL)
    out.push(await fn(ids.slice(i, i + MAX_IDS_PER_CALL)));
  return out;
}
