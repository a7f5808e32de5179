/**
 * The engine's errors: each carries a code saying what the caller can do about it. The API layer maps a
 * code to its wire code in one place (api/api-errors.ts); nothing matches on message text. Anything else
 * thrown is a fault of ours and reaches the caller as 'internal', message kept.
 */
export type LikenessErrorCode =
  /** the photo, folder, album or head named does not exist */
  | 'not_found'
  /** the request cannot work as given (a bad region, an empty album name, an undecodable image) */
  | 'invalid_input'
  /** the thing exists but cannot serve yet (a photo not indexed, indexing that failed) */
  | 'not_ready'
  /** another job holds what the request needs (fine-tuning while switching heads; another writer) */
  | 'busy'
  /** allowed only once the user confirms (the disk root, a huge folder): the call is repeated with `confirm` */
  | 'needs_confirmation';

export class LikenessError extends Error {
  constructor(
    readonly code: LikenessErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends LikenessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

export class InvalidInputError extends LikenessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_input', message, options);
  }
}

export class NotReadyError extends LikenessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_ready', message, options);
  }
}

export class BusyError extends LikenessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('busy', message, options);
  }
}

export class NeedsConfirmationError extends LikenessError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('needs_confirmation', message, options);
  }
}
