/**
 * Errors are codes. Each part declares its codes in its own errors.ts with this shape;
 * `docs/errors.md` lists every code and a test checks the list is complete.
 */
export interface ErrorSpec {
  readonly message: string;
  /** HTTP status the API answers with when this error reaches it */
  readonly status: number;
}

export class DriftwatchError extends Error {
  readonly code: string;
  readonly status: number;
  readonly detail: unknown;
  /** the code's own message, without the detail: what may be shown where the detail may not */
  readonly brief: string;
  constructor(code: string, spec: ErrorSpec, detail?: unknown, cause?: unknown) {
    super(detail === undefined ? spec.message : `${spec.message}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`, cause === undefined ? undefined : { cause });
    this.name = 'DriftwatchError';
    this.code = code;
    this.status = spec.status;
    this.detail = detail;
    this.brief = spec.message;
  }
}

/** Builds a typed error factory from a table of codes. */
export function errorTable<const T extends Record<string, ErrorSpec>>(table: T) {
  return {
    codes: table,
    make(code: keyof T & string, detail?: unknown, cause?: unknown): DriftwatchError {
      return new DriftwatchError(code, table[code] as ErrorSpec, detail, cause);
    },
  };
}
