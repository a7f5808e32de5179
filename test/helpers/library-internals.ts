/**
 * Tests only: a Library's collaborators, for faults no public method can cause (a page of the database
 * zeroed while open, a write that fails mid-run) and for checks of what is stored. Everything else goes
 * through the Library's own methods.
 */
import type { Library } from '../../src-main/engine/library';

export function internals(lib: Library) {
  // Bracket access is TypeScript's deliberate way past `private`; kept to this one place.
  return { store: lib['store'], index: lib['index'] };
}
