//! `index create | drop | ls | check`: a database's secondary indexes.
//! Creating or dropping one goes through the database's writer (the list of
//! indexes and their entries change in one transaction with the data they
//! follow); the writer then builds a new index between other work, and
//! `ls` shows how far it is.

use std::sync::Arc;

use syncdb_core::Name;
use syncdb_core::folder::Folder;
use syncdb_core::index::{IndexDef, IndexState, parse_fields};
use syncdb_core::ipc::*;

use super::errors::{bad_input, not_found, replica_error};
use super::handlers::replica;
use crate::replicas::{IndexChange, Replica};
use crate::state::State;

/// How `index` commands show an index of `replica`'s database.
fn info(replica: &Replica, def: &IndexDef) -> Result<IndexInfo, RpcError> {
    let fail = |e| replica_error(replica.store_error(e));
    let all = replica.reader.collections().map_err(fail)?;
    let records = all
        .iter()
        .find(|(c, _)| c == &def.collection)
        .map_or(0, |(_, n)| *n);
    let (state, done) = match def.state {
        IndexState::Building => (
            "building",
            replica.reader.index_progress(def).map_err(fail)?,
        ),
        IndexState::Ready => ("ready", records),
    };
    Ok(IndexInfo {
        db: replica.name.clone(),
        collection: def.collection.clone(),
        fields: def.fields.clone(),
        state: state.into(),
        done,
        records,
        declared: def.declared,
        created: false,
    })
}

pub async fn create(state: &State, p: IndexParams) -> Result<IndexInfo, RpcError> {
    let fields = parse_fields(&p.fields).map_err(|e| bad_input(format!("index fields: {e}")))?;
    if p.collection.as_str() == syncdb_core::schema::COLLECTION {
        return Err(bad_input(format!(
            "collection {} holds the database's schema; it cannot be indexed",
            p.collection
        )));
    }
    let folder = state.resolve(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let change = IndexChange::Create {
        collection: p.collection.clone(),
        fields,
    };
    let (def, created) = replica
        .index(change)
        .await
        .map_err(replica_error)?
        .expect("create returns the index");
    let mut out = info(&replica, &def)?;
    out.created = created;
    Ok(out)
}

pub async fn drop(state: &State, p: IndexParams) -> Result<IndexInfo, RpcError> {
    let fields = parse_fields(&p.fields).map_err(|e| bad_input(format!("index fields: {e}")))?;
    let folder = state.resolve(&p.folder)?;
    let replica = replica(state, &folder, &p.db)?;
    let defs = replica
        .reader
        .indexes()
        .map_err(|e| replica_error(replica.store_error(e)))?;
    let Some(def) = defs
        .iter()
        .find(|d| d.collection == p.collection && d.fields == fields)
    else {
        return Err(no_index(&p.db, &p.collection, &fields, &defs));
    };
    if let Some(v) = def.declared {
        return Err(bad_input(format!(
            "index {}/{}({}) is declared by schema version {v}; remove it from the schema and `syncdb schema set` a new version",
            p.db,
            p.collection,
            def.spec()
        )));
    }
    let change = IndexChange::Drop {
        collection: p.collection.clone(),
        fields: fields.clone(),
    };
    match replica.index(change).await.map_err(replica_error)? {
        Some((def, _)) => info(&replica, &def),
        None => Err(no_index(&p.db, &p.collection, &fields, &defs)),
    }
}

fn no_index(db: &Name, collection: &Name, fields: &[String], defs: &[IndexDef]) -> RpcError {
    let here: Vec<String> = defs
        .iter()
        .filter(|d| &d.collection == collection)
        .map(IndexDef::spec)
        .collect();
    not_found(format!(
        "no index {db}/{collection}({}); {}",
        fields.join(","),
        match here.is_empty() {
            true => format!("{db}/{collection} has none"),
            false => format!("{db}/{collection} has: {}", here.join("; ")),
        }
    ))
}

/// The replicas `index ls` and `index check` look at.
fn targets(
    state: &State,
    folder: &Folder,
    p: &IndexLsParams,
) -> Result<Vec<Arc<Replica>>, RpcError> {
    let mut out = Vec::new();
    for name in super::handlers::one_or_all(state, folder, p.db.as_ref())? {
        match state.replicas.get(folder, &name, false) {
            Ok(Some(r)) => out.push(r),
            Ok(None) if p.db.is_some() => return Err(super::handlers::no_database(&name, folder)),
            Ok(None) => {}
            // One database that cannot be read does not hide the others.
            Err(e) if p.db.is_none() => tracing::warn!(db = %name, error = %e, "index ls skips it"),
            Err(e) => return Err(replica_error(e)),
        }
    }
    Ok(out)
}

/// Blocking: reads each database's list of indexes and counts.
pub fn ls(state: &State, p: IndexLsParams) -> Result<IndexListOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let mut indexes = Vec::new();
    for replica in targets(state, &folder, &p)? {
        let defs = replica
            .reader
            .indexes()
            .map_err(|e| replica_error(replica.store_error(e)))?;
        for def in defs
            .iter()
            .filter(|d| p.collection.as_ref().is_none_or(|c| c == &d.collection))
        {
            indexes.push(info(&replica, def)?);
        }
    }
    Ok(IndexListOutput { indexes })
}

/// Blocking: reads every entry of every index asked for, and its records.
pub fn check(state: &State, p: IndexLsParams) -> Result<IndexCheckOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let mut indexes = Vec::new();
    for replica in targets(state, &folder, &p)? {
        let fail = |e| replica_error(replica.store_error(e));
        for def in replica
            .reader
            .indexes()
            .map_err(fail)?
            .iter()
            .filter(|d| p.collection.as_ref().is_none_or(|c| c == &d.collection))
        {
            let (entries, problems) = replica.reader.check_index(def).map_err(fail)?;
            indexes.push(IndexChecked {
                index: info(&replica, def)?,
                entries,
                problems,
            });
        }
    }
    Ok(IndexCheckOutput { indexes })
}
