//! A record's replicated state and its merge: field-level last-writer-wins.
//!
//! The state is a join-semilattice, so merge is commutative, associative and
//! idempotent, and replicas that saw the same writes in any order hold the same
//! state (the property tests at the bottom check the laws):
//!
//! - `whole`: the last whole-record operation, `Put` or `Delete`, with its version;
//! - `fields`: per top-level field, the last value written (or a tombstone).
//!
//! The visible document is the fields at or above `whole`'s version that are
//! not tombstones; the record exists if `whole` is a `Put`, or if some field is
//! newer than a `Delete`. Fields below `whole`'s version can never be visible
//! again (`whole` only grows), so `normalize` drops them: states stay small and
//! equal states compare equal.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::doc::Document;
use crate::version::Version;

/// The kind of the last whole-record operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WholeOp {
    Put,
    Delete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Whole {
    pub op: WholeOp,
    pub version: Version,
}

/// One field's last write. `value` is minified JSON text; `None` is a tombstone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub value: Option<Box<str>>,
    pub version: Version,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordState {
    pub whole: Option<Whole>,
    pub fields: BTreeMap<String, Field>,
}

/// Total order used to pick a winner. Equal versions mean the same write and
/// so the same content; the content comparison only makes merge deterministic
/// when a peer sends two different things under one version.
fn whole_cmp(a: &Whole, b: &Whole) -> Ordering {
    a.version.cmp(&b.version).then(a.op.cmp(&b.op))
}

fn field_cmp(a: &Field, b: &Field) -> Ordering {
    a.version
        .cmp(&b.version)
        .then_with(|| a.value.cmp(&b.value))
}

impl RecordState {
    /// `put(doc)` at `v`: replaces the record.
    pub fn put(doc: &Document, v: Version) -> Self {
        let fields = doc
            .fields()
            .map(|(k, val)| {
                let field = Field {
                    value: Some(val.into()),
                    version: v,
                };
                (k.to_owned(), field)
            })
            .collect();
        RecordState {
            whole: Some(Whole {
                op: WholeOp::Put,
                version: v,
            }),
            fields,
        }
    }

    /// `patch(part)` at `v`: sets the named fields; a JSON `null` removes one.
    pub fn patch(part: &Document, v: Version) -> Self {
        let fields = part
            .fields()
            .map(|(k, val)| {
                let value = (val != "null").then(|| val.into());
                (k.to_owned(), Field { value, version: v })
            })
            .collect();
        RecordState {
            whole: None,
            fields,
        }
    }

    /// `delete` at `v`; also what a drop marker at `v` does to every record.
    pub fn delete(v: Version) -> Self {
        RecordState {
            whole: Some(Whole {
                op: WholeOp::Delete,
                version: v,
            }),
            fields: BTreeMap::new(),
        }
    }

    /// Joins `other` into `self`.
    pub fn merge(&mut self, other: &RecordState) {
        match (&mut self.whole, &other.whole) {
            (Some(mine), Some(theirs)) if whole_cmp(theirs, mine) == Ordering::Greater => {
                *mine = *theirs
            }
            (None, Some(theirs)) => self.whole = Some(*theirs),
            _ => {}
        }
        for (name, theirs) in &other.fields {
            match self.fields.get_mut(name) {
                Some(mine) if field_cmp(theirs, mine) != Ordering::Greater => {}
                Some(mine) => *mine = theirs.clone(),
                None => {
                    self.fields.insert(name.clone(), theirs.clone());
                }
            }
        }
        self.normalize();
    }

    /// Drops fields that can never be visible again.
    fn normalize(&mut self) {
        if let Some(w) = self.whole {
            self.fields.retain(|_, f| f.version >= w.version);
        }
    }

    /// The largest version anywhere in the state.
    pub fn max_version(&self) -> Option<Version> {
        let fields = self.fields.values().map(|f| f.version);
        self.whole
            .map(|w| w.version)
            .into_iter()
            .chain(fields)
            .max()
    }

    /// Every version in the state (for "who wrote this" checks).
    pub fn versions(&self) -> impl Iterator<Item = Version> + '_ {
        let fields = self.fields.values().map(|f| f.version);
        self.whole.map(|w| w.version).into_iter().chain(fields)
    }

    pub fn exists(&self) -> bool {
        match self.whole {
            Some(Whole {
                op: WholeOp::Put, ..
            }) => true,
            Some(Whole { version, .. }) => self
                .fields
                .values()
                .any(|f| f.value.is_some() && f.version > version),
            None => self.fields.values().any(|f| f.value.is_some()),
        }
    }

    /// The visible fields' names and JSON texts, in name order (none when
    /// the record does not exist).
    pub fn visible_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        let exists = self.exists();
        self.fields
            .iter()
            .filter(move |_| exists)
            .filter_map(|(name, f)| Some((name.as_str(), f.value.as_deref()?)))
    }

    /// The visible document as JSON text, or `None` if the record does not exist.
    pub fn visible_json(&self) -> Option<String> {
        if !self.exists() {
            return None;
        }
        let mut out = String::with_capacity(64);
        out.push('{');
        let mut first = true;
        for (name, field) in &self.fields {
            let Some(value) = &field.value else { continue };
            if !first {
                out.push(',');
            }
            first = false;
            crate::doc::push_json_string(&mut out, name);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        Some(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::version::SiteId;
    use proptest::prelude::*;

    pub fn v(hlc: u64, site: u8) -> Version {
        Version {
            hlc,
            site: SiteId([site; 16]),
        }
    }

    fn doc(s: &str) -> Document {
        Document::parse(s, usize::MAX).unwrap()
    }

    fn merged(states: &[&RecordState]) -> RecordState {
        let mut out = RecordState::default();
        for s in states {
            out.merge(s);
        }
        out
    }

    #[test]
    fn put_replaces_older_fields() {
        let a = RecordState::put(&doc(r#"{"a":1,"b":2}"#), v(1, 1));
        let b = RecordState::put(&doc(r#"{"c":3}"#), v(2, 1));
        assert_eq!(merged(&[&a, &b]).visible_json().unwrap(), r#"{"c":3}"#);
        assert_eq!(merged(&[&b, &a]).visible_json().unwrap(), r#"{"c":3}"#);
    }

    #[test]
    fn concurrent_patches_of_different_fields_both_survive() {
        let base = RecordState::put(&doc(r#"{"a":1,"b":2}"#), v(1, 1));
        let p1 = RecordState::patch(&doc(r#"{"a":10}"#), v(5, 1));
        let p2 = RecordState::patch(&doc(r#"{"b":20,"c":null}"#), v(5, 2));
        let m = merged(&[&p2, &base, &p1]);
        assert_eq!(m.visible_json().unwrap(), r#"{"a":10,"b":20}"#);
    }

    #[test]
    fn patch_null_removes_a_field() {
        let base = RecordState::put(&doc(r#"{"a":1,"b":2}"#), v(1, 1));
        let p = RecordState::patch(&doc(r#"{"a":null}"#), v(2, 1));
        assert_eq!(merged(&[&base, &p]).visible_json().unwrap(), r#"{"b":2}"#);
    }

    #[test]
    fn put_and_delete_race_by_version() {
        let put = RecordState::put(&doc(r#"{"a":1}"#), v(3, 1));
        let del = RecordState::delete(v(3, 2));
        assert_eq!(merged(&[&put, &del]).visible_json(), None);
        let later_put = RecordState::put(&doc(r#"{"a":1}"#), v(4, 1));
        assert!(merged(&[&del, &later_put]).exists());
    }

    #[test]
    fn patch_newer_than_delete_revives_only_its_fields() {
        let put = RecordState::put(&doc(r#"{"a":1,"b":2}"#), v(1, 1));
        let del = RecordState::delete(v(2, 1));
        let patch = RecordState::patch(&doc(r#"{"b":3}"#), v(3, 2));
        let m = merged(&[&patch, &del, &put]);
        assert_eq!(m.visible_json().unwrap(), r#"{"b":3}"#);
        assert_eq!(m.fields.len(), 1, "fields under the delete are dropped");
    }

    #[test]
    fn empty_put_is_an_existing_empty_document() {
        let s = RecordState::put(&doc("{}"), v(1, 1));
        assert_eq!(s.visible_json().unwrap(), "{}");
    }

    // ---- the semilattice laws over random states ----

    fn arb_version() -> impl Strategy<Value = Version> {
        // Few HLC values and two sites: equal HLCs force the site tie-break.
        (1u64..5, 1u8..3).prop_map(|(h, s)| v(h, s))
    }

    fn arb_field() -> impl Strategy<Value = Field> {
        (prop::option::of(0u8..3), arb_version()).prop_map(|(val, version)| Field {
            value: val.map(|n| n.to_string().into()),
            version,
        })
    }

    pub fn arb_state() -> impl Strategy<Value = RecordState> {
        let whole = prop::option::of((prop::bool::ANY, arb_version()).prop_map(
            |(del, version)| Whole {
                op: if del { WholeOp::Delete } else { WholeOp::Put },
                version,
            },
        ));
        let fields = prop::collection::btree_map(
            prop::sample::select(vec!["a".to_string(), "b".into(), "c".into()]),
            arb_field(),
            0..3,
        );
        (whole, fields).prop_map(|(whole, fields)| {
            let mut s = RecordState { whole, fields };
            s.normalize();
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn merge_is_commutative(a in arb_state(), b in arb_state()) {
            prop_assert_eq!(merged(&[&a, &b]), merged(&[&b, &a]));
        }

        #[test]
        fn merge_is_associative(a in arb_state(), b in arb_state(), c in arb_state()) {
            let mut ab = merged(&[&a, &b]);
            ab.merge(&c);
            let mut bc = merged(&[&b, &c]);
            let mut a2 = a.clone();
            a2.merge(&bc);
            bc = a2;
            prop_assert_eq!(ab, bc);
        }

        #[test]
        fn merge_is_idempotent(a in arb_state(), b in arb_state()) {
            let mut aa = a.clone();
            aa.merge(&a);
            prop_assert_eq!(&aa, &a);
            let ab = merged(&[&a, &b]);
            let mut abb = ab.clone();
            abb.merge(&b);
            prop_assert_eq!(ab, abb);
        }

        #[test]
        fn merging_something_older_changes_nothing(a in arb_state(), b in arb_state()) {
            // Anything strictly below a delete that covers it is a no-op.
            let top = a.max_version().unwrap_or_default().max(b.max_version().unwrap_or_default());
            let cover = RecordState::delete(Version { hlc: top.hlc + 1, site: top.site });
            let mut m = merged(&[&a, &cover]);
            let before = m.clone();
            m.merge(&b);
            prop_assert_eq!(m, before);
        }
    }
}
