/**
 * The duplicates view's numbers, chosen by `npm run bench:duplicates` (docs/duplicates.md); shared by the
 * engine, the CLI and the UI. The copy threshold is on the copy score (aligned pixel correlation of the
 * photos' fingerprints, decode/fingerprint.ts), near-duplicates are linked on the similarity embedding.
 */
export const DEFAULT_COPY_THRESHOLD = 0.975;
/** the slider's range: below its minimum, other shots of a scene outnumber the copies found */
export const COPY_THRESHOLD_RANGE = { min: 0.8, max: 1 } as const;
/** head cosine at or above which two photos are near-duplicates (bursts, bracketed exposures) */
export const NEAR_DUPLICATE_COSINE = 0.7;
