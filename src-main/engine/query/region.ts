import { InvalidInputError } from '../errors';
import type { Box } from '../decode/box';

/** Checks a query region (fractions of the displayed image); throws a message saying what is wrong. */
export function validateBox(box: Box): Box {
  if (
    ![box.x, box.y, box.w, box.h].every(Number.isFinite) ||
    box.w <= 0 ||
    box.h <= 0 ||
    box.x < 0 ||
    box.y < 0
  ) {
    throw new InvalidInputError(
      `Invalid region ${JSON.stringify(box)}: need 0 ≤ x, y and w, h > 0 as fractions of the image`,
    );
  }
  if (box.x + box.w > 1.000001 || box.y + box.h > 1.000001) {
    throw new InvalidInputError(
      `Region ${JSON.stringify(box)} does not lie inside the image (x + w ≤ 1, y + h ≤ 1)`,
    );
  }
  return box;
}
