/** The one mapping from the engine's error codes to the contract's (see engine/errors.ts). */
import { LikenessError, type LikenessErrorCode } from '../errors';
import { ApiError, type ApiErrorCode } from './contract';

const API_CODES: Record<LikenessErrorCode, ApiErrorCode> = {
  not_found: 'not_found',
  invalid_input: 'invalid_argument',
  not_ready: 'unavailable',
  busy: 'unavailable',
  needs_confirmation: 'confirmation_required',
};

/** A domain error as the ApiError the contract promises; anything else unchanged (it becomes 'internal'). */
export function toApiError(error: unknown): unknown {
  if (error instanceof LikenessError) return new ApiError(API_CODES[error.code], error.message);
  return error;
}

/** Every method of `api`, rejecting with `toApiError` of what it threw. */
export function withApiErrors<T extends object>(api: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(api)) {
    out[name] =
      typeof fn === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await (fn as (...a: unknown[]) => unknown)(...args);
            } catch (error) {
              throw toApiError(error);
            }
          }
        : fn;
  }
  return out as T;
}
