//! `schema set | show | diff | check --data`: a database's schema, which is
//! data in the database (`core::schema`). Setting one is a write like any
//! other: the writer refuses an older version, the same version with other
//! content, and steps that lose data unless allowed, all inside the
//! transaction that stores it. The rest only read.

use std::sync::Arc;

use syncdb_core::db::WriteOp;
use syncdb_core::ipc::*;
use syncdb_core::migrate::StepPlan;
use syncdb_core::schema::{self, Format, Head, Schema};
use syncdb_core::{Name, Reader};

use super::errors::{bad_input, not_found, replica_error};
use super::handlers::no_database;
use crate::replicas::Replica;
use crate::state::State;

/// The schema the command sent (it checked the file; this checks again).
fn parse(text: &str) -> Result<Arc<Schema>, RpcError> {
    Schema::parse(text, Format::Json)
        .map(Arc::new)
        .map_err(|e| bad_input(format!("not a valid schema: {e}")))
}

pub fn id(head: &Head) -> Option<SchemaId> {
    Some(SchemaId {
        version: head.version(),
        hash: head.hash()?.to_owned(),
    })
}

fn schema_id(s: &Schema) -> SchemaId {
    SchemaId {
        version: s.version,
        hash: s.hash().to_owned(),
    }
}

fn reports(plans: Vec<StepPlan>) -> Vec<StepReport> {
    plans
        .into_iter()
        .map(|p| StepReport {
            step: p.step.describe(),
            records: p.touched,
            lost: p.lost,
            drops_data: p.step.drops_data(),
            kept: p.kept,
        })
        .collect()
}

fn storage(replica: &Replica, e: syncdb_core::store::StoreError) -> RpcError {
    replica_error(replica.store_error(e))
}

fn existing(state: &State, p_folder: &FolderRef, db: &Name) -> Result<Arc<Replica>, RpcError> {
    let folder = state.resolve(p_folder)?;
    state
        .replicas
        .get(&folder, db, false)
        .map_err(replica_error)?
        .ok_or_else(|| no_database(db, &folder))
}

/// Blocking: counts what the steps touch, and what breaks the new schema.
/// A schema fit for database `db`: named for it, and no larger than a
/// record may be (it is stored, and synced, as one).
fn fit_for(state: &State, db: &Name, new: &Schema) -> Result<(), RpcError> {
    if new.name != *db {
        return Err(bad_input(format!(
            "the schema is named {}, not {db}: set it on database {}, or name it {db}",
            new.name, new.name
        )));
    }
    let max = state.config().daemon.max_document_bytes;
    let size = new.canonical().len();
    if size > max {
        return Err(bad_input(format!(
            "the schema is {size} bytes, over the {max}-byte limit of a record (daemon.max_document_bytes): it is stored and synced as one"
        )));
    }
    Ok(())
}

pub async fn set(state: &Arc<State>, p: SchemaSetParams) -> Result<SchemaSetOutput, RpcError> {
    let new = parse(&p.schema)?;
    fit_for(state, &p.db, &new)?;
    let folder = state.resolve_writable(&p.folder)?;
    let (replica, created) = state
        .replicas
        .get_or_create(&folder, &p.db)
        .map_err(replica_error)?;
    let previous = replica.schema();
    let unchanged = previous.hash() == Some(new.hash()) && previous.version() == new.version;
    let plans = match unchanged {
        true => Vec::new(),
        false => {
            let (reader, steps) = (replica.reader.clone(), new.migrate.clone());
            blocking(move || reader.plan(&steps))
                .await
                .map_err(|e| storage(&replica, e))?
        }
    };
    let op = WriteOp::SetSchema {
        schema: new.clone(),
        allow_data_loss: p.allow_data_loss,
    };
    if let Err(e) = replica.write(vec![op]).await {
        if created {
            state.replicas.discard_new(replica);
        }
        let mut err = replica_error(e);
        err.message.push_str("; nothing was written");
        return Err(err);
    }
    let reader = replica.reader.clone();
    let schema = new.clone();
    let (violations, _) = blocking(move || reader.violations(&schema, 0))
        .await
        .map_err(|e| storage(&replica, e))?;
    tracing::info!(db = %p.db, version = new.version, hash = new.hash(), unchanged, "schema set");
    Ok(SchemaSetOutput {
        db: p.db,
        schema: schema_id(&new),
        previous: id(&previous),
        unchanged,
        steps: reports(plans),
        violations,
        created_database: created,
    })
}

pub fn show(state: &State, p: DbParams) -> Result<SchemaShowOutput, RpcError> {
    let replica = existing(state, &p.folder, &p.db)?;
    let head = replica.schema();
    let versions = versions(&replica.reader).map_err(|e| storage(&replica, e))?;
    let (content, unreadable) = match &head {
        Head::Set(s) => (serde_json::from_str(&s.canonical()).ok(), None),
        Head::Unreadable { reason, .. } => (None, Some(reason.clone())),
        Head::None => (None, None),
    };
    Ok(SchemaShowOutput {
        db: p.db,
        schema: id(&head),
        content,
        unreadable,
        versions,
    })
}

fn versions(reader: &Reader) -> syncdb_core::store::Result<Vec<u64>> {
    let records = reader.list(&schema::collection(), "", None, usize::MAX)?;
    Ok(records
        .iter()
        .filter_map(|(k, _)| schema::key_version(k))
        .collect())
}

/// What `schema set` would do, without doing it. Blocking: counts records.
pub fn diff(state: &State, p: SchemaSetParams) -> Result<SchemaDiffOutput, RpcError> {
    let new = parse(&p.schema)?;
    fit_for(state, &p.db, &new)?;
    // A database that does not exist yet: `set` would make it.
    let folder = state.resolve(&p.folder)?;
    let replica = state
        .replicas
        .get(&folder, &p.db, false)
        .map_err(replica_error)?;
    let head = replica.as_ref().map(|r| r.schema()).unwrap_or_default();
    let verdict = match head.version() {
        0 => "new",
        v if v > new.version => "older",
        v if v < new.version => "upgrade",
        _ if head.hash() == Some(new.hash()) => "same",
        _ => "conflict",
    };
    let changes = match &head {
        Head::Set(old) => changes(old, &new),
        Head::Unreadable { reason, .. } => vec![format!(
            "the database's version {} cannot be read here ({reason})",
            head.version()
        )],
        Head::None if replica.is_none() => {
            vec![format!(
                "there is no database {} yet: `schema set` makes it",
                p.db
            )]
        }
        Head::None => vec!["the database has no schema yet".to_owned()],
    };
    let steps = match (verdict, &replica) {
        ("new" | "upgrade", Some(replica)) => reports(
            replica
                .reader
                .plan(&new.migrate)
                .map_err(|e| storage(replica, e))?,
        ),
        _ => Vec::new(),
    };
    Ok(SchemaDiffOutput {
        db: p.db,
        from: id(&head),
        to: schema_id(&new),
        verdict: verdict.to_owned(),
        changes,
        steps,
    })
}

/// The differences between two schemas, in words.
fn changes(old: &Schema, new: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(format!("name: {} → {}", old.name, new.name));
    }
    if old.version != new.version {
        out.push(format!("version: {} → {}", old.version, new.version));
    }
    if old.strict != new.strict {
        out.push(format!("strict: {} → {}", old.strict, new.strict));
    }
    for (name, c) in &new.collections {
        match old.collections.get(name) {
            None => out.push(format!("+ collection {name}")),
            Some(o) => {
                if o.key_path != c.key_path {
                    out.push(format!(
                        "~ collection {name}: key path {} → {}",
                        o.key_path.join("."),
                        c.key_path.join(".")
                    ));
                }
                if o.json_schema != c.json_schema {
                    out.push(format!("~ collection {name}: JSON Schema changed"));
                }
            }
        }
    }
    for name in old.collections.keys() {
        if !new.collections.contains_key(name) {
            out.push(format!(
                "- collection {name} (its records stay; they are no longer checked)"
            ));
        }
    }
    if out.is_empty() {
        out.push("no difference".to_owned());
    }
    out
}

/// Blocking: checks every record of the collections the schema checks.
pub fn data(state: &State, p: SchemaDataParams) -> Result<SchemaDataOutput, RpcError> {
    let replica = existing(state, &p.folder, &p.db)?;
    let head = replica.schema();
    let schema = match &head {
        Head::Set(s) => s.clone(),
        Head::None => {
            return Err(not_found(format!(
                "database {} has no schema; set one with `syncdb schema set {} FILE`",
                p.db, p.db
            )));
        }
        Head::Unreadable {
            version, reason, ..
        } => {
            return Err(bad_input(format!(
                "database {}'s schema version {version} cannot be read by this syncdb ({reason})",
                p.db
            )));
        }
    };
    let limit = usize::try_from(p.limit).unwrap_or(usize::MAX);
    let (violations, listed) = replica
        .reader
        .violations(&schema, limit)
        .map_err(|e| storage(&replica, e))?;
    let listed = listed
        .into_iter()
        .map(|(collection, key, v)| {
            let (pointer, rule) = match v {
                schema::Violation::Rule { pointer, rule } => (pointer, rule),
                other => (String::new(), other.to_string()),
            };
            ViolationInfo {
                collection,
                key,
                pointer,
                rule,
            }
        })
        .collect();
    Ok(SchemaDataOutput {
        db: p.db,
        schema: id(&head),
        violations,
        listed,
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> syncdb_core::store::Result<T> + Send + 'static,
) -> syncdb_core::store::Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(syncdb_core::store::StoreError::Aborted(format!(
            "the check failed: {e}"
        )))
    })
}
