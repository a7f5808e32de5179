/**
 * Region queries judged by Holidays' ground truth: for every query photo, a box around its subject is
 * searched with `searchByRegion` (as the UI's region tool does), and the photo's ground-truth positives
 * are the right answers. The source photo itself is left out of the ranking: a region search is asked
 * for the *other* photos of the subject (the photo it was drawn on is already on screen).
 *
 * The box: the central 70% × 70% of the photo (49% of its area). Holidays' photos are framed on their
 * subject (a building, a scene, an object), so the centre is where the subject is, and the crop drops
 * the edges a person drawing a box drops; it is the same box for every photo, so nothing is tuned per
 * photo or on the answers.
 */
import type { Box } from '../../src-main/engine/decode/box';
import { holidaysScores, type HolidaysScores } from './metrics';
import type { ServedLibrary } from './served-library';

export const REGION_BOX: Box = { x: 0.15, y: 0.15, w: 0.7, h: 0.7 };

export async function regionScores(
  lib: ServedLibrary,
  queries: { query: number; positives: number[] }[],
  box: Box = REGION_BOX,
): Promise<HolidaysScores & { queries: number; sourceFirst: number }> {
  const lists = [];
  let sourceFirst = 0;
  for (const q of queries) {
    const positives = q.positives.filter((i) => lib.idOf.has(i));
    if (!lib.idOf.has(q.query) || !positives.length) continue;
    const ranked = await lib.region(q.query, box);
    if (ranked[0] === q.query) sourceFirst++;
    lists.push({ ranked: ranked.filter((i) => i !== q.query), positives });
  }
  return { queries: lists.length, sourceFirst: (100 * sourceFirst) / lists.length, ...holidaysScores(lists) };
}
