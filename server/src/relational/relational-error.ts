/** The relational store's error catalogue: each a one-line message a technician can act on. */
export type RelationalErrorCode =
  | 'INVALID_NAME'
  | 'SITE_EXISTS'
  | 'SITE_NOT_FOUND'
  | 'SITE_AMBIGUOUS'
  | 'DATABASE_UNREACHABLE'
  | 'UNSUPPORTED_DATABASE_URL'
  | 'MIGRATION_FAILED'
  | 'DATA_DIR_UNWRITABLE'
  | 'USER_EXISTS'
  | 'USER_NOT_FOUND'
  | 'INVALID_USER';

/** RelationalError is thrown for expected failures (bad names, unknown sites, no database). */
export class RelationalError extends Error {
  constructor(
    readonly code: RelationalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RelationalError';
  }
}
