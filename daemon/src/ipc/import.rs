//! `put --batch` (and the HTTP API's bulk import): lines are read and
//! checked here, beside the database's writer, which holds one transaction
//! open until the end, so a bad line anywhere writes nothing.
//!
//! A line is a plain document, whose key comes from a field or is made, or a
//! record as `syncdb ls --json` prints it, whose key is kept — so a listing
//! imports back under the same keys. An import into a whole database reads
//! records that name their collection, as `syncdb export DB` writes them.

use std::sync::Arc;

use syncdb_core::db::WriteOp;
use syncdb_core::ipc::{
    ErrorCode, ImportBeginParams, ImportChunkParams, ImportFormat, ImportOutput, RpcError,
};
use syncdb_core::{Document, Key, Name};
use tokio::sync::mpsc;

use super::errors::{bad_input, replica_error};
use super::handlers;
use crate::replicas::{ImportDone, ImportMsg, Replica};
use crate::state::State;

/// An import in progress.
pub struct Import {
    db: Name,
    /// `None`: each line names its collection.
    collection: Option<Name>,
    /// The schema in force when the import began, for lines that name
    /// their collection.
    head: syncdb_core::schema::Head,
    lines: LineReader,
    /// The schema lines are checked against here, beside the writer.
    schema: Option<Arc<syncdb_core::schema::Schema>>,
    /// The database's writer; none for a dry run, which writes nothing.
    writer: Option<ImportWriter>,
    queued: u64,
    /// Records queued by collection, when lines name theirs.
    by_collection: std::collections::BTreeMap<Name, u64>,
}

/// Why a chunk ended the import; [`Import::fail`] turns it into the answer.
pub enum Failure {
    /// A line that cannot be imported, and why.
    Line(String),
    /// The writer gave up (a storage error).
    Writer,
}

struct ImportWriter {
    replica: Arc<Replica>,
    tx: mpsc::Sender<ImportMsg>,
    done: ImportDone,
    /// The import created the database: if it fails, the database goes.
    created: bool,
}

impl ImportWriter {
    /// Ends an import that will not commit: its writer rolls back, and a
    /// database it created is removed (exit 2 means nothing was written,
    /// so nothing is left). Returns the writer's reason, if it had one.
    async fn abandon(self, state: &Arc<State>) -> Option<crate::replicas::ReplicaError> {
        drop(self.tx);
        let reason = match self.done.await {
            Ok(Err(e)) => Some(self.replica.store_error(e)),
            _ => None,
        };
        if self.created {
            discard(state, self.replica).await;
        }
        reason
    }
}

async fn discard(state: &Arc<State>, replica: Arc<Replica>) {
    let state = state.clone();
    let _ = tokio::task::spawn_blocking(move || state.replicas.discard_new(replica)).await;
}

pub fn no_import() -> RpcError {
    bad_input("no import in progress; call import.begin first")
}

impl Import {
    pub fn begin(
        state: &Arc<State>,
        p: ImportBeginParams,
    ) -> Result<(Import, ImportOutput), RpcError> {
        let folder = state.resolve_writable(&p.folder)?;
        let existing = state
            .replicas
            .get(&folder, &p.db, false)
            .map_err(replica_error)?;
        let head = existing.as_ref().map(|r| r.schema()).unwrap_or_default();
        match &p.collection {
            Some(collection) => handlers::writable_collection(&p.db, collection, &head)?,
            None if p.format == ImportFormat::Docs || p.key_field.is_some() => {
                return Err(bad_input(
                    "an import into a whole database reads records that name their collection ({\"collection\":…,\"key\":…,\"doc\":{…}}, as `syncdb export DB` writes); name a collection to import plain documents",
                ));
            }
            None => {}
        }
        let schema = head.schema().cloned();
        let lines = {
            let c = state.config.lock().expect("config");
            let key_path = match &p.collection {
                Some(collection) => handlers::key_path(&head, collection, &c.daemon.key_path),
                None => c.daemon.key_path.clone(),
            };
            LineReader {
                // Lines that name their collection are records, whatever
                // else they hold.
                format: match p.collection {
                    Some(_) => p.format,
                    None => ImportFormat::Records,
                },
                key_required: p.key_field.is_some(),
                key_field: p.key_field.unwrap_or(key_path),
                max_doc_bytes: c.daemon.max_document_bytes,
            }
        };
        let writer = if p.dry_run {
            None
        } else {
            let (replica, created) = state
                .replicas
                .get_or_create(&folder, &p.db)
                .map_err(replica_error)?;
            let (tx, done) = replica.import().map_err(replica_error)?;
            Some(ImportWriter {
                replica,
                tx,
                done,
                created,
            })
        };
        let import = Import {
            db: p.db,
            collection: p.collection,
            head,
            lines,
            schema,
            writer,
            queued: 0,
            by_collection: Default::default(),
        };
        let out = ImportOutput {
            imported: 0,
            dry_run: p.dry_run,
            ..ImportOutput::default()
        };
        Ok((import, out))
    }

    /// Reads, checks and queues a chunk of lines. An error ends the import:
    /// pass it to [`Import::fail`].
    pub async fn chunk(&mut self, p: ImportChunkParams) -> Result<ImportOutput, Failure> {
        let mut ops = Vec::with_capacity(p.lines.len());
        let mut line_nos = Vec::with_capacity(p.lines.len());
        for (i, line) in p.lines.iter().enumerate() {
            let line_no = p.first_line + i as u64;
            // Some editors begin a UTF-8 file with a byte-order mark.
            let line = match line_no {
                1 => line.strip_prefix('\u{feff}').unwrap_or(line),
                _ => line,
            };
            if line.trim().is_empty() {
                continue;
            }
            let (collection, key, doc) = self.read(line, line_no).map_err(Failure::Line)?;
            if self.collection.is_none() {
                *self.by_collection.entry(collection.clone()).or_default() += 1;
            }
            line_nos.push(line_no);
            ops.push(WriteOp::Put {
                collection,
                key,
                doc,
            });
        }
        self.queued += ops.len() as u64;
        if let Some(w) = &self.writer {
            let msg = ImportMsg::Ops {
                ops,
                lines: line_nos,
                checked: self.schema.as_ref().map(|s| s.hash().to_owned()),
            };
            w.tx.send(msg).await.map_err(|_| Failure::Writer)?;
        }
        Ok(ImportOutput {
            imported: self.queued,
            dry_run: self.writer.is_none(),
            ..ImportOutput::default()
        })
    }

    /// One line's collection, key and document, checked against the schema.
    fn read(&self, line: &str, line_no: u64) -> Result<(Name, Key, Document), String> {
        let (collection, key, doc) = match &self.collection {
            Some(collection) => {
                let (key, doc) = self.lines.read(line, line_no)?;
                (collection.clone(), key, doc)
            }
            None => {
                let (collection, key, doc) = named_record(line, self.lines.max_doc_bytes)
                    .map_err(|e| format!("line {line_no}: {e}"))?;
                handlers::writable_collection(&self.db, &collection, &self.head)
                    .map_err(|e| format!("line {line_no}: {}", e.message))?;
                (collection, key, doc)
            }
        };
        if let Some(schema) = &self.schema {
            schema
                .check(&collection, &doc)
                .and_then(|()| schema.check_key(&collection, &key, &doc))
                .map_err(|v| {
                    format!(
                        "line {line_no}: record {}/{collection}/{key} breaks schema {} v{}: {v}",
                        self.db, schema.name, schema.version
                    )
                })?;
        }
        Ok((collection, key, doc))
    }

    /// Ends an import a chunk failed: nothing is written; says why.
    pub async fn fail(self, state: &Arc<State>, failure: Failure) -> RpcError {
        let reason = match self.writer {
            Some(w) => w.abandon(state).await,
            None => None,
        };
        match failure {
            Failure::Line(message) => bad_input(format!("{message}; nothing was imported")),
            Failure::Writer => match reason {
                Some(e) => replica_error(e),
                None => RpcError::new(ErrorCode::Unavailable, "the database writer stopped"),
            },
        }
    }

    /// Ends an import that will not commit (its client went away).
    pub async fn abandon(self, state: &Arc<State>) {
        if let Some(w) = self.writer {
            w.abandon(state).await;
        }
    }

    /// Commits everything queued, in one transaction.
    pub async fn end(self, state: &Arc<State>) -> Result<ImportOutput, RpcError> {
        let Some(w) = self.writer else {
            return Ok(ImportOutput {
                imported: self.queued,
                dry_run: true,
                collections: self.by_collection,
                ..ImportOutput::default()
            });
        };
        if self.queued == 0 {
            // Nothing to write: a database it began goes, as after a failure.
            let seq = (!w.created).then(|| w.replica.high_seq());
            w.abandon(state).await;
            return Ok(ImportOutput {
                seq,
                ..ImportOutput::default()
            });
        }
        let _ = w.tx.send(ImportMsg::End).await;
        drop(w.tx);
        let outcome = match w.done.await {
            Ok(Ok(imported)) => Ok(ImportOutput {
                imported,
                dry_run: false,
                seq: Some(w.replica.high_seq()),
                created_database: w.created,
                collections: self.by_collection,
            }),
            Ok(Err(e)) => Err(replica_error(w.replica.store_error(e))),
            Err(_) => Err(RpcError::new(
                ErrorCode::Unavailable,
                "the database writer stopped",
            )),
        };
        if outcome.is_err() && w.created {
            discard(state, w.replica).await;
        }
        outcome
    }
}

pub struct LineReader {
    pub format: ImportFormat,
    /// The field holding a plain document's key.
    pub key_field: String,
    /// Whether a document without `key_field` is refused rather than given a
    /// new key: when the field was named for this import.
    pub key_required: bool,
    pub max_doc_bytes: usize,
}

impl LineReader {
    /// The key and document of input line `line_no`, or what is wrong with it.
    pub fn read(&self, line: &str, line_no: u64) -> Result<(Key, Document), String> {
        let doc =
            Document::parse(line, self.max_doc_bytes).map_err(|e| e.on_input_line(line_no))?;
        let is_record = match self.format {
            ImportFormat::Docs => false,
            ImportFormat::Records => true,
            ImportFormat::Auto => doc.len() == 2 && record_shaped(&doc),
        };
        if is_record {
            return record(&doc, self.max_doc_bytes, RECORD)
                .map_err(|e| format!("line {line_no}: {e}"));
        }
        // Shaped as a record but not one: a damaged listing, more likely
        // than a document that happens to have just these two fields.
        if self.format == ImportFormat::Auto
            && doc.len() == 2
            && doc.get("key").is_some()
            && doc.get("doc").is_some()
        {
            let why = record(&doc, self.max_doc_bytes, RECORD)
                .err()
                .unwrap_or_default();
            return Err(format!(
                "line {line_no} looks like a record but is not one ({why}); --format docs stores such lines as documents"
            ));
        }
        if self.format == ImportFormat::Auto
            && doc.len() == 3
            && doc.get("collection").is_some()
            && record_shaped(&doc)
        {
            return Err(format!(
                "line {line_no} is a record that names its collection, as `syncdb export DB` writes; import those with `syncdb put DB --batch` (or --format docs to store each line as a document)"
            ));
        }
        if self.key_required && matches!(doc.key_at(&self.key_field), Ok(None)) {
            return Err(format!(
                "line {line_no}: no field {:?} to take the key from (--key-field)",
                self.key_field
            ));
        }
        let key = handlers::put_key(None, &doc, &self.key_field)
            .map_err(|e| format!("line {line_no}: {}", e.message))?;
        Ok((key, doc))
    }
}

/// A line of a whole-database import: `{"collection":"C","key":"K",
/// "doc":{…}}`, nothing else.
fn named_record(line: &str, max_doc_bytes: usize) -> Result<(Name, Key, Document), String> {
    const SHAPE: &str =
        r#"each line is {"collection":"C","key":"K","doc":{...}}, as `syncdb export DB` writes"#;
    let parsed = Document::parse(line, max_doc_bytes).map_err(|e| format!("{e}; {SHAPE}"))?;
    if let Some((field, _)) = parsed
        .fields()
        .find(|(f, _)| !matches!(*f, "collection" | "key" | "doc"))
    {
        return Err(format!("unknown field {field:?}; {SHAPE}"));
    }
    let name: String = parsed
        .get("collection")
        .and_then(|raw| serde_json::from_str(raw).ok())
        .ok_or_else(|| format!("\"collection\" must be a string; {SHAPE}"))?;
    let collection = Name::parse_as("collection", &name).map_err(|e| e.to_string())?;
    let (key, doc) = record(&parsed, max_doc_bytes, SHAPE)?;
    Ok((collection, key, doc))
}

/// `{"key":"…","doc":{…}}`: what `ls --json` prints for a record.
fn record_shaped(doc: &Document) -> bool {
    doc.get("key").is_some_and(|k| k.starts_with('"'))
        && doc.get("doc").is_some_and(|d| d.starts_with('{'))
}

/// The shape of a record line, for messages.
const RECORD: &str = r#"a record is {"key":"K","doc":{...}}, as `syncdb ls --json` prints"#;

fn record(line: &Document, max_doc_bytes: usize, shape: &str) -> Result<(Key, Document), String> {
    let (Some(key), Some(doc)) = (line.get("key"), line.get("doc")) else {
        return Err(format!("missing \"key\" or \"doc\"; {shape}"));
    };
    let key: String =
        serde_json::from_str(key).map_err(|_| format!("\"key\" must be a string; {shape}"))?;
    let key = Key::parse(&key).map_err(|e| e.to_string())?;
    let doc = Document::parse(doc, max_doc_bytes).map_err(|e| format!("\"doc\": {e}"))?;
    Ok((key, doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(format: ImportFormat) -> LineReader {
        LineReader {
            format,
            key_field: "_id".into(),
            key_required: false,
            max_doc_bytes: 1024,
        }
    }

    #[test]
    fn auto_keeps_the_key_of_a_listed_record_and_reads_anything_else_as_a_document() {
        let r = reader(ImportFormat::Auto);
        let (key, doc) = r.read(r#"{"key":"42","doc":{"name":"Ada"}}"#, 1).unwrap();
        assert_eq!((key.as_str(), doc.get("name")), ("42", Some(r#""Ada""#)));
        // A third field: a plain document.
        let (_, doc) = r
            .read(r#"{"key":"42","doc":{"name":"Ada"},"x":1}"#, 1)
            .unwrap();
        assert!(doc.get("key").is_some());
        // Just "key" and "doc", and not a record: refused, not read as a
        // document under a new key; --format docs takes it.
        for odd in [r#"{"key":"42","doc":"text"}"#, r#"{"key":42,"doc":{}}"#] {
            let e = r.read(odd, 4).unwrap_err();
            assert!(e.starts_with("line 4 looks like a record"), "{odd}: {e}");
            let (_, doc) = reader(ImportFormat::Docs).read(odd, 4).unwrap();
            assert!(doc.get("key").is_some(), "{odd}");
        }
    }

    #[test]
    fn auto_refuses_a_line_of_a_whole_database_export_and_docs_takes_it() {
        let line = r#"{"collection":"person","key":"42","doc":{"name":"Ada"}}"#;
        let e = reader(ImportFormat::Auto).read(line, 3).unwrap_err();
        assert!(
            e.starts_with("line 3 ") && e.contains("put DB --batch"),
            "{e}"
        );
        let (_, doc) = reader(ImportFormat::Docs).read(line, 3).unwrap();
        assert_eq!(doc.get("collection"), Some(r#""person""#));
    }

    #[test]
    fn docs_never_unwraps_and_records_insist() {
        let line = r#"{"key":"42","doc":{"name":"Ada"}}"#;
        let (_, doc) = reader(ImportFormat::Docs).read(line, 1).unwrap();
        assert_eq!(doc.get("key"), Some(r#""42""#));
        let (key, _) = reader(ImportFormat::Records)
            .read(r#"{"key":"7","doc":{},"seq":3,"version":"v"}"#, 1)
            .unwrap();
        assert_eq!(key.as_str(), "7");
        let e = reader(ImportFormat::Records)
            .read(r#"{"name":"Ada"}"#, 3)
            .unwrap_err();
        assert!(e.starts_with("line 3: missing \"key\" or \"doc\""), "{e}");
        let e = reader(ImportFormat::Records)
            .read(r#"{"key":"a/b","doc":{}}"#, 1)
            .unwrap_err();
        assert!(e.contains("allowed"), "{e}");
    }

    #[test]
    fn a_named_key_field_is_required() {
        let r = LineReader {
            key_field: "email".into(),
            key_required: true,
            ..reader(ImportFormat::Auto)
        };
        let (key, _) = r.read(r#"{"email":"a@x"}"#, 1).unwrap();
        assert_eq!(key.as_str(), "a@x");
        let e = r.read(r#"{"_id":"1"}"#, 4).unwrap_err();
        assert_eq!(
            e,
            r#"line 4: no field "email" to take the key from (--key-field)"#
        );
    }

    #[test]
    fn a_syntax_error_names_the_input_line_and_column_once() {
        let e = reader(ImportFormat::Auto)
            .read(r#"{"a":tru}"#, 2)
            .unwrap_err();
        assert_eq!(
            e,
            "line 2, column 9: expected a JSON value (a \"string\", a number, true, false, null, {...} or [...])"
        );
    }
}
