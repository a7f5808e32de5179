/** Migration 1: the initial schema. SQLite is the truth; the HNSW file is derived from `embeddings`. */
export const sql = `
CREATE TABLE folders (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  added_at INTEGER NOT NULL
);

CREATE TABLE photos (
  id INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
  path TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  hash TEXT,
  width INTEGER,
  height INTEGER,
  taken_at INTEGER,
  status TEXT NOT NULL CHECK (status IN ('pending', 'indexed', 'failed', 'missing')),
  error TEXT,
  added_at INTEGER NOT NULL
);
CREATE INDEX photos_folder ON photos(folder_id);
CREATE INDEX photos_status ON photos(status);
CREATE INDEX photos_hash ON photos(hash);
CREATE INDEX photos_taken ON photos(taken_at);

-- Raw CGD pooled descriptors (float16), cached so a new head never needs the images again.
CREATE TABLE pooled (
  photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  s BLOB NOT NULL,
  m BLOB NOT NULL,
  g BLOB NOT NULL
);

CREATE TABLE heads (
  version INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  model_id TEXT NOT NULL,
  combo TEXT NOT NULL,
  kind TEXT NOT NULL,
  trained_on INTEGER NOT NULL DEFAULT 0,
  weights BLOB NOT NULL,
  metrics TEXT,
  active INTEGER NOT NULL DEFAULT 0
);

-- Final embeddings (float32, L2-normalised) per head version.
CREATE TABLE embeddings (
  photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
  head_version INTEGER NOT NULL REFERENCES heads(version) ON DELETE CASCADE,
  vector BLOB NOT NULL,
  PRIMARY KEY (photo_id, head_version)
) WITHOUT ROWID;
CREATE INDEX embeddings_head ON embeddings(head_version);

CREATE TABLE albums (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE album_photos (
  album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
  photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (album_id, photo_id)
) WITHOUT ROWID;

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')),
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  progress TEXT,
  error TEXT
);
`;
