import { sql as m001 } from './001-init';
import { sql as m002 } from './002-fingerprints';
import { sql as m003 } from './003-photo-counts';

/** Ordered schema migrations; entry i brings the schema from user_version i to i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [m001, m002, m003];
