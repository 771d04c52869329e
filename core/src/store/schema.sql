-- The SQLite layout of a syncdb database. Stable: documented in README.md.
-- Read it with any SQLite tool while the daemon runs (WAL mode); write to it
-- only through syncdb, or the change feed and merge metadata go out of step.

-- name: site (16-byte blob), next_seq, hlc (integers), format (integer).
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value ANY NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per record, tombstones included. `doc` is the visible document as
-- JSON text (NULL when the record is deleted); `state` is syncdb's merge
-- metadata, which leaves out the values `doc` holds (layout 2) and the
-- fields it names with the put's version (layout 3). `seq` is
-- the record's place in the change feed.
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    doc        TEXT,
    state      BLOB NOT NULL,
    PRIMARY KEY (collection, key)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records (seq);

-- Drop markers: scope is a collection name, or '' for the whole database.
-- version: 8-byte big-endian HLC then the 16-byte site id.
CREATE TABLE IF NOT EXISTS markers (
    scope   TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL UNIQUE,
    version BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- Visible records per collection.
CREATE TABLE IF NOT EXISTS collections (
    name    TEXT PRIMARY KEY,
    records INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- For each peer replica (site id), its seq this replica has fully applied.
CREATE TABLE IF NOT EXISTS checkpoints (
    peer BLOB PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Index entries (see `syncdb index`): index id, the indexed values in an
-- order-preserving encoding, then the record's key. Kept by syncdb in the
-- transaction that changes the record; the list of indexes is meta.indexes.
CREATE TABLE IF NOT EXISTS index_entries (
    entry BLOB PRIMARY KEY
) STRICT, WITHOUT ROWID;

-- The documents, as people usually want them.
CREATE VIEW IF NOT EXISTS documents AS
    SELECT collection, key, doc FROM records WHERE doc IS NOT NULL;
