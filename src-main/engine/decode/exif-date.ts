/**
 * When a photo was taken, from its EXIF block: DateTimeOriginal, else CreateDate (DateTimeDigitized),
 * each with its own offset tag (OffsetTimeOriginal / OffsetTimeDigitized) when present, else read as
 * local time, as cameras without offset tags write it. IFD0's DateTime is the last *edit*, never used.
 * Callers fall back to the file's time (the store sorts and filters on COALESCE(taken_at, mtime)).
 */

const PAIRS = [
  ['DateTimeOriginal', 'OffsetTimeOriginal'],
  ['CreateDate', 'OffsetTimeDigitized'],
] as const;

/** exifr reads a TIFF structure; sharp's `metadata().exif` prefixes it with the APP1 "Exif\0\0" header. */
function tiffOf(exif: Buffer): Buffer {
  return exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
}

/** "YYYY:MM:DD HH:MM:SS" (+ optional "±HH:MM" or "Z") → epoch ms; local time when there is no offset. */
export function exifDateToMs(value: unknown, offset?: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  // "0000:00:00 00:00:00" and other placeholders cameras write when the clock was never set
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const off = typeof offset === 'string' ? /^([+-])(\d{2}):?(\d{2})$|^Z$/.exec(offset.trim()) : null;
  if (off) {
    const minutes = off[0] === 'Z' ? 0 : (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3]));
    return Date.UTC(y, mo - 1, d, h, mi, s) - minutes * 60_000;
  }
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isFinite(t) ? t : null;
}

/** The capture time in a raw EXIF block (as sharp returns it), or null when it holds none. */
export async function exifTakenAt(exif: Buffer | undefined): Promise<number | null> {
  if (!exif || exif.length < 8) return null;
  let tags: Record<string, unknown> | undefined;
  try {
    // raw strings (reviveValues: false): exifr's own revival would read them as local time, ignoring offsets
    // loaded on first use, like the decoder that calls this
    const { default: exifr } = await import('exifr');
    tags = (await exifr.parse(tiffOf(exif), { pick: PAIRS.flat(), reviveValues: false })) as
      Record<string, unknown> | undefined;
  } catch {
    return null; // a malformed EXIF block costs the date, never the photo
  }
  if (!tags) return null;
  for (const [date, offset] of PAIRS) {
    const t = exifDateToMs(tags[date], tags[offset]);
    if (t !== null) return t;
  }
  return null;
}
