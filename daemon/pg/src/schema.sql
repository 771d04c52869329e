-- The PostgreSQL layout of syncdb's databases: one set of tables for every
-- database of every folder a hub serves, each row keyed by its database's
-- id. Read it with any PostgreSQL client; write to it only through syncdb,
-- or the change feed and merge metadata go out of step. Text that syncdb
-- orders (collections, keys) is `COLLATE "C"`: byte order, as in the file
-- engines. Created by the first hub that connects, under an advisory lock.

CREATE SCHEMA IF NOT EXISTS syncdb;

-- The folders the hubs serve, made on first contact through any of them.
CREATE TABLE IF NOT EXISTS syncdb.folders (
    id         TEXT COLLATE "C" PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

-- One row per database: where it belongs and its counters. A write locks
-- its database's row first (`FOR UPDATE`), so writers to one database,
-- on any hub, commit one after another in the order of their seqs.
CREATE TABLE IF NOT EXISTS syncdb.databases (
    id       BIGSERIAL PRIMARY KEY,
    folder   TEXT COLLATE "C" NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    site     BYTEA NOT NULL,
    next_seq BIGINT NOT NULL,
    hlc      BIGINT NOT NULL,
    UNIQUE (folder, name)
);

-- Values kept beside the counters by name (indexes, history).
CREATE TABLE IF NOT EXISTS syncdb.meta (
    db    BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    name  TEXT NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (db, name)
);

-- One row per record, tombstones included: `doc` is the visible document
-- as JSON text (NULL once deleted), `state` the merge metadata without the
-- values `doc` holds, `seq` the record's place in the change feed.
CREATE TABLE IF NOT EXISTS syncdb.records (
    db         BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    collection TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    seq        BIGINT NOT NULL,
    doc        TEXT,
    state      BYTEA NOT NULL,
    PRIMARY KEY (db, collection, key)
);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON syncdb.records (db, seq);

-- Drop markers: scope is a collection name, or '' for the whole database.
CREATE TABLE IF NOT EXISTS syncdb.markers (
    db      BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    scope   TEXT COLLATE "C" NOT NULL,
    seq     BIGINT NOT NULL,
    version BYTEA NOT NULL,
    PRIMARY KEY (db, scope)
);
CREATE UNIQUE INDEX IF NOT EXISTS markers_by_seq ON syncdb.markers (db, seq);

-- Visible records per collection.
CREATE TABLE IF NOT EXISTS syncdb.collections (
    db      BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    name    TEXT COLLATE "C" NOT NULL,
    records BIGINT NOT NULL,
    PRIMARY KEY (db, name)
);

-- For each peer replica (site id), its seq this database has fully applied.
CREATE TABLE IF NOT EXISTS syncdb.checkpoints (
    db   BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    peer BYTEA NOT NULL,
    seq  BIGINT NOT NULL,
    PRIMARY KEY (db, peer)
);

-- Index entries (see `syncdb index`), in byte order.
CREATE TABLE IF NOT EXISTS syncdb.index_entries (
    db    BIGINT NOT NULL REFERENCES syncdb.databases ON DELETE CASCADE,
    entry BYTEA NOT NULL,
    PRIMARY KEY (db, entry)
);

-- The tokens that open the folders of every hub on this server: the
-- SHA-256 of each secret, never the secret. `folder` NULL: any folder.
CREATE TABLE IF NOT EXISTS syncdb.tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL,
    folder     TEXT,
    read_only  BOOLEAN NOT NULL,
    created_ms BIGINT NOT NULL
);

-- Which token owns which replica (folder, database, site id): the first
-- to claim it, until that token is revoked (its rows go with it).
CREATE TABLE IF NOT EXISTS syncdb.sites (
    folder TEXT COLLATE "C" NOT NULL,
    db     TEXT COLLATE "C" NOT NULL,
    site   TEXT NOT NULL,
    token  TEXT NOT NULL REFERENCES syncdb.tokens ON DELETE CASCADE,
    PRIMARY KEY (folder, db, site)
);
