//! Documents: JSON objects checked once at the edge and kept as field → JSON text.
//!
//! Values are never turned into a tree: each top-level value stays the JSON
//! text the user wrote, minified. That keeps numbers exact (no f64 round
//! trip), makes parsing cheap, and lets the visible document be assembled by
//! concatenation.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::names::{Key, NameError};

/// Largest document accepted unless the config says otherwise: 16 MiB.
pub const DEFAULT_MAX_DOC_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of arrays and objects accepted (serde_json's own limit),
/// so no reader of a stored document can be driven into a stack overflow.
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON object: top-level field name → minified JSON text.
/// Duplicate field names: the last one wins (as in most JSON parsers).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Document {
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("invalid JSON at line {line} column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("a document must be a JSON object ({{...}}), not {found}")]
    NotObject { found: &'static str },
    #[error(
        "document too large ({size} > {max} bytes); raise daemon.max_document_bytes to allow it"
    )]
    TooLarge { size: usize, max: usize },
    #[error("document nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("field {field:?} cannot be the key: {reason}")]
    BadKeyField { field: String, reason: String },
}

impl DocError {
    fn syntax(e: serde_json::Error) -> Self {
        let message = e.to_string();
        // serde_json appends " at line L column C"; we say it first.
        let message = match message.rfind(" at line ") {
            Some(i) => &message[..i],
            None => &message,
        };
        DocError::Syntax {
            line: e.line(),
            column: e.column(),
            message: in_words(message),
        }
    }
}

impl DocError {
    /// The error of the document on line `line_no` of a JSON Lines input,
    /// placed once: `line 2, column 7: expected ...`.
    pub fn on_input_line(&self, line_no: u64) -> String {
        match self {
            DocError::Syntax {
                column, message, ..
            } => format!("line {line_no}, column {column}: {message}"),
            other => format!("line {line_no}: {other}"),
        }
    }
}

/// serde_json's terse reasons (`expected ident`), said as what was expected.
fn in_words(reason: &str) -> String {
    const VALUE: &str = "a JSON value (a \"string\", a number, true, false, null, {...} or [...])";
    let words = match reason {
        "expected ident" | "expected value" => return format!("expected {VALUE}"),
        "EOF while parsing a value" => return format!("the text ends where {VALUE} was expected"),
        "EOF while parsing an object" => "the text ends inside an object: a `}` is missing",
        "EOF while parsing a list" => "the text ends inside an array: a `]` is missing",
        "EOF while parsing a string" => "the text ends inside a string: a closing `\"` is missing",
        "key must be a string" => {
            "expected a field name in double quotes (\"name\": ...), and no comma before `}`"
        }
        "expected `:`" => "expected `:` after a field name",
        "expected `,` or `}`" => "expected `,` or `}` after a field's value",
        "expected `,` or `]`" => "expected `,` or `]` after an array element",
        "trailing characters" => {
            "more text after the JSON value (one document at a time; JSON Lines are imported with put --batch, or POST /v1/bulk)"
        }
        "invalid escape" => {
            "invalid escape in a string (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
        }
        "invalid number" | "number out of range" => "invalid number",
        "recursion limit exceeded" => return format!("nested deeper than {MAX_DEPTH} levels"),
        r if r.starts_with("control character") => {
            "a control character (newline, tab, ...) inside a string must be escaped (\\n, \\t, ...)"
        }
        other => other,
    };
    words.to_owned()
}

impl Document {
    /// Parses and checks one document of at most `max_bytes` bytes of JSON text.
    pub fn parse(text: &str, max_bytes: usize) -> Result<Self, DocError> {
        if text.len() > max_bytes {
            return Err(DocError::TooLarge {
                size: text.len(),
                max: max_bytes,
            });
        }
        let raw: &RawValue = serde_json::from_str(text).map_err(DocError::syntax)?;
        let found = match raw.get().as_bytes().first() {
            Some(b'{') => None,
            Some(b'[') => Some("an array"),
            Some(b'"') => Some("a string"),
            Some(b'n') => Some("null"),
            Some(b't' | b'f') => Some("a boolean"),
            _ => Some("a number"),
        };
        if let Some(found) = found {
            return Err(DocError::NotObject { found });
        }
        let map: BTreeMap<String, &RawValue> =
            serde_json::from_str(raw.get()).map_err(DocError::syntax)?;
        let fields = map
            .into_iter()
            .map(|(k, v)| Ok((k, minify(v.get(), MAX_DEPTH - 1)?)))
            .collect::<Result<_, DocError>>()?;
        Ok(Document { fields })
    }

    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// The JSON text of one top-level field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The document as a `serde_json::Value`, for what needs a tree (JSON
    /// Schema validation). Numbers become f64 or i64/u64 there.
    pub fn to_value(&self) -> serde_json::Value {
        let fields = self
            .fields
            .iter()
            .map(|(k, v)| {
                // Stored field values are checked JSON (`check_value`).
                let value = serde_json::from_str(v).unwrap_or(serde_json::Value::Null);
                (k.clone(), value)
            })
            .collect();
        serde_json::Value::Object(fields)
    }

    /// The key named by the field `key_path`, if the document has it.
    /// Strings are used as they are; integers by their decimal text.
    /// A dotted path (`meta.id`) names a field inside an object, unless a
    /// top-level field has that whole name.
    pub fn key_at(&self, key_path: &str) -> Result<Option<Key>, DocError> {
        let value = match self.fields.get(key_path) {
            Some(raw) => serde_json::from_str::<serde_json::Value>(raw).ok(),
            None => {
                let mut parts = key_path.split('.');
                let first = parts.next().and_then(|f| self.fields.get(f));
                let Some(raw) = first else {
                    return Ok(None);
                };
                let mut value = serde_json::from_str::<serde_json::Value>(raw).ok();
                for part in parts {
                    value = value.and_then(|mut v| v.get_mut(part).map(serde_json::Value::take));
                }
                match value {
                    None => return Ok(None),
                    some => some,
                }
            }
        };
        let bad = |reason: String| DocError::BadKeyField {
            field: key_path.to_owned(),
            reason,
        };
        let text = match value {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(bad("it must be a string or an integer".into())),
        };
        Key::parse(&text)
            .map(Some)
            .map_err(|e: NameError| bad(e.to_string()))
    }
}

/// Checks that `text` is what [`Document::parse`] stores for one field: a
/// single JSON value, minified, nested at most `MAX_DEPTH - 1` deep. Values
/// that arrive from the network are held to this before they are stored.
pub fn check_value(text: &str) -> Result<(), DocError> {
    // minify counts depth without recursing, so it goes first.
    if minify(text, MAX_DEPTH - 1)? != text {
        return Err(DocError::Syntax {
            line: 1,
            column: 1,
            message: "whitespace outside strings (values are stored minified)".into(),
        });
    }
    serde_json::from_str::<&RawValue>(text).map_err(DocError::syntax)?;
    Ok(())
}

/// Removes insignificant whitespace from valid JSON text, refusing nesting
/// deeper than `max_depth`.
pub fn minify(json: &str, max_depth: usize) -> Result<String, DocError> {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut depth = 0usize;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_ascii_whitespace() {
            match c {
                '"' => in_string = true,
                '[' | '{' => {
                    depth += 1;
                    if depth > max_depth {
                        return Err(DocError::TooDeep);
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// Appends `s` as a JSON string literal.
pub fn push_json_string(out: &mut String, s: &str) {
    if s.chars().all(|c| c != '"' && c != '\\' && !c.is_control()) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).expect("strings serialize"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Document, DocError> {
        Document::parse(s, 1024)
    }

    #[test]
    fn syntax_errors_say_in_words_what_was_expected() {
        for (bad, says) in [
            (r#"{"a":tru}"#, "expected a JSON value"),
            (r#"{"a":nobody}"#, "expected a JSON value"),
            ("{x:1}", "expected a field name in double quotes"),
            (r#"{"a":1"#, "a `}` is missing"),
            (r#"{"a":[1"#, "a `]` is missing"),
            (r#"{"a":"x"#, "a closing `\"` is missing"),
            ("", "the text ends where a JSON value"),
            (r#"{"a" 1}"#, "expected `:` after a field name"),
            (r#"{"a":1 "b":2}"#, "expected `,` or `}`"),
            (r#"{"a":[1 2]}"#, "expected `,` or `]`"),
            (r#"{"a":1,}"#, "no comma before `}`"),
            ("{} x", "more text after the JSON value"),
            (r#"{"a":"\q"}"#, "invalid escape in a string (allowed:"),
            ("{\"a\":\"\t\"}", "must be escaped"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    #[test]
    fn network_values_are_held_to_the_stored_form() {
        for ok in ["1", r#""a b""#, r#"{"x":[1,2]}"#, "null", "-0.5e3"] {
            assert_eq!(check_value(ok), Ok(()), "{ok}");
        }
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        for bad in [
            "}{",
            "1\n",
            r#"1,"admin":true"#,
            "",
            " 1",
            "[1, 2]",
            "tru",
            &deep,
        ] {
            assert!(check_value(bad).is_err(), "{bad:.20}");
        }
        let limit = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert_eq!(check_value(&limit), Ok(()), "as deep as a document allows");
        let over = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(check_value(&over), Err(DocError::TooDeep));
    }

    #[test]
    fn keeps_values_exact_and_minified() {
        let d =
            parse(r#"{ "n": 12345678901234567890, "f": 1.50, "o": { "x" : [1, 2] }, "s": "a b" }"#)
                .unwrap();
        let fields: Vec<_> = d.fields().collect();
        assert_eq!(
            fields,
            [
                ("f", "1.50"),
                ("n", "12345678901234567890"),
                ("o", r#"{"x":[1,2]}"#),
                ("s", r#""a b""#)
            ]
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = parse("{\n  \"x\": ").unwrap_err();
        assert!(matches!(e, DocError::Syntax { line: 2, .. }), "{e:?}");
        assert!(e.to_string().starts_with("invalid JSON at line 2 column"));
        for bad in [r#"{"x":"#, "{x:1}", "{} {}", ""] {
            assert!(matches!(parse(bad), Err(DocError::Syntax { .. })), "{bad}");
        }
    }

    #[test]
    fn refuses_non_objects() {
        for (text, found) in [
            ("[1]", "an array"),
            ("\"s\"", "a string"),
            ("42", "a number"),
            ("null", "null"),
        ] {
            assert_eq!(parse(text).unwrap_err(), DocError::NotObject { found });
        }
    }

    #[test]
    fn refuses_oversize_documents() {
        let big = format!(r#"{{"x":"{}"}}"#, "a".repeat(2000));
        assert!(matches!(
            parse(&big),
            Err(DocError::TooLarge { max: 1024, .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(Document::parse(&deep, usize::MAX), Err(DocError::TooDeep));
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(127), "]".repeat(127));
        assert!(Document::parse(&ok, usize::MAX).is_ok());
    }

    #[test]
    fn duplicate_fields_last_wins() {
        let d = parse(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(d.fields().collect::<Vec<_>>(), [("a", "2")]);
    }

    #[test]
    fn key_from_field() {
        assert_eq!(
            parse(r#"{"_id":"k1"}"#)
                .unwrap()
                .key_at("_id")
                .unwrap()
                .unwrap()
                .as_str(),
            "k1"
        );
        assert_eq!(
            parse(r#"{"_id":7}"#)
                .unwrap()
                .key_at("_id")
                .unwrap()
                .unwrap()
                .as_str(),
            "7"
        );
        assert!(parse(r#"{"_id":[1]}"#).unwrap().key_at("_id").is_err());
        assert!(parse(r#"{"_id":"a/b"}"#).unwrap().key_at("_id").is_err());
        assert_eq!(parse(r#"{"x":1}"#).unwrap().key_at("_id").unwrap(), None);
    }

    #[test]
    fn minify_keeps_strings_intact() {
        assert_eq!(
            minify(r#"[ "a \" b" , { "k" : "\\" } ]"#, 9).unwrap(),
            r#"["a \" b",{"k":"\\"}]"#
        );
    }
}
