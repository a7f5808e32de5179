/**
 * Migration 2: per-photo copy fingerprints (decode/fingerprint.ts), beside the pooled vectors. Photos
 * indexed before it get theirs lazily, the first time the duplicates view needs them.
 */
export const sql = `
CREATE TABLE fingerprints (
  photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
  grey BLOB NOT NULL
);
`;
