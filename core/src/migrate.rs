//! Migration steps: what a replica does to its data when it moves to a new
//! schema version. Each step is a pure function of one record's merged
//! state that yields ordinary record states to merge (DESIGN.md), so its
//! writes sync and merge like any others.
//!
//! The versions of those writes are derived from the record, not from the
//! clock: a field moved by `rename_field` gets its old version plus one
//! tick, under the site of the replica that runs the step. Two replicas
//! running the same step over the same record write the same values with
//! the same order among them, and a write made elsewhere after the value
//! the step moved (a newer `fullname` from a replica still on the old
//! version) stays newer than the step's own writes, wins, and is moved in
//! turn when that replica runs the step. So the steps commute with
//! concurrent writes and with each other (the simulator in
//! `tests/migrate_sim.rs` checks it), and running one twice does nothing
//! the second time.

use serde::Deserialize;

use crate::doc::Document;
use crate::names::{Key, Name};
use crate::record::{Field, RecordState, Whole, WholeOp};
use crate::version::{SiteId, Version};

/// One step as a schema file writes it (`[[migrate]]` with an `op`).
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepFile {
    RenameField {
        collection: String,
        from: String,
        to: String,
    },
    SetDefault {
        collection: String,
        field: String,
        value: serde_json::Value,
    },
    RemoveField {
        collection: String,
        field: String,
    },
    RenameCollection {
        from: String,
        to: String,
    },
    RemoveCollection {
        collection: String,
    },
    ChangeKeyPath {
        collection: String,
        key_path: String,
    },
}

/// A checked step. Field names are top-level fields of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    RenameField {
        collection: Name,
        from: String,
        to: String,
    },
    /// Sets `field` to `value` (minified JSON) where a record lacks it or
    /// holds `null`.
    SetDefault {
        collection: Name,
        field: String,
        value: String,
    },
    RemoveField {
        collection: Name,
        field: String,
    },
    RenameCollection {
        from: Name,
        to: Name,
    },
    RemoveCollection {
        collection: Name,
    },
    /// Moves each record to the key its document holds at `key_path`.
    ChangeKeyPath {
        collection: Name,
        key_path: Vec<String>,
    },
}

/// What one step would do to a database's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepPlan {
    pub step: Step,
    /// Records the step writes to (or removes).
    pub touched: u64,
    /// Of those, records where a value is lost.
    pub lost: u64,
    /// Records a re-key leaves under their key: their document holds no
    /// usable key at the new path.
    pub kept: u64,
}

/// Lists a collection's records (tombstones too) for [`plan`].
pub type RecordsOf<'a> = dyn FnMut(&Name) -> crate::store::Result<Vec<(Key, RecordState)>> + 'a;

/// Counts what `steps` would touch and lose, each over the data as it
/// stands (not after the steps before it). `records` lists a collection's
/// records, tombstones too; `exists` says whether one is visible.
pub fn plan(
    steps: &[Step],
    records: &mut RecordsOf<'_>,
    exists: &mut dyn FnMut(&Name, &Key) -> crate::store::Result<bool>,
) -> crate::store::Result<Vec<StepPlan>> {
    let mut out = Vec::with_capacity(steps.len());
    for step in steps {
        let mut plan = StepPlan {
            step: step.clone(),
            touched: 0,
            lost: 0,
            kept: 0,
        };
        for (key, state) in records(step.source())? {
            if let Step::ChangeKeyPath { .. } = step
                && state.exists()
                && step.new_key(&state).is_none()
            {
                plan.kept += 1;
            }
            if !step.touches(&key, &state) {
                continue;
            }
            plan.touched += 1;
            let mut failed = None;
            let mut seen = |c: &Name, k: &Key| {
                exists(c, k).unwrap_or_else(|e| {
                    failed = Some(e);
                    false
                })
            };
            let lost = step.loses(&key, &state, &mut seen);
            if let Some(e) = failed {
                return Err(e);
            }
            plan.lost += u64::from(lost);
        }
        out.push(plan);
    }
    Ok(out)
}

/// A record state a step merges at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub collection: Name,
    pub key: Key,
    pub state: RecordState,
}

fn collection(what: &str, name: &str) -> Result<Name, String> {
    let name = Name::parse_as("collection", name).map_err(|e| format!("{what}: {e}"))?;
    if name.as_str() == crate::schema::COLLECTION {
        return Err(format!(
            "{what}: {} holds the schema itself; a step cannot touch it",
            crate::schema::COLLECTION
        ));
    }
    Ok(name)
}

fn field(what: &str, name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err(format!("{what} is empty; name a top-level field"));
    }
    Ok(name.to_owned())
}

impl StepFile {
    /// Checks the step against the schema it belongs to.
    pub fn check(
        self,
        collections: &std::collections::BTreeMap<Name, crate::schema::Collection>,
    ) -> Result<Step, String> {
        Ok(match self {
            StepFile::RenameField {
                collection: c,
                from,
                to,
            } => {
                let (from, to) = (field("from", &from)?, field("to", &to)?);
                if from == to {
                    return Err(format!("rename_field renames {from:?} to itself"));
                }
                Step::RenameField {
                    collection: collection("collection", &c)?,
                    from,
                    to,
                }
            }
            StepFile::SetDefault {
                collection: c,
                field: f,
                value,
            } => Step::SetDefault {
                collection: collection("collection", &c)?,
                field: field("field", &f)?,
                value: value.to_string(),
            },
            StepFile::RemoveField {
                collection: c,
                field: f,
            } => Step::RemoveField {
                collection: collection("collection", &c)?,
                field: field("field", &f)?,
            },
            StepFile::RenameCollection { from, to } => {
                let (from, to) = (collection("from", &from)?, collection("to", &to)?);
                if from == to {
                    return Err(format!("rename_collection renames {from} to itself"));
                }
                Step::RenameCollection { from, to }
            }
            StepFile::RemoveCollection { collection: c } => Step::RemoveCollection {
                collection: collection("collection", &c)?,
            },
            StepFile::ChangeKeyPath {
                collection: c,
                key_path,
            } => {
                let c = collection("collection", &c)?;
                let declared = collections.get(&c).map(|d| d.key_path.join("."));
                if declared.as_deref() != Some(key_path.as_str()) {
                    return Err(format!(
                        "change_key_path moves {c} to key path {key_path:?}, but the schema {}",
                        match declared {
                            Some(d) => format!("gives {c} the key path {d:?}: make them agree"),
                            None => format!("does not name {c}: add [collections.{c}]"),
                        }
                    ));
                }
                Step::ChangeKeyPath {
                    collection: c,
                    key_path: key_path.split('.').map(str::to_owned).collect(),
                }
            }
        })
    }
}

/// One tick after `hlc`, under `me`: newer than the write it follows,
/// older than anything written after it elsewhere.
fn after(hlc: u64, me: SiteId) -> Version {
    Version {
        hlc: hlc.saturating_add(1),
        site: me,
    }
}

/// The visible value of a top-level field (`None`: absent or removed).
fn visible<'a>(state: &'a RecordState, name: &str) -> Option<&'a Field> {
    if !state.exists() {
        return None;
    }
    state.fields.get(name).filter(|f| f.value.is_some())
}

/// The record re-stated at `me`: every part one tick later, so it merges
/// into another address with the same order among its parts. A whole
/// `Delete` is not carried: the record is there (it exists), and a delete
/// a step left behind must not remove what the same step copied.
fn restated(state: &RecordState, me: SiteId) -> RecordState {
    let whole = state.whole.filter(|w| w.op == WholeOp::Put).map(|w| Whole {
        op: WholeOp::Put,
        version: after(w.version.hlc, me),
    });
    let fields = state
        .fields
        .iter()
        .map(|(name, f)| {
            let field = Field {
                value: f.value.clone(),
                version: after(f.version.hlc, me),
            };
            (name.clone(), field)
        })
        .collect();
    RecordState { whole, fields }
}

/// Where a moved record goes away from: deleted one tick after its newest
/// part, so a later write to it elsewhere survives (and moves in turn).
fn moved_away(state: &RecordState, me: SiteId) -> RecordState {
    let newest = state.max_version().map_or(0, |v| v.hlc);
    RecordState::delete(after(newest, me))
}

fn fields(parts: Vec<(String, Field)>) -> RecordState {
    RecordState {
        whole: None,
        fields: parts.into_iter().collect(),
    }
}

impl Step {
    /// The collection whose records the step reads.
    pub fn source(&self) -> &Name {
        match self {
            Step::RenameField { collection, .. }
            | Step::SetDefault { collection, .. }
            | Step::RemoveField { collection, .. }
            | Step::RemoveCollection { collection }
            | Step::ChangeKeyPath { collection, .. } => collection,
            Step::RenameCollection { from, .. } => from,
        }
    }

    /// True for steps whose purpose is to drop data.
    pub fn drops_data(&self) -> bool {
        matches!(
            self,
            Step::RemoveField { .. } | Step::RemoveCollection { .. }
        )
    }

    /// The writes the step makes for the record at `key` of
    /// [`Step::source`], as run by replica `me`. `RemoveCollection` makes
    /// none here: it is a drop marker (see `db.rs`).
    pub fn edits(&self, key: &Key, state: &RecordState, me: SiteId) -> Vec<Edit> {
        let at = |collection: &Name, key: &Key, state| Edit {
            collection: collection.clone(),
            key: key.clone(),
            state,
        };
        match self {
            Step::RenameField {
                collection,
                from,
                to,
            } => {
                // A value moves; so does a removal of the old field newer
                // than the new one (a `null` from a replica still on the
                // old version), or the new field would keep a value that
                // replica removed.
                let f = match state.fields.get(from) {
                    Some(f) if f.value.is_some() => match visible(state, from) {
                        Some(f) => f,
                        None => return Vec::new(),
                    },
                    Some(f)
                        if state
                            .fields
                            .get(to)
                            .is_none_or(|t| t.version.hlc < f.version.hlc) =>
                    {
                        f
                    }
                    _ => return Vec::new(),
                };
                let v = after(f.version.hlc, me);
                let moved = Field {
                    value: f.value.clone(),
                    version: v,
                };
                let gone = Field {
                    value: None,
                    version: v,
                };
                vec![at(
                    collection,
                    key,
                    fields(vec![(to.clone(), moved), (from.clone(), gone)]),
                )]
            }
            Step::SetDefault {
                collection,
                field,
                value,
            } => {
                if !state.exists()
                    || visible(state, field).is_some_and(|f| f.value.as_deref() != Some("null"))
                {
                    return Vec::new();
                }
                let whole = state.whole.map_or(0, |w| w.version.hlc);
                let own = state.fields.get(field).map_or(0, |f| f.version.hlc);
                let set = Field {
                    value: Some(value.as_str().into()),
                    version: after(whole.max(own), me),
                };
                vec![at(collection, key, fields(vec![(field.clone(), set)]))]
            }
            Step::RemoveField { collection, field } => {
                let Some(f) = visible(state, field) else {
                    return Vec::new();
                };
                let gone = Field {
                    value: None,
                    version: after(f.version.hlc, me),
                };
                vec![at(collection, key, fields(vec![(field.clone(), gone)]))]
            }
            Step::RenameCollection { from, to } => {
                if !state.exists() {
                    return Vec::new();
                }
                vec![
                    at(to, key, restated(state, me)),
                    at(from, key, moved_away(state, me)),
                ]
            }
            Step::RemoveCollection { .. } => Vec::new(),
            Step::ChangeKeyPath { collection, .. } => match self.new_key(state) {
                Some(new) if new != *key => {
                    vec![
                        at(collection, &new, restated(state, me)),
                        at(collection, key, moved_away(state, me)),
                    ]
                }
                _ => Vec::new(),
            },
        }
    }

    /// For `ChangeKeyPath`: the key the record's document holds at the new
    /// path, if it holds a usable one.
    pub fn new_key(&self, state: &RecordState) -> Option<Key> {
        let Step::ChangeKeyPath { key_path, .. } = self else {
            return None;
        };
        let doc = Document::parse(&state.visible_json()?, usize::MAX).ok()?;
        doc.key_at(&key_path.join(".")).ok().flatten()
    }

    /// Whether running the step on this record loses a value: a field it
    /// removes, or two values that meet at one address (a renamed field
    /// that was already there, a record moved onto one that exists).
    /// `exists` tells whether a record is visible at an address.
    pub fn loses(
        &self,
        key: &Key,
        state: &RecordState,
        exists: &mut dyn FnMut(&Name, &Key) -> bool,
    ) -> bool {
        if !state.exists() {
            return false;
        }
        match self {
            Step::RenameField { from, to, .. } => {
                visible(state, from).is_some() && visible(state, to).is_some()
            }
            Step::SetDefault { .. } => false,
            Step::RemoveField { field, .. } => visible(state, field).is_some(),
            Step::RemoveCollection { .. } => true,
            Step::RenameCollection { to, .. } => exists(to, key),
            Step::ChangeKeyPath { collection, .. } => match self.new_key(state) {
                Some(new) if new != *key => exists(collection, &new),
                _ => false,
            },
        }
    }

    /// Whether the step does anything to this record.
    pub fn touches(&self, key: &Key, state: &RecordState) -> bool {
        match self {
            Step::RemoveCollection { .. } => state.exists(),
            _ => !self.edits(key, state, SiteId::default()).is_empty(),
        }
    }

    /// The step as it is stored (in the schema's canonical form).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Step::RenameField {
                collection,
                from,
                to,
            } => {
                json!({"op": "rename_field", "collection": collection.as_str(), "from": from, "to": to})
            }
            Step::SetDefault {
                collection,
                field,
                value,
            } => {
                let value: serde_json::Value =
                    serde_json::from_str(value).expect("a checked JSON value");
                json!({"op": "set_default", "collection": collection.as_str(), "field": field, "value": value})
            }
            Step::RemoveField { collection, field } => {
                json!({"op": "remove_field", "collection": collection.as_str(), "field": field})
            }
            Step::RenameCollection { from, to } => {
                json!({"op": "rename_collection", "from": from.as_str(), "to": to.as_str()})
            }
            Step::RemoveCollection { collection } => {
                json!({"op": "remove_collection", "collection": collection.as_str()})
            }
            Step::ChangeKeyPath {
                collection,
                key_path,
            } => {
                json!({"op": "change_key_path", "collection": collection.as_str(), "key_path": key_path.join(".")})
            }
        }
    }

    /// The step in words, for `schema diff` and `schema set`.
    pub fn describe(&self) -> String {
        match self {
            Step::RenameField {
                collection,
                from,
                to,
            } => format!("rename field {collection}.{from} to {to}"),
            Step::SetDefault {
                collection,
                field,
                value,
            } => format!("set {collection}.{field} to {value} where it is missing"),
            Step::RemoveField { collection, field } => {
                format!("remove field {collection}.{field}")
            }
            Step::RenameCollection { from, to } => format!("rename collection {from} to {to}"),
            Step::RemoveCollection { collection } => format!("remove collection {collection}"),
            Step::ChangeKeyPath {
                collection,
                key_path,
            } => format!("re-key {collection} by {}", key_path.join(".")),
        }
    }
}
