//! A database's schema: its name, an integer version, and its collections,
//! each with a key path and optionally a JSON Schema for its documents.
//!
//! This module is pure: a schema is parsed from a TOML or JSON file, checked
//! once (every JSON Schema compiled, so a bad one is refused before it is
//! stored anywhere), hashed from a canonical form (so two replicas can tell
//! "same version, different content" apart), and asked whether a document
//! may be written. Where the schema is kept, how it syncs and what a merge
//! does with a violation are the daemon's business (DESIGN.md: merges are
//! never refused for breaking a schema).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use sha2::Digest;

use crate::doc::Document;
use crate::names::Name;

/// The key path when a collection names none.
pub const DEFAULT_KEY_PATH: &str = "_id";

/// The collection that holds a database's schema: one record per version,
/// keyed by [`record_key`], so it syncs and merges like any record and every
/// replica sees the same versions. Local writes to it go through
/// `schema set` only.
pub const COLLECTION: &str = "_schema";

/// What this binary's schemas need of a reader. A schema is stored with its
/// format; a replica whose syncdb reads an older format refuses that
/// database's schema with a reason instead of half-understanding it.
pub const FORMAT: u32 = 1;

/// The schema collection's name.
pub fn collection() -> Name {
    Name::parse_as("collection", COLLECTION).expect("a valid name")
}

/// The key of version `version`'s record: zero-padded, so key order is
/// version order and the last record is the newest version.
pub fn record_key(version: u64) -> crate::Key {
    crate::Key::parse(&format!("{version:020}")).expect("digits are a valid key")
}

/// The version a schema record's key names.
pub fn key_version(key: &crate::Key) -> Option<u64> {
    let text = key.as_str();
    (text.len() == 20 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Tells two schema texts apart: the first 16 bytes of their SHA-256, in hex.
pub fn text_hash(text: &str) -> String {
    hex16(&sha2::Sha256::digest(text.as_bytes()))
}

/// JSON Schema drafts the validator knows; a schema's `$schema` picks one,
/// and 2020-12 is assumed without it.
pub const DRAFTS: &str = "4, 6, 7, 2019-09 and 2020-12";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct SchemaError {
    /// `line:column` in the file, where the format tells it.
    pub location: Option<Location>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl SchemaError {
    fn at(location: Option<Location>, message: impl Into<String>) -> Self {
        SchemaError {
            location,
            message: message.into(),
        }
    }
}

/// The newest schema version among a chunk's records, as an ad.
pub fn top(items: &[crate::Item]) -> Option<crate::sync::wire::SchemaAd> {
    let coll = collection();
    items
        .iter()
        .filter_map(|item| match item {
            crate::Item::Record {
                collection,
                key,
                state,
            } if *collection == coll => Some(crate::sync::wire::SchemaAd {
                version: key_version(key)?,
                hash: text_hash(&state.visible_json()?),
                format: FORMAT,
            }),
            _ => None,
        })
        .max_by_key(|a| a.version)
}

/// Whether a chunk from a peer brings our newest schema version with other
/// content: (version, our hash, theirs). Merging it would pick one of the
/// two by clock, silently, so the session ends instead and the next
/// handshake stops the database on both sides. Not when the peer is known
/// to be past that version (an older version merges as any record), nor
/// when it is known to hold our very schema: a peer that agrees with us
/// merges another content of our version only from a replica already past
/// it (it stops anyone else), so the newer version follows.
pub fn clash(
    ours: Option<&crate::sync::wire::SchemaAd>,
    peer: Option<&crate::sync::wire::SchemaAd>,
    items: &[crate::Item],
) -> Option<(u64, String, String)> {
    let incoming = top(items)?;
    let ours = ours?;
    if peer == Some(ours) || peer.is_some_and(|p| p.version > incoming.version) {
        return None;
    }
    (ours.version == incoming.version && ours.hash != incoming.hash)
        .then(|| (incoming.version, ours.hash.clone(), incoming.hash))
}

/// Why a database stops syncing when both sides edited its schema apart.
pub fn conflict_reason(db: &Name, version: u64, ours: &str, theirs: &str) -> String {
    format!(
        "schema conflict: {db} has schema version {version} here and on the peer, with different content (here {}, there {}); set a higher version on one side (`syncdb schema set {db} FILE` with version {}) and both sync again",
        &ours[..ours.len().min(12)],
        &theirs[..theirs.len().min(12)],
        version + 1
    )
}

/// A database's schema as its replica holds it: the newest version among
/// its schema records.
#[derive(Debug, Clone, Default)]
pub enum Head {
    #[default]
    None,
    Set(std::sync::Arc<Schema>),
    /// The newest record does not read here: a newer syncdb wrote it, or it
    /// is not a schema. Local writes to the database are refused with
    /// `reason` until this binary can read it.
    Unreadable {
        version: u64,
        hash: String,
        /// The format it says it needs (ours, when it says nothing readable).
        format: u32,
        reason: String,
    },
}

impl Head {
    /// The newest of a database's schema records, given as (key, JSON) in
    /// key order.
    pub fn of(records: impl IntoIterator<Item = (crate::Key, String)>) -> Head {
        let newest = records
            .into_iter()
            .filter_map(|(k, json)| key_version(&k).map(|v| (v, k, json)))
            .max_by_key(|(v, _, _)| *v);
        let Some((version, key, json)) = newest else {
            return Head::None;
        };
        match Schema::from_record(&key, &json) {
            Ok(s) => Head::Set(std::sync::Arc::new(s)),
            Err(reason) => Head::Unreadable {
                version,
                hash: text_hash(&json),
                format: serde_json::from_str::<serde_json::Value>(&json)
                    .ok()
                    .and_then(|v| v.get("format")?.as_u64())
                    .and_then(|f| u32::try_from(f).ok())
                    .unwrap_or(FORMAT),
                reason,
            },
        }
    }

    /// 0 when there is no schema.
    pub fn version(&self) -> u64 {
        match self {
            Head::None => 0,
            Head::Set(s) => s.version,
            Head::Unreadable { version, .. } => *version,
        }
    }

    pub fn hash(&self) -> Option<&str> {
        match self {
            Head::None => None,
            Head::Set(s) => Some(s.hash()),
            Head::Unreadable { hash, .. } => Some(hash),
        }
    }

    /// What the sync handshake says of it.
    pub fn ad(&self) -> Option<crate::sync::wire::SchemaAd> {
        Some(crate::sync::wire::SchemaAd {
            version: self.version(),
            hash: self.hash()?.to_owned(),
            format: match self {
                Head::Unreadable { format, .. } => *format,
                _ => FORMAT,
            },
        })
    }

    pub fn schema(&self) -> Option<&std::sync::Arc<Schema>> {
        match self {
            Head::Set(s) => Some(s),
            _ => None,
        }
    }
}

/// Which syntax a schema file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// By the file's extension (`.toml`, `.json`), else by its first
    /// character: a JSON file starts with `{`.
    pub fn detect(file_name: &str, text: &str) -> Format {
        if file_name.ends_with(".json") {
            Format::Json
        } else if file_name.ends_with(".toml") {
            Format::Toml
        } else if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// The file as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    name: String,
    version: i64,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    collections: BTreeMap<String, CollectionFile>,
    /// Steps from the previous version to this one.
    #[serde(default)]
    migrate: Vec<crate::migrate::StepFile>,
    /// Written into stored schemas; a file may leave it out.
    format: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectionFile {
    key_path: Option<String>,
    schema: Option<serde_json::Value>,
    /// Indexes, each `field[,field…]` as `syncdb index create` takes them.
    #[serde(default)]
    indexes: Vec<String>,
}

/// A checked schema.
#[derive(Debug, Clone)]
pub struct Schema {
    pub name: Name,
    pub version: u64,
    /// Refuse writes to collections the schema does not name.
    pub strict: bool,
    pub collections: BTreeMap<Name, Collection>,
    /// What a replica does to its data when it moves to this version.
    pub migrate: Vec<crate::migrate::Step>,
    hash: String,
}

#[derive(Debug, Clone)]
pub struct Collection {
    /// Dotted path of the field that holds a record's key (`meta.id`).
    pub key_path: Vec<String>,
    /// The JSON Schema as given (canonical JSON), if any.
    pub json_schema: Option<serde_json::Value>,
    /// The indexes every replica keeps on it: field paths each.
    pub indexes: Vec<Vec<String>>,
    validator: Option<std::sync::Arc<jsonschema::Validator>>,
}

/// Why a document may not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error(
        "collection {collection} is not in schema {schema} (strict): allowed collections: {allowed}"
    )]
    UnknownCollection {
        schema: String,
        collection: String,
        allowed: String,
    },
    /// `pointer` is a JSON pointer into the document ("" is the whole of it).
    #[error("{}: {rule}", if pointer.is_empty() { "the document".to_owned() } else { format!("at {pointer}") })]
    Rule { pointer: String, rule: String },
}

/// Where the value at `path` (`["collections", "p", "key_path"]`) is in a
/// TOML text; serde_json keeps no positions, so JSON files have none.
fn toml_location(text: &str, path: &[&str]) -> Option<Location> {
    use toml::de::{DeTable, DeValue};
    let table = DeTable::parse(text).ok()?;
    let mut table = table.get_ref();
    let mut span = None;
    for (i, part) in path.iter().enumerate() {
        let (_, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *part)?;
        span = Some(value.span());
        match value.get_ref() {
            DeValue::Table(t) if i + 1 < path.len() => table = t,
            _ if i + 1 < path.len() => return None,
            _ => {}
        }
    }
    Some(location(text, span?.start))
}

/// Where the `index`th `[[migrate]]` table starts in a TOML text.
fn toml_step_location(text: &str, index: usize) -> Option<Location> {
    use toml::de::{DeTable, DeValue};
    let table = DeTable::parse(text).ok()?;
    let (_, steps) = table
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == "migrate")?;
    let DeValue::Array(steps) = steps.get_ref() else {
        return None;
    };
    Some(location(text, steps.get(index)?.span().start))
}

/// Byte offset → 1-based line and column (in characters).
fn location(text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Location { line, column }
}

impl Schema {
    /// Parses and checks a schema file's text.
    pub fn parse(text: &str, format: Format) -> Result<Schema, SchemaError> {
        let file: SchemaFile = match format {
            Format::Toml => toml::from_str(text).map_err(|e| {
                let at = e.span().map(|s| location(text, s.start));
                SchemaError::at(at, e.message().trim_end().to_owned())
            })?,
            Format::Json => serde_json::from_str(text).map_err(|e| {
                let at = Location {
                    line: e.line(),
                    column: e.column(),
                };
                let message = e.to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map(|(m, _)| m.to_owned())
                    .unwrap_or(message);
                SchemaError::at(Some(at), message)
            })?,
        };
        let at = |path: &[&str]| match format {
            Format::Toml => toml_location(text, path),
            Format::Json => None,
        };
        if let Some(f) = file.format.filter(|f| *f != FORMAT) {
            return Err(SchemaError::at(
                at(&["format"]),
                format!(
                    "schema format {f} is not one this syncdb reads (it reads format {FORMAT}){}",
                    if f > FORMAT { ": upgrade syncdb" } else { "" }
                ),
            ));
        }
        let name = Name::parse_as("schema name", &file.name)
            .map_err(|e| SchemaError::at(at(&["name"]), e.to_string()))?;
        let version = u64::try_from(file.version)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                SchemaError::at(
                    at(&["version"]),
                    format!(
                        "version must be a whole number from 1 up, not {}",
                        file.version
                    ),
                )
            })?;
        let mut collections = BTreeMap::new();
        for (coll_name, coll) in file.collections {
            let here = ["collections", coll_name.as_str()];
            let cname = Name::parse_as("collection", &coll_name)
                .map_err(|e| SchemaError::at(at(&here), format!("collections.{coll_name}: {e}")))?;
            if cname.as_str() == COLLECTION {
                return Err(SchemaError::at(
                    at(&here),
                    format!(
                        "collections.{COLLECTION}: the name is the schema's own collection; choose another"
                    ),
                ));
            }
            let key_path = match &coll.key_path {
                None => vec![DEFAULT_KEY_PATH.to_owned()],
                Some(path) => parse_key_path(path).map_err(|m| {
                    let at = at(&[here[0], here[1], "key_path"]);
                    SchemaError::at(at, format!("collections.{cname}.key_path: {m}"))
                })?,
            };
            let (json_schema, validator) = match coll.schema {
                None => (None, None),
                Some(value) => {
                    let validator = compile(&value).map_err(|m| {
                        let at = at(&[here[0], here[1], "schema"]);
                        SchemaError::at(at, format!("collections.{cname}.schema: {m}"))
                    })?;
                    (Some(value), Some(std::sync::Arc::new(validator)))
                }
            };
            let mut indexes: Vec<Vec<String>> = Vec::with_capacity(coll.indexes.len());
            for (i, spec) in coll.indexes.iter().enumerate() {
                let fields = crate::index::parse_fields(spec)
                    .ok()
                    .filter(|f| !indexes.contains(f))
                    .ok_or_else(|| {
                        let why = crate::index::parse_fields(spec)
                            .err()
                            .unwrap_or_else(|| "it is declared twice".into());
                        let at = at(&[here[0], here[1], "indexes"]);
                        SchemaError::at(
                            at,
                            format!("collections.{cname}.indexes[{i}] ({spec:?}): {why}"),
                        )
                    })?;
                indexes.push(fields);
            }
            collections.insert(
                cname,
                Collection {
                    key_path,
                    json_schema,
                    indexes,
                    validator,
                },
            );
        }
        let mut migrate = Vec::with_capacity(file.migrate.len());
        for (i, step) in file.migrate.into_iter().enumerate() {
            let step = step.check(&collections).map_err(|m| {
                let at = match format {
                    Format::Toml => toml_step_location(text, i),
                    Format::Json => None,
                };
                SchemaError::at(at, format!("migrate step {}: {m}", i + 1))
            })?;
            if let crate::migrate::Step::RenameCollection { to, .. } = &step
                && file.strict
                && !collections.contains_key(to)
            {
                let at = match format {
                    Format::Toml => toml_step_location(text, i),
                    Format::Json => None,
                };
                return Err(SchemaError::at(
                    at,
                    format!(
                        "migrate step {}: renames a collection to {to}, which this strict schema does not name: add [collections.{to}]",
                        i + 1
                    ),
                ));
            }
            migrate.push(step);
        }
        let mut schema = Schema {
            name,
            version,
            strict: file.strict,
            collections,
            migrate,
            hash: String::new(),
        };
        schema.hash = text_hash(&schema.canonical());
        Ok(schema)
    }

    /// The schema as one line of JSON with sorted keys: what is stored and
    /// sent, and what the hash is of. Parsing it gives an equal schema.
    pub fn canonical(&self) -> String {
        let collections: serde_json::Map<String, serde_json::Value> = self
            .collections
            .iter()
            .map(|(name, c)| {
                let mut v = serde_json::json!({"key_path": c.key_path.join(".")});
                if let Some(s) = &c.json_schema {
                    v["schema"] = s.clone();
                }
                // Left out when empty, so schemas written before indexes
                // keep their hash.
                if !c.indexes.is_empty() {
                    let specs: Vec<String> = c.indexes.iter().map(|f| f.join(",")).collect();
                    v["indexes"] = specs.into();
                }
                (name.as_str().to_owned(), v)
            })
            .collect();
        let migrate: Vec<serde_json::Value> = self.migrate.iter().map(|s| s.to_json()).collect();
        serde_json::json!({
            "format": FORMAT,
            "name": self.name.as_str(),
            "version": self.version,
            "strict": self.strict,
            "collections": collections,
            "migrate": migrate,
        })
        .to_string()
    }

    /// The record this schema is stored as (its canonical form).
    pub fn to_document(&self) -> Document {
        Document::parse(&self.canonical(), usize::MAX).expect("the canonical form is a JSON object")
    }

    /// Reads a stored schema record: the record at `key` holding `json`.
    /// A format this binary does not read, or content that does not check,
    /// is an error that says so (a newer syncdb wrote it, or a peer sent
    /// something that is not a schema).
    pub fn from_record(key: &crate::Key, json: &str) -> Result<Schema, String> {
        // The format first: a newer one may hold fields this binary does
        // not know, and "unknown field" would hide the real reason.
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        if let Some(f) = format.filter(|f| *f > u64::from(FORMAT)) {
            return Err(format!(
                "it needs schema format {f}, and this syncdb reads format {FORMAT}: upgrade syncdb"
            ));
        }
        let schema = Schema::parse(json, Format::Json).map_err(|e| e.message)?;
        if key_version(key) != Some(schema.version) {
            return Err(format!(
                "the record {key} holds version {}, not the version its key names",
                schema.version
            ));
        }
        Ok(schema)
    }

    /// Tells two schemas of the same version apart: the first 16 bytes of
    /// the SHA-256 of [`Schema::canonical`], in hex.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Whether `doc` may be written to `collection`: the first broken rule.
    pub fn check(&self, collection: &Name, doc: &Document) -> Result<(), Violation> {
        let Some(coll) = self.collections.get(collection) else {
            if !self.strict {
                return Ok(());
            }
            let allowed: Vec<&str> = self.collections.keys().map(Name::as_str).collect();
            return Err(Violation::UnknownCollection {
                schema: self.name.as_str().to_owned(),
                collection: collection.as_str().to_owned(),
                allowed: if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                },
            });
        };
        let Some(validator) = &coll.validator else {
            return Ok(());
        };
        let value = doc.to_value();
        // The common case first: `is_valid` stops early and builds no error.
        if validator.is_valid(&value) {
            return Ok(());
        }
        match validator.iter_errors(&value).next() {
            None => Ok(()),
            Some(e) => Err(Violation::Rule {
                pointer: e.instance_path().to_string(),
                rule: e.to_string(),
            }),
        }
    }
}

impl Schema {
    /// Whether `key` agrees with the key the document holds at its
    /// collection's key path (a document without one may have any key).
    pub fn check_key(
        &self,
        collection: &Name,
        key: &crate::Key,
        doc: &Document,
    ) -> Result<(), Violation> {
        let Some(coll) = self.collections.get(collection) else {
            return Ok(());
        };
        let path = coll.key_path.join(".");
        match doc.key_at(&path) {
            Ok(Some(held)) if held != *key => Err(Violation::Rule {
                pointer: format!("/{}", coll.key_path.join("/")),
                rule: format!(
                    "the key {:?} differs from the document's {path} ({:?})",
                    key.as_str(),
                    held.as_str()
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// `a.b.c`: each part non-empty, at most 8 parts.
fn parse_key_path(path: &str) -> Result<Vec<String>, String> {
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) || parts.len() > 8 {
        return Err(format!(
            "{path:?} is not a key path: allowed are 1 to 8 field names joined by dots \
             (`_id`, `meta.id`), none empty"
        ));
    }
    Ok(parts)
}

/// Compiles a JSON Schema. No `$ref` leaves the schema: the validator is
/// built without file or network retrieval.
fn compile(value: &serde_json::Value) -> Result<jsonschema::Validator, String> {
    if !value.is_object() && !value.is_boolean() {
        return Err("a JSON Schema must be an object (or true/false)".to_owned());
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(value)
        .map_err(|e| {
            let e = e.to_string();
            if e.contains("resolve") || e.contains("resolver") {
                "a `$ref` to a file or URL is not allowed: a schema must be self-contained (`$ref` within it, to `#/...`, is)".to_owned()
            } else {
                format!("not a valid JSON Schema (drafts {DRAFTS}): {e}")
            }
        })
}

fn hex16(bytes: &[u8]) -> String {
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRM: &str = r#"
name = "crm"
version = 3

[collections.person]
schema = { type = "object", required = ["name"], properties = { name = { type = "string" }, age = { type = "integer", minimum = 0 } } }

[collections.org]
key_path = "meta.id"
"#;

    fn doc(json: &str) -> Document {
        Document::parse(json, 1 << 20).unwrap()
    }

    fn name(s: &str) -> Name {
        Name::parse_as("collection", s).unwrap()
    }

    #[test]
    fn a_toml_schema_parses_with_defaults() {
        let s = Schema::parse(CRM, Format::Toml).unwrap();
        assert_eq!((s.name.as_str(), s.version, s.strict), ("crm", 3, false));
        assert_eq!(s.collections[&name("person")].key_path, ["_id"]);
        assert_eq!(s.collections[&name("org")].key_path, ["meta", "id"]);
        assert_eq!(s.hash().len(), 32);
    }

    #[test]
    fn the_canonical_form_parses_back_to_the_same_hash_and_json_equals_toml() {
        let s = Schema::parse(CRM, Format::Toml).unwrap();
        let back = Schema::parse(&s.canonical(), Format::Json).unwrap();
        assert_eq!(back.canonical(), s.canonical());
        assert_eq!(back.hash(), s.hash());
        let other = Schema::parse(&CRM.replace("minimum = 0", "minimum = 1"), Format::Toml);
        assert_ne!(other.unwrap().hash(), s.hash(), "content is in the hash");
    }

    #[test]
    fn documents_are_checked_with_the_pointer_and_the_rule() {
        let s = Schema::parse(CRM, Format::Toml).unwrap();
        let person = name("person");
        assert_eq!(s.check(&person, &doc(r#"{"name":"Ada","age":36}"#)), Ok(()));
        let Err(Violation::Rule { pointer, rule }) =
            s.check(&person, &doc(r#"{"name":"Ada","age":-1}"#))
        else {
            panic!("a negative age is refused")
        };
        assert_eq!(pointer, "/age");
        assert!(rule.contains("minimum"), "{rule}");
        let Err(Violation::Rule { pointer, rule }) = s.check(&person, &doc(r#"{"age":1}"#)) else {
            panic!("a missing name is refused")
        };
        assert_eq!(pointer, "");
        assert!(rule.contains("\"name\" is a required property"), "{rule}");
        // Not named and not strict: anything goes.
        assert_eq!(s.check(&name("notes"), &doc("{}")), Ok(()));
    }

    #[test]
    fn strict_refuses_collections_it_does_not_name() {
        let s = Schema::parse(&format!("strict = true\n{CRM}"), Format::Toml).unwrap();
        let e = s.check(&name("notes"), &doc("{}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "collection notes is not in schema crm (strict): allowed collections: org, person"
        );
    }

    #[test]
    fn errors_name_the_line_and_column_and_what_is_allowed() {
        let cases: &[(&str, Format, &str)] = &[
            ("name = \"crm\"\nversion = \n", Format::Toml, "2:11: "),
            (
                "name = \"crm\"\nversion = 0\n",
                Format::Toml,
                "2:11: version must be a whole number from 1 up, not 0",
            ),
            ("name = \"c m\"\nversion = 1\n", Format::Toml, "1:8: "),
            (
                "name = \"crm\"\nversion = 1\ncolour = 2\n",
                Format::Toml,
                "3:1: unknown field `colour`",
            ),
            (
                "name = \"crm\"\nversion = 1\n[collections.p]\nkey_path = \"a..b\"\n",
                Format::Toml,
                "4:12: collections.p.key_path: \"a..b\" is not a key path",
            ),
            (
                "name = \"crm\"\nversion = 1\n[collections.p]\nschema = { type = \"nope\" }\n",
                Format::Toml,
                "4:10: collections.p.schema: not a valid JSON Schema",
            ),
            (
                "name = \"crm\"\nversion = 1\n[collections.p]\nschema = { \"$ref\" = \"http://example.com/s.json\" }\n",
                Format::Toml,
                "4:10: collections.p.schema: a `$ref` to a file or URL is not allowed",
            ),
            (
                "{\"name\": \"crm\",\n \"version\": }",
                Format::Json,
                "2:13: expected value",
            ),
        ];
        for (text, format, want) in cases {
            let e = Schema::parse(text, *format).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_stored_schema_reads_back_with_the_same_hash_and_a_newer_format_is_refused() {
        let s = Schema::parse(CRM, Format::Toml).unwrap();
        let stored = crate::record::RecordState::put(&s.to_document(), Default::default());
        let json = stored.visible_json().unwrap();
        assert_eq!(json, s.canonical(), "the record is the canonical text");
        assert_eq!(text_hash(&json), s.hash());
        let head = Head::of([(record_key(3), json.clone())]);
        assert_eq!((head.version(), head.hash()), (3, Some(s.hash())));
        let newer = json.replace("\"format\":1", "\"format\":2,\"lenses\":[]");
        let Head::Unreadable {
            version,
            format,
            reason,
            ..
        } = Head::of([(record_key(3), newer)])
        else {
            panic!("a newer format does not read")
        };
        assert_eq!((version, format), (3, 2));
        assert!(
            reason.contains("needs schema format 2") && reason.contains("upgrade syncdb"),
            "{reason}"
        );
        // A record whose key is not its version is not taken for it.
        assert!(Schema::from_record(&record_key(4), &json).is_err());
    }

    #[test]
    fn the_format_is_told_by_extension_then_content() {
        assert_eq!(Format::detect("s.json", "name = 1"), Format::Json);
        assert_eq!(Format::detect("s.toml", "{"), Format::Toml);
        assert_eq!(Format::detect("-", " {\"name\":1}"), Format::Json);
        assert_eq!(Format::detect("-", "name = 1"), Format::Toml);
    }
}
