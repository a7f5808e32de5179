/**
 * Plain-words reports of failed writes to the library (database, index, thumbnails): what happened and what
 * to do, instead of a raw SQLITE_FULL stack. Nothing already committed is lost by any of these.
 */
import { NotReadyError } from '../errors';

export type WriteErrorCode = 'disk_full' | 'read_only' | 'corrupt' | 'write_failed';

/** A write the library could not make: nothing the request's arguments can fix ('not_ready'). */
export class LibraryWriteError extends NotReadyError {
  constructor(
    readonly kind: WriteErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** The SQLite or errno code of an error, if any (better-sqlite3 puts SQLITE_* in `code`). */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** True when a write failed because the disk (or its quota) is full. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof LibraryWriteError) return err.kind === 'disk_full';
  const code = errorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /database or disk is full|no space left/i.test(raw);
}

/** Classifies a failed write and words it for the user, naming the library folder. */
export function describeWriteError(err: unknown, dbDir: string): LibraryWriteError {
  if (err instanceof LibraryWriteError) return err;
  const code = errorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  const kept = 'Photos indexed so far are kept; the rest resume on the next run.';
  if (isDiskFull(err))
    return new LibraryWriteError(
      'disk_full',
      `The disk holding the library (${dbDir}) is full. Free some space there (or move the library elsewhere with --db or LIKENESS_DB), then index again. ${kept}`,
      err,
    );
  if (/^SQLITE_READONLY/.test(code) || code === 'EROFS' || code === 'EACCES' || code === 'EPERM')
    return new LibraryWriteError(
      'read_only',
      `The library (${dbDir}) cannot be written to (${code}): check its permissions and that its disk is not read-only, then index again. ${kept}`,
      err,
    );
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code))
    return new LibraryWriteError(
      'corrupt',
      `The library database in ${dbDir} is damaged (${raw}). Run "likeness recover --db ${dbDir}" to rebuild it from your folders; albums are kept where they can be read.`,
      err,
    );
  return new LibraryWriteError(
    'write_failed',
    `Writing to the library (${dbDir}) failed: ${raw}. ${kept}`,
    err,
  );
}
