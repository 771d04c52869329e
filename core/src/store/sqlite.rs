//! The SQLite engine, for people who want to read their data with any SQLite
//! tool. The layout is `schema.sql`; the visible document is kept as JSON text
//! in `records.doc`, so `json_extract(doc, '$.name')` works while the daemon
//! runs. WAL mode with `synchronous=FULL`: a commit is durable on return, even
//! across power loss (NORMAL would only survive a process crash).

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::codec::{decode_state_beside, decode_version, encode_state_beside, encode_version};
use super::{
    Change, Engine, EngineKind, IndexHit, Item, Meta, Result, Space, StoreError, Stored, WriteTxn,
};
use crate::names::{Key, Name};
use crate::record::RecordState;
use crate::version::{SiteId, Version};

const SCHEMA: &str = include_str!("schema.sql");
/// Layout version kept in `meta.format`; bumped with a migration when the
/// layout changes. 2: a record's `state` leaves out the values its `doc`
/// holds (`codec::encode_state_beside`); 3: and the fields its `doc`
/// names with the put's version. Earlier layouts read as they are, so a
/// layout-1 or -2 file is marked 3 on open; records are rewritten as they
/// change.
const FORMAT: i64 = 3;

pub struct SqliteEngine {
    path: PathBuf,
    /// `None` once closed: SQLite removes `NAME-wal` by its path when the
    /// last connection closes, so none may outlive the file's move.
    conns: RwLock<Option<Conns>>,
}

struct Conns {
    writer: Mutex<Connection>,
    /// Idle read connections; reads never wait for the writer in WAL mode.
    readers: Mutex<Vec<Connection>>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn open_conn(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA cache_size = -65536;",
    )?;
    Ok(conn)
}

fn name_of(s: String) -> Result<Name> {
    Name::parse_as("collection", &s).map_err(|_| corrupt("bad collection name"))
}

fn key_of(s: String) -> Result<Key> {
    Key::parse(&s).map_err(|_| corrupt("bad key"))
}

impl SqliteEngine {
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = open_conn(path)?;
        let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        txn.execute_batch(SCHEMA)?;
        let has_site: bool =
            txn.query_row("SELECT count(*) FROM meta WHERE name = 'site'", [], |r| {
                r.get(0)
            })?;
        if !has_site {
            txn.execute(
                "INSERT INTO meta (name, value) VALUES ('site', ?1), ('next_seq', 1), ('hlc', 0), ('format', ?2)",
                params![&SiteId::random().0[..], FORMAT],
            )?;
        }
        let format: i64 =
            txn.query_row("SELECT value FROM meta WHERE name = 'format'", [], |r| {
                r.get(0)
            })?;
        if format == 1 || format == 2 {
            txn.execute("UPDATE meta SET value = ?1 WHERE name = 'format'", [FORMAT])?;
        } else if format != FORMAT {
            return Err(StoreError::Corrupt(format!(
                "layout version {format} is not {FORMAT}; this syncdb cannot read it"
            )));
        }
        txn.commit()?;
        Ok(SqliteEngine {
            path: path.to_owned(),
            conns: RwLock::new(Some(Conns {
                writer: Mutex::new(conn),
                readers: Mutex::new(Vec::new()),
            })),
        })
    }

    /// Runs `PRAGMA integrity_check` on a file.
    pub fn check_file(path: &Path) -> Result<()> {
        let conn = Connection::open(path)?;
        let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(verdict))
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let open = self.conns.read().unwrap_or_else(PoisonError::into_inner);
        let conns = open.as_ref().ok_or(StoreError::Closed)?;
        let pooled = conns
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        let out = f(&conn);
        conns
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        out
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let open = self.conns.read().unwrap_or_else(PoisonError::into_inner);
        let conns = open.as_ref().ok_or(StoreError::Closed)?;
        f(&mut conns.writer.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn change_from_row(
    seq: i64,
    collection: String,
    key: Option<String>,
    blob: Vec<u8>,
    doc: Option<String>,
) -> Result<Change> {
    let seq = seq as u64;
    let item = match key {
        Some(key) => Item::Record {
            collection: name_of(collection)?,
            key: key_of(key)?,
            state: decode_state_beside(&blob, doc.as_deref())?,
        },
        None if collection.is_empty() => Item::DropDatabase {
            version: decode_version(&blob)?,
        },
        None => Item::DropCollection {
            collection: name_of(collection)?,
            version: decode_version(&blob)?,
        },
    };
    Ok(Change { seq, item })
}

impl Engine for SqliteEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Sqlite
    }

    fn meta(&self) -> Result<Meta> {
        self.read(|c| {
            let site: Vec<u8> =
                c.query_row("SELECT value FROM meta WHERE name = 'site'", [], |r| {
                    r.get(0)
                })?;
            let next_seq: i64 =
                c.query_row("SELECT value FROM meta WHERE name = 'next_seq'", [], |r| {
                    r.get(0)
                })?;
            let hlc: i64 = c.query_row("SELECT value FROM meta WHERE name = 'hlc'", [], |r| {
                r.get(0)
            })?;
            Ok(Meta {
                site: SiteId(site.try_into().map_err(|_| corrupt("bad site id"))?),
                next_seq: next_seq as u64,
                hlc: hlc as u64,
            })
        })
    }

    fn get(&self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        self.read(|c| get_record(c, collection, key))
    }

    fn scan(
        &self,
        collection: &Name,
        prefix: &str,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, RecordState)>> {
        self.read(|c| {
            let start = match after {
                Some(a) if a.as_str() >= prefix => a.as_str(),
                _ => prefix,
            };
            let op = if after.is_some_and(|a| a.as_str() >= prefix) {
                ">"
            } else {
                ">="
            };
            let sql = format!(
                "SELECT key, state, doc FROM records WHERE collection = ?1 AND key {op} ?2 ORDER BY key"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![collection.as_str(), start])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                if out.len() >= limit || !key.starts_with(prefix) {
                    break;
                }
                let state: Vec<u8> = row.get(1)?;
                let doc: Option<String> = row.get(2)?;
                out.push((key_of(key)?, decode_state_beside(&state, doc.as_deref())?));
            }
            Ok(out)
        })
    }

    fn collections(&self) -> Result<Vec<(Name, u64)>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT name, records FROM collections ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            rows.map(|r| {
                let (n, count) = r?;
                Ok((name_of(n)?, count as u64))
            })
            .collect()
        })
    }

    fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Change>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, collection, key, state, doc FROM records WHERE seq > ?1
                 UNION ALL
                 SELECT seq, scope, NULL, version, NULL FROM markers WHERE seq > ?1
                 ORDER BY seq LIMIT ?2",
            )?;
            // Seqs are at most i64::MAX here; a larger `since` must not wrap.
            let since = i64::try_from(since).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![since, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.map(|r| {
                let (seq, coll, key, blob, doc) = r?;
                change_from_row(seq, coll, key, blob, doc)
            })
            .collect()
        })
    }

    fn count_since(&self, since: u64) -> Result<u64> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        self.read(|c| {
            let n: i64 = c.query_row(
                "SELECT (SELECT count(*) FROM records WHERE seq > ?1)
                      + (SELECT count(*) FROM markers WHERE seq > ?1)",
                [since],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    fn visit_records(&self, f: &mut dyn FnMut(&Name, &Key, &RecordState)) -> Result<()> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT collection, key, state, doc FROM records ORDER BY collection, key",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let coll = name_of(row.get(0)?)?;
                let key = key_of(row.get(1)?)?;
                let state: Vec<u8> = row.get(2)?;
                let doc: Option<String> = row.get(3)?;
                f(&coll, &key, &decode_state_beside(&state, doc.as_deref())?);
            }
            Ok(())
        })
    }

    fn markers(&self) -> Result<Vec<(Option<Name>, Version)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT scope, version FROM markers")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            rows.map(|r| {
                let (scope, v) = r?;
                let scope = if scope.is_empty() {
                    None
                } else {
                    Some(name_of(scope)?)
                };
                Ok((scope, decode_version(&v)?))
            })
            .collect()
        })
    }

    fn checkpoint(&self, peer: SiteId) -> Result<u64> {
        self.read(|c| {
            let seq: Option<i64> = c
                .query_row(
                    "SELECT seq FROM checkpoints WHERE peer = ?1",
                    [&peer.0[..]],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(seq.unwrap_or(0) as u64)
        })
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTxn) -> Result<()>) -> Result<()> {
        self.with_writer(|conn| {
            let txn = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let outcome = f(&mut SqliteTxn { conn: &txn });
            match outcome {
                Ok(()) => Ok(txn.commit()?),
                Err(e) => {
                    // The first error is the one worth reporting.
                    let _ = txn.rollback();
                    Err(e)
                }
            }
        })
    }

    fn compact(&self) -> Result<()> {
        self.with_writer(|conn| {
            // VACUUM rewrites the file without free pages (through the WAL);
            // the checkpoint moves that into the file and empties the WAL.
            conn.execute_batch("VACUUM")?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }

    fn close(&self) {
        // Waits for calls in progress (they hold the lock for reading).
        self.conns
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    fn space(&self) -> Result<Space> {
        self.read(|c| {
            let pragma = |name: &str| -> Result<u64> {
                let n: i64 = c.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            };
            let (pages, free, size) = (
                pragma("page_count")?,
                pragma("freelist_count")?,
                pragma("page_size")?,
            );
            let wal =
                std::fs::metadata(self.path.with_extension("sqlite-wal")).map_or(0, |m| m.len());
            Ok(Space {
                file_bytes: pages * size + wal,
                free_bytes: free * size + wal,
            })
        })
    }

    fn backup_to(&self, dest: &Path) -> Result<()> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Io(std::io::Error::other("backup path is not UTF-8")))?;
        // A read transaction in WAL mode: writers go on while it copies.
        self.read(|c| {
            c.execute("VACUUM INTO ?1", [dest])?;
            Ok(())
        })
    }

    fn meta_blob(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            let value = c
                .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                    r.get::<_, Vec<u8>>(0)
                })
                .optional()?;
            Ok(value)
        })
    }

    fn index_scan(
        &self,
        list: &[u8],
        collection: &Name,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        rev: bool,
        limit: usize,
        key_of: &dyn Fn(&[u8]) -> Option<Key>,
    ) -> Result<Option<Vec<IndexHit>>> {
        let ((lo_op, lo), hi_end) = super::sql_range(&range);
        let (hi_op, hi) = (hi_end.map_or("", |h| h.0), hi_end.map(|h| h.1));
        let sql = format!(
            "SELECT entry FROM index_entries WHERE entry {lo_op} ?1 {} ORDER BY entry {} LIMIT ?3",
            if hi.is_some() {
                format!("AND entry {hi_op} ?2")
            } else {
                "AND ?2 IS NULL".into()
            },
            if rev { "DESC" } else { "ASC" }
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            // One read transaction: the entries and the records they name
            // come from the same commit.
            c.execute_batch("BEGIN")?;
            let out = (|| {
                let stored: Option<Vec<u8>> = c
                    .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
                    .query_row([crate::index::META_NAME], |r| r.get(0))
                    .optional()?;
                if stored.as_deref() != Some(list) {
                    return Ok(None);
                }
                if super::is_empty_range(&range) {
                    return Ok(Some(Vec::new()));
                }
                let mut stmt = c.prepare_cached(&sql)?;
                let entries: Vec<Vec<u8>> = stmt
                    .query_map(params![lo, hi, limit], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                entries
                    .into_iter()
                    .map(|entry| {
                        let key = key_of(&entry).ok_or_else(|| corrupt("bad index entry"))?;
                        let row: Option<(Vec<u8>, Option<String>)> = c
                            .prepare_cached(
                                "SELECT state, doc FROM records WHERE collection = ?1 AND key = ?2",
                            )?
                            .query_row(params![collection.as_str(), key.as_str()], |r| {
                                Ok((r.get(0)?, r.get(1)?))
                            })
                            .optional()?;
                        let visible = match row {
                            Some((bytes, doc)) => super::codec::decode_visible_beside(&bytes, doc)?,
                            None => None,
                        };
                        Ok((entry, key, visible))
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Some)
            })();
            c.execute_batch("COMMIT")?;
            out
        })
    }
}

fn get_record(c: &Connection, collection: &Name, key: &Key) -> Result<Option<Stored>> {
    let mut stmt =
        c.prepare_cached("SELECT seq, state, doc FROM records WHERE collection = ?1 AND key = ?2")?;
    let row: Option<(i64, Vec<u8>, Option<String>)> = stmt
        .query_row(params![collection.as_str(), key.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(seq, state, doc)| {
        Ok(Stored {
            seq: seq as u64,
            state: decode_state_beside(&state, doc.as_deref())?,
        })
    })
    .transpose()
}

struct SqliteTxn<'c> {
    conn: &'c Connection,
}

impl WriteTxn for SqliteTxn<'_> {
    fn get(&mut self, collection: &Name, key: &Key) -> Result<Option<Stored>> {
        get_record(self.conn, collection, key)
    }

    fn put(&mut self, collection: &Name, key: &Key, state: &RecordState, seq: u64) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO records (collection, key, seq, doc, state) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (collection, key) DO UPDATE
             SET seq = excluded.seq, doc = excluded.doc, state = excluded.state",
        )?;
        let (doc, state) = encode_state_beside(state);
        stmt.execute(params![
            collection.as_str(),
            key.as_str(),
            seq as i64,
            doc,
            state
        ])?;
        Ok(())
    }

    fn remove(&mut self, collection: &Name, key: &Key) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM records WHERE collection = ?1 AND key = ?2")?;
        stmt.execute(params![collection.as_str(), key.as_str()])?;
        Ok(())
    }

    fn records(&mut self, collection: Option<&Name>) -> Result<Vec<(Name, Key, Stored)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT collection, key, seq, state, doc FROM records
             WHERE ?1 IS NULL OR collection = ?1 ORDER BY collection, key",
        )?;
        let rows = stmt.query_map([collection.map(Name::as_str)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.map(|r| {
            let (c, k, seq, state, doc): (String, String, i64, Vec<u8>, Option<String>) = r?;
            let stored = Stored {
                seq: seq as u64,
                state: decode_state_beside(&state, doc.as_deref())?,
            };
            Ok((name_of(c)?, key_of(k)?, stored))
        })
        .collect()
    }

    fn set_marker(&mut self, collection: Option<&Name>, version: Version, seq: u64) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO markers (scope, seq, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq, version = excluded.version",
        )?;
        stmt.execute(params![
            collection.map_or("", Name::as_str),
            seq as i64,
            encode_version(&version)
        ])?;
        Ok(())
    }

    fn remove_marker(&mut self, collection: Option<&Name>) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM markers WHERE scope = ?1")?;
        stmt.execute([collection.map_or("", Name::as_str)])?;
        Ok(())
    }

    fn add_count(&mut self, collection: &Name, delta: i64) -> Result<()> {
        if delta == 0 {
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO collections (name, records) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET records = records + excluded.records",
        )?;
        stmt.execute(params![collection.as_str(), delta])?;
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM collections WHERE name = ?1 AND records <= 0")?;
        stmt.execute([collection.as_str()])?;
        Ok(())
    }

    fn set_meta(&mut self, meta: &Meta) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE meta SET value = ?2 WHERE name = ?1")?;
        stmt.execute(params!["next_seq", meta.next_seq as i64])?;
        stmt.execute(params!["hlc", meta.hlc as i64])?;
        Ok(())
    }

    fn set_checkpoint(&mut self, peer: SiteId, seq: u64) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO checkpoints (peer, seq) VALUES (?1, ?2)
             ON CONFLICT (peer) DO UPDATE SET seq = excluded.seq",
        )?;
        stmt.execute(params![&peer.0[..], seq as i64])?;
        Ok(())
    }

    fn meta_blob(&mut self, name: &str) -> Result<Option<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE name = ?1")?;
        Ok(stmt.query_row([name], |r| r.get(0)).optional()?)
    }

    fn set_meta_blob(&mut self, name: &str, value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(value) => {
                let mut stmt = self.conn.prepare_cached(
                    "INSERT INTO meta (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )?;
                stmt.execute(params![name, value])?;
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached("DELETE FROM meta WHERE name = ?1")?;
                stmt.execute([name])?;
            }
        }
        Ok(())
    }

    fn scan_records(
        &mut self,
        collection: &Name,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Stored)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, seq, state, doc FROM records
             WHERE collection = ?1 AND (?2 IS NULL OR key > ?2) ORDER BY key LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![collection.as_str(), after.map(Key::as_str), limit],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        rows.map(|r| {
            let (k, seq, state, doc): (String, i64, Vec<u8>, Option<String>) = r?;
            let stored = Stored {
                seq: seq as u64,
                state: decode_state_beside(&state, doc.as_deref())?,
            };
            Ok((key_of(k)?, stored))
        })
        .collect()
    }

    fn index_insert(&mut self, entry: &[u8]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO index_entries (entry) VALUES (?1)")?;
        stmt.execute([entry])?;
        Ok(())
    }

    fn index_remove(&mut self, entry: &[u8]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM index_entries WHERE entry = ?1")?;
        stmt.execute([entry])?;
        Ok(())
    }

    fn index_remove_range(&mut self, lo: &[u8], hi: &[u8]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM index_entries WHERE entry >= ?1 AND entry < ?2")?;
        stmt.execute([lo, hi])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Database, WriteOp};
    use crate::{Document, EngineKind};

    /// A layout-1 file (states stored whole) opens, reads as written, and
    /// is marked the current layout; records rewritten since store their
    /// values once, and a put's field names only in the document.
    #[test]
    fn a_layout_1_file_opens_and_is_marked_current() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.sqlite");
        let coll = Name::parse_as("collection", "c").unwrap();
        let put = |db: &mut Database, key: &str, json: &str| {
            let op = WriteOp::Put {
                collection: coll.clone(),
                key: Key::parse(key).unwrap(),
                doc: Document::parse(json, 999).unwrap(),
            };
            db.commit(&[op], 1_000).unwrap();
        };
        let mut db = Database::open(EngineKind::Sqlite, &path).unwrap();
        put(&mut db, "1", r#"{"name":"Ada","n":1}"#);
        let states = |db: &Database| {
            let mut all = Vec::new();
            db.reader()
                .visit(&mut |_, k, s| all.push((k.to_string(), s.clone())))
                .unwrap();
            all
        };
        let state = states(&db).remove(0).1;
        drop(db);
        // What a layout-1 syncdb wrote: the whole state, format 1.
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE records SET state = ?1",
            [super::super::codec::encode_state(&state)],
        )
        .unwrap();
        conn.execute("UPDATE meta SET value = 1 WHERE name = 'format'", [])
            .unwrap();
        drop(conn);

        let mut db = Database::open(EngineKind::Sqlite, &path).unwrap();
        assert_eq!(states(&db), [("1".to_owned(), state)]);
        put(&mut db, "2", r#"{"name":"Bob"}"#);
        drop(db);
        let conn = Connection::open(&path).unwrap();
        let format: i64 = conn
            .query_row("SELECT value FROM meta WHERE name = 'format'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(format, FORMAT);
        let state: Vec<u8> = conn
            .query_row("SELECT state FROM records WHERE key = '2'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let state = String::from_utf8_lossy(&state);
        assert!(!state.contains("Bob") && !state.contains("name"), "{state}");
    }
}
