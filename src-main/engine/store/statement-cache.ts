import type Database from 'better-sqlite3';

/** Texts built from a variable list (IN (?, ?, …)) are few in practice; a bound keeps it so anyway. */
const MAX_STATEMENTS = 256;

/**
 * Prepared statements, prepared once per database and reused: preparing costs more than running most
 * of the engine's queries (commitIndexed ran three prepares per photo). Same call shape as db.prepare.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  prepare(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      if (this.statements.size >= MAX_STATEMENTS) this.statements.clear();
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    } else if (stmt.reader) {
      stmt.pluck(false); // a caller that wants plucked rows asks each time
    }
    return stmt;
  }

  get size(): number {
    return this.statements.size;
  }

  clear(): void {
    this.statements.clear();
  }
}
