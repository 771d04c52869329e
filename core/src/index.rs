//! Secondary indexes: which indexes a database has, and how an index entry
//! is laid out so that byte order is the query order.
//!
//! An index covers one collection and one or more field paths. Every
//! visible record of the collection has exactly one entry:
//!
//! ```text
//! id (4 bytes, big-endian) ‖ value of field 1 ‖ … ‖ value of field n ‖ key
//! ```
//!
//! Values are encoded so that comparing entries byte by byte gives
//! [`crate::query::compare`]'s order (a missing field first), and no
//! encoding is a prefix of another; the key is the rest of the entry (keys
//! hold no control characters, so no byte of one is 0x00). Every engine
//! keeps entries as plain ordered byte strings; what goes in them, and when,
//! is decided once, here and in `crate::db`, whose merges maintain them in
//! the transaction that changes the record.

use std::ops::Bound;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::names::{Key, Name};
use crate::query::{Condition, FieldPath, Op};

/// Where the list of a database's indexes is kept, in the engine's meta.
pub const META_NAME: &str = "indexes";

/// Most fields one index covers.
pub const MAX_FIELDS: usize = 8;

/// One index of a database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    /// The first four bytes of each of its entries; never reused.
    pub id: u32,
    pub collection: Name,
    pub fields: Vec<String>,
    pub state: IndexState,
    /// The schema version that declares it, if a schema does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<u64>,
    /// Made by `index create` (it stays when no schema declares it any
    /// more); an index only a schema made goes with the declaration.
    #[serde(default)]
    pub by_hand: bool,
}

/// Whether queries may use an index yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Entries exist for every record up to the build's progress (and for
    /// every record written since the index was created).
    Building,
    Ready,
}

/// How far a build is, kept beside the list under [`IndexDef::progress_name`]
/// (so a build step does not change the list that queries plan from).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildProgress {
    /// The last key read; the next step reads on from there.
    pub after: Option<Key>,
    /// Records read so far.
    pub done: u64,
}

impl BuildProgress {
    pub fn decode(bytes: Option<&[u8]>) -> Result<BuildProgress, String> {
        match bytes {
            None => Ok(BuildProgress::default()),
            Some(b) => {
                serde_json::from_slice(b).map_err(|e| format!("an index build's progress: {e}"))
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("progress serializes")
    }
}

impl IndexDef {
    pub fn paths(&self) -> Vec<FieldPath> {
        self.fields
            .iter()
            .map(|f| FieldPath::parse(f).expect("checked when the index was made"))
            .collect()
    }

    pub fn is_ready(&self) -> bool {
        self.state == IndexState::Ready
    }

    /// The meta name of its build's progress.
    pub fn progress_name(&self) -> String {
        format!("{META_NAME}.{}.progress", self.id)
    }

    /// `age,city`: how commands name it.
    pub fn spec(&self) -> String {
        self.fields.join(",")
    }

    fn prefix(&self) -> Vec<u8> {
        self.id.to_be_bytes().to_vec()
    }

    /// The entry of the record `key` holding `doc`.
    pub fn entry(&self, paths: &[FieldPath], key: &Key, doc: &Value) -> Vec<u8> {
        let mut out = self.prefix();
        for path in paths {
            encode_found(&mut out, path.get(doc));
        }
        out.extend_from_slice(key.as_str().as_bytes());
        out
    }

    /// Every entry of this index lies in `[all().0, all().1)`.
    pub fn all(&self) -> (Vec<u8>, Vec<u8>) {
        let lo = self.prefix();
        let hi = (self.id + 1).to_be_bytes().to_vec();
        (lo, hi)
    }

    /// The record key an entry of this index ends with.
    pub fn key_of(&self, entry: &[u8]) -> Option<Key> {
        let mut rest = entry.get(4..)?;
        for _ in &self.fields {
            rest = skip(rest)?;
        }
        Key::parse(std::str::from_utf8(rest).ok()?).ok()
    }
}

/// A database's indexes, as kept in the engine's meta under [`META_NAME`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexList {
    /// The id the next index gets (ids are never reused, so entries of a
    /// dropped index can never be read as another's).
    pub next_id: u32,
    pub indexes: Vec<IndexDef>,
}

impl IndexList {
    pub fn decode(bytes: Option<&[u8]>) -> Result<IndexList, String> {
        match bytes {
            None => Ok(IndexList::default()),
            Some(b) => serde_json::from_slice(b).map_err(|e| format!("the list of indexes: {e}")),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an index list serializes")
    }

    pub fn find(&self, collection: &Name, fields: &[String]) -> Option<&IndexDef> {
        self.indexes
            .iter()
            .find(|d| &d.collection == collection && d.fields == fields)
    }

    pub fn on<'a>(&'a self, collection: &'a Name) -> impl Iterator<Item = &'a IndexDef> + 'a {
        self.indexes
            .iter()
            .filter(move |d| &d.collection == collection)
    }

    pub fn building(&self) -> bool {
        self.indexes.iter().any(|d| !d.is_ready())
    }
}

/// Reads `age,city` (field paths joined by commas).
pub fn parse_fields(spec: &str) -> Result<Vec<String>, String> {
    let fields: Vec<&str> = spec.split(',').map(str::trim).collect();
    if fields.len() > MAX_FIELDS {
        return Err(format!(
            "an index covers at most {MAX_FIELDS} fields, not {}",
            fields.len()
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    for f in fields {
        let path = FieldPath::parse(f)?.to_string();
        if out.contains(&path) {
            return Err(format!("field {path} is named twice in {spec:?}"));
        }
        out.push(path);
    }
    Ok(out)
}

// Type tags, in the order of `query::compare`; 0x00 ends an array or object.
const END: u8 = 0x00;
const MISSING: u8 = 0x01;
const NULL: u8 = 0x02;
const FALSE: u8 = 0x03;
const TRUE: u8 = 0x04;
const NUMBER: u8 = 0x05;
const STRING: u8 = 0x06;
const ARRAY: u8 = 0x07;
const OBJECT: u8 = 0x08;
/// Starts each field of an object.
const FIELD: u8 = 0x01;
/// Greater than any byte that can follow an encoding's start (UTF-8 never
/// has 0xFF; escapes are 0x00 0xFF and come after a smaller byte), so
/// `P ‖ 0xFF` is above every entry that starts with `P`.
const ABOVE: u8 = 0xFF;

fn encode_found(out: &mut Vec<u8>, v: Option<&Value>) {
    match v {
        None => out.push(MISSING),
        Some(v) => encode(out, v),
    }
}

/// Appends the order-preserving encoding of `v`.
pub fn encode(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            out.push(NUMBER);
            out.extend_from_slice(&float_bytes(crate::query::number(n)));
        }
        Value::String(s) => {
            out.push(STRING);
            escaped(out, s);
            out.extend_from_slice(&[0x00, 0x01]);
        }
        Value::Array(items) => {
            out.push(ARRAY);
            for item in items {
                encode(out, item);
            }
            out.push(END);
        }
        Value::Object(fields) => {
            out.push(OBJECT);
            let mut sorted: Vec<_> = fields.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            for (name, value) in sorted {
                out.push(FIELD);
                escaped(out, name);
                out.extend_from_slice(&[0x00, 0x01]);
                encode(out, value);
            }
            out.push(END);
        }
    }
}

/// A string's bytes with 0x00 as 0x00 0xFF; the terminator 0x00 0x01 then
/// sorts a string before every longer one it starts.
fn escaped(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
}

/// An f64 as 8 bytes whose unsigned order is the numbers' order (-0 = 0).
fn float_bytes(x: f64) -> [u8; 8] {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    ordered.to_be_bytes()
}

/// The rest of `bytes` after the one encoded value it starts with.
fn skip(bytes: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = bytes.split_first()?;
    match tag {
        MISSING | NULL | FALSE | TRUE => Some(rest),
        NUMBER => rest.get(8..),
        STRING => skip_string(rest),
        ARRAY => {
            let mut rest = rest;
            while *rest.first()? != END {
                rest = skip(rest)?;
            }
            Some(&rest[1..])
        }
        OBJECT => {
            let mut rest = rest;
            while *rest.first()? != END {
                rest = skip(skip_string(&rest[1..])?)?;
            }
            Some(&rest[1..])
        }
        _ => None,
    }
}

fn skip_string(bytes: &[u8]) -> Option<&[u8]> {
    let mut i = 0;
    loop {
        match (bytes.get(i)?, bytes.get(i + 1)) {
            (0x00, Some(0x01)) => return bytes.get(i + 2..),
            (0x00, Some(0xFF)) => i += 2,
            (0x00, _) => return None,
            _ => i += 1,
        }
    }
}

/// A range on one field, and the conditions (their indexes in the query)
/// it decides.
type RangeOn = (Bound<Vec<u8>>, Bound<Vec<u8>>, Vec<usize>);

/// A range of entries: bounds in byte order.
pub type Range = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// How a query reads an index: the ranges (ascending, disjoint), and which
/// conditions they answer exactly (the others are checked on each record).
#[derive(Clone, Debug)]
pub struct Scan {
    pub ranges: Vec<Range>,
    /// Indexes into the query's conditions that the ranges decide.
    pub exact: Vec<usize>,
    /// Fields of the index with an equality before the next one: an order
    /// by the field at this position is the index's own.
    pub equal_prefix: usize,
}

/// Plans a read of `def` for `conditions`: equalities on its leading
/// fields, then at most one range (`<`, `<=`, `>`, `>=`, `prefix`,
/// `exists`, or `in` on the last equality). `None` when the index does not
/// help (its first field has no such condition).
pub fn plan(def: &IndexDef, paths: &[FieldPath], conditions: &[Condition]) -> Option<Scan> {
    let mut prefixes: Vec<Vec<u8>> = vec![def.prefix()];
    let mut exact = Vec::new();
    let mut equal_prefix = 0;
    let mut tail: Option<RangeOn> = None;
    for path in paths {
        let on_field = |op: Op| {
            conditions
                .iter()
                .position(|c| &c.path == path && c.op == op)
        };
        if let Some(i) = on_field(Op::Eq) {
            for p in &mut prefixes {
                encode(p, &conditions[i].value);
            }
            exact.push(i);
            equal_prefix += 1;
            continue;
        }
        if let Some(i) = on_field(Op::In) {
            let mut values: Vec<Vec<u8>> = conditions[i]
                .value
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| {
                    let mut e = Vec::new();
                    encode(&mut e, v);
                    e
                })
                .collect();
            values.sort();
            values.dedup();
            if values.len() * prefixes.len() > 4096 {
                break;
            }
            prefixes = prefixes
                .iter()
                .flat_map(|p| values.iter().map(move |v| [p.as_slice(), v].concat()))
                .collect();
            exact.push(i);
            equal_prefix += 1;
            continue;
        }
        tail = range_on(path, conditions);
        break;
    }
    if exact.is_empty() && tail.is_none() {
        return None;
    }
    let ranges = prefixes
        .into_iter()
        .map(|p| match &tail {
            None => (Bound::Included(p.clone()), Bound::Excluded(above(&p))),
            Some((lo, hi, _)) => (join(&p, lo, true), join(&p, hi, false)),
        })
        .collect();
    if let Some((_, _, decided)) = tail {
        exact.extend(decided);
    }
    Some(Scan {
        ranges,
        exact,
        equal_prefix,
    })
}

/// `P ‖ 0xFF`: above every entry that starts with `P`.
fn above(p: &[u8]) -> Vec<u8> {
    [p, &[ABOVE]].concat()
}

/// A bound relative to `P`: `Unbounded` means the whole of `P`'s entries
/// on that side.
fn join(p: &[u8], b: &Bound<Vec<u8>>, low: bool) -> Bound<Vec<u8>> {
    match b {
        Bound::Included(s) => Bound::Included([p, s].concat()),
        Bound::Excluded(s) => Bound::Excluded([p, s].concat()),
        Bound::Unbounded if low => Bound::Included(p.to_vec()),
        Bound::Unbounded => Bound::Excluded(above(p)),
    }
}

/// The tightest range the range conditions on `path` allow, as bounds on
/// the bytes after the prefix, with the conditions it decides.
fn range_on(path: &FieldPath, conditions: &[Condition]) -> Option<RangeOn> {
    let mut lo: Bound<Vec<u8>> = Bound::Unbounded;
    let mut hi: Bound<Vec<u8>> = Bound::Unbounded;
    let mut used = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        if &c.path != path {
            continue;
        }
        let enc = |v: &Value| {
            let mut e = Vec::new();
            encode(&mut e, v);
            e
        };
        let (l, h) = match c.op {
            // Every value is above "missing".
            Op::Lt => (
                Bound::Excluded(vec![MISSING, ABOVE]),
                Bound::Excluded(enc(&c.value)),
            ),
            Op::Le => (
                Bound::Excluded(vec![MISSING, ABOVE]),
                Bound::Excluded(above(&enc(&c.value))),
            ),
            Op::Gt => (Bound::Excluded(above(&enc(&c.value))), Bound::Unbounded),
            Op::Ge => (Bound::Included(enc(&c.value)), Bound::Unbounded),
            Op::Prefix => {
                let mut p = vec![STRING];
                escaped(&mut p, c.value.as_str().unwrap_or_default());
                let hi = above(&p);
                (Bound::Included(p), Bound::Excluded(hi))
            }
            Op::Exists if c.value == Value::Bool(true) => {
                (Bound::Excluded(vec![MISSING, ABOVE]), Bound::Unbounded)
            }
            Op::Exists => (
                Bound::Included(vec![MISSING]),
                Bound::Excluded(vec![MISSING, ABOVE]),
            ),
            _ => continue,
        };
        lo = tighter(lo, l, true);
        hi = tighter(hi, h, false);
        used.push(i);
    }
    (!used.is_empty()).then_some((lo, hi, used))
}

/// The narrower of two lower (`low`) or upper bounds.
fn tighter(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>, low: bool) -> Bound<Vec<u8>> {
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(v) | Bound::Excluded(v) => Some(v.clone()),
        Bound::Unbounded => None,
    };
    match (key(&a), key(&b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) if x == y => {
            // Same bytes: the excluded one is narrower.
            if matches!(a, Bound::Excluded(_)) {
                a
            } else {
                b
            }
        }
        (Some(x), Some(y)) => {
            if (x > y) == low {
                a
            } else {
                b
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> Vec<u8> {
        let mut e = Vec::new();
        encode(&mut e, v);
        e
    }

    #[test]
    fn byte_order_is_query_order() {
        let ordered = [
            json!(null),
            json!(false),
            json!(true),
            json!(-1e300),
            json!(-2.5),
            json!(-0.0),
            json!(1),
            json!(1.5),
            json!(18446744073709551615u64),
            json!(""),
            json!("\u{0}"),
            json!("B"),
            json!("a"),
            json!("a\u{0}"),
            json!("a\u{1}"),
            json!("ab"),
            json!("é"),
            json!([]),
            json!([null]),
            json!([1]),
            json!([1, 2]),
            json!([2]),
            json!({}),
            json!({"": 1}),
            json!({"a": 1}),
            json!({"a": 1, "b": 1}),
            json!({"a": 2}),
            json!({"b": 0}),
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                let (ea, eb) = (enc(a), enc(b));
                let expected = crate::query::compare(a, b);
                assert_eq!(ea.cmp(&eb), expected, "{a} vs {b}");
                if i != j && expected.is_ne() {
                    assert!(!ea.starts_with(&eb) && !eb.starts_with(&ea), "{a} / {b}");
                }
            }
            assert_eq!(skip(&enc(a)), Some(&[][..]), "{a} skips whole");
        }
        assert_eq!(enc(&json!(0)), enc(&json!(-0.0)));
        assert_eq!(enc(&json!(1)), enc(&json!(1.0)));
    }

    #[test]
    fn an_entry_names_its_key() {
        let def = IndexDef {
            id: 7,
            collection: Name::parse_as("collection", "users").unwrap(),
            fields: vec!["a".into(), "b.c".into()],
            state: IndexState::Ready,
            declared: None,
            by_hand: true,
        };
        let key = Key::parse("user é 1").unwrap();
        let doc = json!({"a": [1, {"x": "y\u{0}"}], "b": {"c": null}});
        let entry = def.entry(&def.paths(), &key, &doc);
        assert_eq!(def.key_of(&entry), Some(key));
        let (lo, hi) = def.all();
        assert!(entry >= lo && entry < hi);
    }

    #[test]
    fn field_lists_are_checked() {
        assert_eq!(
            parse_fields("age, meta.city").unwrap(),
            ["age", "meta.city"]
        );
        assert!(parse_fields("age,age").unwrap_err().contains("twice"));
        assert!(
            parse_fields("a..b")
                .unwrap_err()
                .contains("not a field path")
        );
        assert!(parse_fields("").is_err());
    }
}
