import { sql as m001 } from './001-init';

/** Ordered schema migrations; entry i brings the schema from user_version i to i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [m001];
