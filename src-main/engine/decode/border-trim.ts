/**
 * Uniform borders: the white or black bands around a padded portrait, a letterboxed frame or a framed
 * print. They carry no content, yet the pooled descriptors average over them, so two photos of one scene
 * (one padded, one not) drift apart and a bordered copy stops looking like its original. Measured on
 * Holidays (portraits padded with white): trimming them lifts mAP by about 1 (docs/model.md).
 */

/** A band counts as border when every pixel is within this of the border colour (JPEG noise included). */
const TOLERANCE = 24;
/** Only near-white or near-black corners start a border: a blue sky or a wall is content. */
const DARK = 40;
const LIGHT = 215;
/** Trimming never leaves less than this share of a side: a white page or a night sky is the photo. */
const MIN_KEEP = 0.3;

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The part of an RGB(A) raw image inside its uniform white or black border (the whole image when it has
 * none). `channels` ≥ 3; only the first three are compared.
 */
export function contentRect(px: Uint8Array, width: number, height: number, channels: number): Rect {
  const whole = { left: 0, top: 0, width, height };
  const at = (x: number, y: number) => (y * width + x) * channels;
  const c0 = at(0, 0);
  const bg = [px[c0], px[c0 + 1], px[c0 + 2]];
  const light = bg.every((v) => v >= LIGHT);
  if (!light && !bg.every((v) => v <= DARK)) return whole;
  const isBorder = (x: number, y: number) => {
    const o = at(x, y);
    return (
      Math.abs(px[o] - bg[0]) <= TOLERANCE &&
      Math.abs(px[o + 1] - bg[1]) <= TOLERANCE &&
      Math.abs(px[o + 2] - bg[2]) <= TOLERANCE
    );
  };
  const rowIsBorder = (y: number, x0: number, x1: number) => {
    for (let x = x0; x < x1; x++) if (!isBorder(x, y)) return false;
    return true;
  };
  const colIsBorder = (x: number, y0: number, y1: number) => {
    for (let y = y0; y < y1; y++) if (!isBorder(x, y)) return false;
    return true;
  };
  let top = 0;
  let bottom = height;
  while (top < bottom && rowIsBorder(top, 0, width)) top++;
  while (bottom > top && rowIsBorder(bottom - 1, 0, width)) bottom--;
  let left = 0;
  let right = width;
  while (left < right && colIsBorder(left, top, bottom)) left++;
  while (right > left && colIsBorder(right - 1, top, bottom)) right--;
  const rect = { left, top, width: right - left, height: bottom - top };
  if (rect.width < MIN_KEEP * width || rect.height < MIN_KEEP * height) return whole;
  return rect;
}
