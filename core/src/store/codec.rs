//! The bytes engines store: record states and feed targets.
//!
//! Persisted formats are pinned by tests below, so a change to them is a
//! decision, not an accident. A leading format byte leaves room for the next one.

use serde::{Deserialize, Serialize};

use crate::names::{Key, Name};
use crate::record::{Field, RecordState, Whole, WholeOp};
use crate::store::StoreError;
use crate::version::Version;

const STATE_FORMAT: u8 = 1;

/// A field whose version equals `whole`'s stores none of its own.
#[derive(Serialize, Deserialize)]
struct StoredField<'a> {
    name: &'a str,
    value: Option<&'a str>,
    version: Option<Version>,
}

#[derive(Serialize, Deserialize)]
struct StoredState<'a> {
    whole: Option<Whole>,
    #[serde(borrow)]
    fields: Vec<StoredField<'a>>,
}

pub fn encode_state(state: &RecordState) -> Vec<u8> {
    let whole_version = state.whole.map(|w| w.version);
    let stored = StoredState {
        whole: state.whole,
        fields: state
            .fields
            .iter()
            .map(|(name, f)| StoredField {
                name,
                value: f.value.as_deref(),
                version: (Some(f.version) != whole_version).then_some(f.version),
            })
            .collect(),
    };
    let mut out = vec![STATE_FORMAT];
    postcard::to_io(&stored, &mut out).expect("writing to a Vec cannot fail");
    out
}

pub fn decode_state(bytes: &[u8]) -> Result<RecordState, StoreError> {
    let Some((&STATE_FORMAT, body)) = bytes.split_first() else {
        return Err(StoreError::Corrupt("unknown record format".into()));
    };
    state_of(stored(body)?, |_, value| Ok(value.into()))
}

/// A state stored beside its visible document (SQLite's `doc` column):
/// when there is one it holds every value of the state
/// ([`RecordState::visible_json`]), so the state leaves the values out
/// and each is stored once. An empty text stands for "in the document"
/// (a JSON value is never empty). Without a document, the state is whole.
const BESIDE_FORMAT: u8 = 2;
/// As [`BESIDE_FORMAT`], and a field of the document written with the
/// record as a whole (its value there, its version the whole's: what
/// most fields of most records are) is not listed at all: the document
/// names it. What is listed are removed fields and fields with a
/// version of their own.
const PLAIN_FIELDS_FORMAT: u8 = 3;

/// The document and the state to store beside it.
pub fn encode_state_beside(state: &RecordState) -> (Option<String>, Vec<u8>) {
    let Some(doc) = state.visible_json() else {
        return (None, encode_state(state));
    };
    let whole_version = state.whole.map(|w| w.version);
    let put = matches!(
        state.whole,
        Some(Whole {
            op: WholeOp::Put,
            ..
        })
    );
    // Only a put's own fields are surely in the document.
    let listed = |f: &Field| !put || f.value.is_none() || Some(f.version) != whole_version;
    let stored = StoredState {
        whole: state.whole,
        fields: state
            .fields
            .iter()
            .filter(|(_, f)| listed(f))
            .map(|(name, f)| StoredField {
                name,
                value: f.value.as_ref().map(|_| ""),
                version: (Some(f.version) != whole_version).then_some(f.version),
            })
            .collect(),
    };
    let mut out = vec![PLAIN_FIELDS_FORMAT];
    postcard::to_io(&stored, &mut out).expect("writing to a Vec cannot fail");
    (Some(doc), out)
}

/// Reads what [`encode_state_beside`] stored (or a whole state).
pub fn decode_state_beside(bytes: &[u8], doc: Option<&str>) -> Result<RecordState, StoreError> {
    let (format, body) = match bytes.split_first() {
        Some((&f @ (BESIDE_FORMAT | PLAIN_FIELDS_FORMAT), body)) => (f, body),
        _ => return decode_state(bytes),
    };
    let doc = doc.ok_or_else(|| StoreError::Corrupt("record without its document".into()))?;
    let doc = crate::doc::Document::parse(doc, usize::MAX)
        .map_err(|e| StoreError::Corrupt(format!("record document: {e}")))?;
    let stored = stored(body)?;
    let whole_version = stored.whole.map(|w| w.version);
    let mut state = state_of(stored, |name, _| {
        doc.get(name)
            .map(Into::into)
            .ok_or_else(|| StoreError::Corrupt(format!("record document lacks field {name:?}")))
    })?;
    if format == PLAIN_FIELDS_FORMAT {
        for (name, value) in doc.fields() {
            if state.fields.contains_key(name) {
                continue;
            }
            let version = whole_version
                .ok_or_else(|| StoreError::Corrupt(format!("field {name:?} without a version")))?;
            let value = Some(value.into());
            state
                .fields
                .insert(name.to_owned(), Field { value, version });
        }
    }
    Ok(state)
}

/// The visible document and newest version of a state stored beside its
/// document: as [`decode_visible`] gives them. (A field left unlisted has
/// the whole's version, so the listed ones and the whole decide.)
pub fn decode_visible_beside(
    bytes: &[u8],
    doc: Option<String>,
) -> Result<Option<(String, Version)>, StoreError> {
    let body = match bytes.split_first() {
        Some((&(BESIDE_FORMAT | PLAIN_FIELDS_FORMAT), body)) => body,
        _ => return decode_visible(bytes),
    };
    let stored = stored(body)?;
    let whole_version = stored.whole.map(|w| w.version);
    let newest = stored
        .fields
        .iter()
        .filter_map(|f| f.version)
        .chain(whole_version)
        .max();
    Ok(doc.map(|doc| (doc, newest.unwrap_or_default())))
}

fn stored(body: &[u8]) -> Result<StoredState<'_>, StoreError> {
    postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(format!("record: {e}")))
}

/// The state, each stored value given to `value` (with its field's name).
fn state_of(
    stored: StoredState<'_>,
    value: impl Fn(&str, &str) -> Result<Box<str>, StoreError>,
) -> Result<RecordState, StoreError> {
    let whole_version = stored.whole.map(|w| w.version);
    let mut fields = std::collections::BTreeMap::new();
    for f in stored.fields {
        let version = f
            .version
            .or(whole_version)
            .ok_or_else(|| StoreError::Corrupt("field without a version".into()))?;
        let value = f.value.map(|v| value(f.name, v)).transpose()?;
        fields.insert(f.name.to_owned(), Field { value, version });
    }
    Ok(RecordState {
        whole: stored.whole,
        fields,
    })
}

/// What a read that only shows a record needs of its state: the visible
/// document as JSON text and the newest version, straight from the stored
/// bytes (no field map is built). `None` when the record does not exist.
/// Gives what `decode_state` then `visible_json` and `max_version` give.
pub fn decode_visible(bytes: &[u8]) -> Result<Option<(String, Version)>, StoreError> {
    let Some((&STATE_FORMAT, body)) = bytes.split_first() else {
        return Err(StoreError::Corrupt("unknown record format".into()));
    };
    let stored = stored(body)?;
    let whole_version = stored.whole.map(|w| w.version);
    let mut newest = whole_version;
    let mut exists = matches!(
        stored.whole,
        Some(Whole {
            op: WholeOp::Put,
            ..
        })
    );
    for f in &stored.fields {
        let version = f
            .version
            .or(whole_version)
            .ok_or_else(|| StoreError::Corrupt("field without a version".into()))?;
        newest = newest.max(Some(version));
        exists |= f.value.is_some() && whole_version.is_none_or(|w| version > w);
    }
    if !exists {
        return Ok(None);
    }
    let mut text = String::with_capacity(body.len() + 2);
    text.push('{');
    for f in stored.fields.iter().filter(|f| f.value.is_some()) {
        if text.len() > 1 {
            text.push(',');
        }
        crate::doc::push_json_string(&mut text, f.name);
        text.push(':');
        text.push_str(f.value.expect("filtered"));
    }
    text.push('}');
    Ok(Some((text, newest.unwrap_or_default())))
}

/// `collection NUL key`: records sort by collection, then key.
pub fn record_key(collection: &Name, key: &Key) -> Vec<u8> {
    let mut out = Vec::with_capacity(collection.as_str().len() + key.as_str().len() + 1);
    out.extend_from_slice(collection.as_str().as_bytes());
    out.push(0);
    out.extend_from_slice(key.as_str().as_bytes());
    out
}

pub fn split_record_key(bytes: &[u8]) -> Result<(Name, Key), StoreError> {
    let corrupt = || StoreError::Corrupt("bad record key".into());
    let nul = bytes.iter().position(|&b| b == 0).ok_or_else(corrupt)?;
    let coll = std::str::from_utf8(&bytes[..nul]).map_err(|_| corrupt())?;
    let key = std::str::from_utf8(&bytes[nul + 1..]).map_err(|_| corrupt())?;
    let coll = Name::parse_as("collection", coll).map_err(|_| corrupt())?;
    let key = Key::parse(key).map_err(|_| corrupt())?;
    Ok((coll, key))
}

pub fn encode_version(v: &Version) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&v.hlc.to_be_bytes());
    out.extend_from_slice(&v.site.0);
    out
}

pub fn decode_version(bytes: &[u8]) -> Result<Version, StoreError> {
    if bytes.len() != 24 {
        return Err(StoreError::Corrupt("bad version".into()));
    }
    let hlc = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
    let site = crate::version::SiteId(bytes[8..].try_into().expect("16 bytes"));
    Ok(Version { hlc, site })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Document;
    use crate::record::tests::v;

    #[test]
    fn state_bytes_are_pinned() {
        let doc = Document::parse(r#"{"a":1}"#, 100).unwrap();
        let mut s = RecordState::put(&doc, v(0x0102, 7));
        s.merge(&RecordState::patch(
            &Document::parse(r#"{"b":null}"#, 100).unwrap(),
            v(0x0103, 7),
        ));
        let bytes = encode_state(&s);
        let expected: Vec<u8> = [
            &[1u8, 1, 0, 0x82, 0x02][..], // format, Some(whole), Put, hlc varint
            &[7; 16],                     // site
            &[2, 1, b'a', 1, 1, b'1', 0], // 2 fields; "a" = Some("1"), version = whole's
            &[1, b'b', 0, 1, 0x83, 0x02], // "b" = tombstone at its own version
            &[7; 16],
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(decode_state(&bytes).unwrap(), s);
    }

    #[test]
    fn a_state_beside_its_document_stores_each_value_once() {
        let doc = Document::parse(r#"{"a":1}"#, 100).unwrap();
        let mut s = RecordState::put(&doc, v(0x0102, 7));
        s.merge(&RecordState::patch(
            &Document::parse(r#"{"b":null}"#, 100).unwrap(),
            v(0x0103, 7),
        ));
        let (text, bytes) = encode_state_beside(&s);
        assert_eq!(text.as_deref(), Some(r#"{"a":1}"#));
        let expected: Vec<u8> = [
            &[3u8, 1, 0, 0x82, 0x02][..], // format 3, Some(whole), Put, hlc
            &[7; 16],
            &[1],                         // 1 field listed: "a" is the put's own
            &[1, b'b', 0, 1, 0x83, 0x02], // "b" = tombstone at its own version
            &[7; 16],
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(decode_state_beside(&bytes, text.as_deref()).unwrap(), s);
        // Without its document it is refused, not read as empty.
        assert!(decode_state_beside(&bytes, None).is_err());
        // Format 2 (every field listed, values in the document) still reads.
        let format_2: Vec<u8> = [
            &[2u8, 1, 0, 0x82, 0x02][..],
            &[7; 16],
            &[2, 1, b'a', 1, 0, 0], // "a" = Some(""): in the document
            &[1, b'b', 0, 1, 0x83, 0x02],
            &[7; 16],
        ]
        .concat();
        assert_eq!(decode_state_beside(&format_2, text.as_deref()).unwrap(), s);
        assert!(decode_state_beside(&format_2, Some("{}")).is_err());
        assert_eq!(
            decode_visible_beside(&format_2, text.clone()).unwrap(),
            decode_visible_beside(&bytes, text.clone()).unwrap()
        );
        // A state stored whole (layout 1, or no document) reads as before.
        assert_eq!(decode_state_beside(&encode_state(&s), None).unwrap(), s);
    }

    #[test]
    fn the_visible_part_reads_as_the_whole_state_gives_it() {
        let put = |json: &str, at| RecordState::put(&Document::parse(json, 100).unwrap(), at);
        let patch = |json: &str, at| RecordState::patch(&Document::parse(json, 100).unwrap(), at);
        let mut states = vec![
            put(r#"{"a":1,"b\"":"x"}"#, v(5, 1)),
            RecordState::delete(v(5, 1)),
            patch(r#"{"a":1}"#, v(2, 1)),
            patch(r#"{"a":null}"#, v(2, 1)),
        ];
        let mut s = RecordState::delete(v(3, 1));
        s.merge(&patch(r#"{"c":[1]}"#, v(4, 2)));
        states.push(s.clone());
        s.merge(&patch(r#"{"c":null}"#, v(6, 2)));
        states.push(s);
        let mut s = put(r#"{"a":1,"z":2}"#, v(3, 1));
        s.merge(&patch(r#"{"a":null,"m":{}}"#, v(9, 3)));
        states.push(s);
        for s in states {
            let expected = s
                .visible_json()
                .map(|t| (t, s.max_version().unwrap_or_default()));
            assert_eq!(
                decode_visible(&encode_state(&s)).unwrap(),
                expected,
                "{s:?}"
            );
            let (doc, bytes) = encode_state_beside(&s);
            assert_eq!(decode_state_beside(&bytes, doc.as_deref()).unwrap(), s);
            assert_eq!(
                decode_visible_beside(&bytes, doc).unwrap(),
                expected,
                "{s:?}"
            );
        }
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        for bad in [&b""[..], &[9, 1, 2], &[1, 1, 0, 0xff]] {
            assert!(matches!(decode_state(bad), Err(StoreError::Corrupt(_))));
        }
    }

    #[test]
    fn record_keys_round_trip() {
        let c = Name::parse_as("c", "person").unwrap();
        let k = Key::parse("42").unwrap();
        assert_eq!(record_key(&c, &k), b"person\x0042");
        assert_eq!(split_record_key(&record_key(&c, &k)).unwrap(), (c, k));
    }
}
