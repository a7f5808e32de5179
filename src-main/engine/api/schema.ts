/**
 * A tiny schema DSL: each schema both validates an unknown value at runtime and carries its static type,
 * so the API contract is written once and the TypeScript types are inferred from it (`Infer<typeof x>`).
 * Deliberately dependency-free and node-free: the renderer imports the contract (type-only) too.
 */

/** Thrown by `parse` with the path of the offending value, e.g. `k: must be an integer ≤ 1000 (got 5000)`. */
export class SchemaError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(path ? `${path}: ${problem}` : problem);
    this.name = 'SchemaError';
  }
}

export interface Schema<T> {
  /** Human description used in error messages ("an integer ≥ 1"). */
  readonly expected: string;
  /** Returns the validated value (objects are rebuilt with only the declared keys) or throws SchemaError. */
  parse(value: unknown, path?: string): T;
  /** Phantom field that carries the type; never present at runtime. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

const OPTIONAL = Symbol('optional');
interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly [OPTIONAL]: true;
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new SchemaError(path, `must be ${expected} (got ${show(value)})`);
}

function make<T>(expected: string, parse: (value: unknown, path: string) => T): Schema<T> {
  return { expected, parse: (value, path = '') => parse(value, path) };
}

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` in ${min}..${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

interface RangeOptions {
  min?: number;
  max?: number;
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
    [K in OptionalKeys<S>]?: Exclude<Infer<S[K]>, undefined>;
  }
>;

export const s = {
  /** A finite number (NaN and ±Infinity never pass: they cannot come from JSON anyway). */
  number(options: RangeOptions = {}): Schema<number> {
    const expected = `a number${rangeText(options.min, options.max)}`;
    return make(expected, (value, path) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, expected, value);
      if (options.min !== undefined && value < options.min) fail(path, expected, value);
      if (options.max !== undefined && value > options.max) fail(path, expected, value);
      return value;
    });
  },

  int(options: RangeOptions = {}): Schema<number> {
    const min = options.min ?? Number.MIN_SAFE_INTEGER;
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    const expected = `an integer${rangeText(options.min, options.max)}`;
    return make(expected, (value, path) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        fail(path, expected, value);
      }
      return value;
    });
  },

  string(
    options: { minLength?: number; maxLength?: number; pattern?: RegExp; label?: string } = {},
  ): Schema<string> {
    const { minLength = 0, maxLength = 4096 } = options;
    const expected =
      options.label ??
      (minLength > 0
        ? `a string of ${minLength}..${maxLength} characters`
        : `a string of at most ${maxLength} characters`);
    return make(expected, (value, path) => {
      if (typeof value !== 'string' || value.length < minLength || value.length > maxLength)
        fail(path, expected, value);
      if (options.pattern && !options.pattern.test(value)) fail(path, expected, value);
      return value;
    });
  },

  boolean(): Schema<boolean> {
    return make('a boolean', (value, path) => {
      if (typeof value !== 'boolean') fail(path, 'a boolean', value);
      return value;
    });
  },

  /** One of a fixed set of string literals. */
  enum<const T extends readonly string[]>(values: T): Schema<T[number]> {
    const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
    return make(expected, (value, path) => {
      if (typeof value !== 'string' || !values.includes(value)) fail(path, expected, value);
      return value as T[number];
    });
  },

  array<T>(item: Schema<T>, options: { minLength?: number; maxLength?: number } = {}): Schema<T[]> {
    const { minLength = 0, maxLength = 100_000 } = options;
    const expected = `an array of ${minLength > 0 ? `${minLength}..` : 'at most '}${maxLength} × ${item.expected}`;
    return make(expected, (value, path) => {
      if (!Array.isArray(value) || value.length < minLength || value.length > maxLength)
        fail(path, expected, value);
      return value.map((element, i) => item.parse(element, `${path}[${i}]`));
    });
  },

  /**
   * A plain object with exactly these keys: unknown keys are rejected (a typo such as `photoID` should be
   * an error, not silently ignored), and the result holds only declared keys (no prototype tricks).
   */
  object<S extends Shape>(shape: S, check?: (value: ObjectOf<S>) => string | undefined): Schema<ObjectOf<S>> {
    const keys = Object.keys(shape);
    const expected = keys.length ? `an object with keys ${keys.join(', ')}` : 'an empty object';
    return make(expected, (value, path) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!Object.hasOwn(shape, key)) {
          throw new SchemaError(
            join(path, key),
            `unknown key (expected ${keys.length ? keys.join(', ') : 'none'})`,
          );
        }
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const field = shape[key];
        const raw = Object.hasOwn(record, key) ? record[key] : undefined;
        if (raw === undefined && !(OPTIONAL in field))
          throw new SchemaError(join(path, key), `is required (${field.expected})`);
        const parsed = field.parse(raw, join(path, key));
        if (parsed !== undefined) out[key] = parsed;
      }
      const result = out as ObjectOf<S>;
      const problem = check?.(result);
      if (problem) throw new SchemaError(path, problem);
      return result;
    });
  },

  /** The key may be absent (or undefined; JSON null is not accepted as "absent" to keep one meaning). */
  optional<T>(inner: Schema<T>): OptionalSchema<T> {
    return {
      [OPTIONAL]: true,
      expected: `${inner.expected} (optional)`,
      parse: (value, path = '') => (value === undefined ? undefined : inner.parse(value, path)),
    };
  },

  nullable<T>(inner: Schema<T>): Schema<T | null> {
    return make(`${inner.expected} or null`, (value, path) =>
      value === null ? null : inner.parse(value, path),
    );
  },
};

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
