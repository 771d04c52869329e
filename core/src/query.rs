//! Queries by field: `--where` conditions, an order and a page of the
//! result. Every replica evaluates them the same way: values compare by one
//! total order across JSON types, and ties go by key, so a page and the
//! cursor after it mean the same thing wherever they are asked.
//!
//! The order: a missing field, then `null`, `false`, `true`, numbers (by
//! value as a 64-bit float, as JSON parsers read them: `1` and `1.0` are
//! equal, and so are integers beyond 2^53 that round to one float), strings (by Unicode code point), arrays
//! (element by element, then the shorter first), objects (their fields in
//! name order, compared as name then value, then the smaller first).

use std::cmp::Ordering;

use serde_json::Value;

use crate::Key;

/// The document as queries see it, from its JSON text: an object of its
/// fields, each value read on its own; a value serde_json cannot hold (a
/// number beyond the 64-bit float range, such as `1e400`) is left out, as
/// if the field were missing. `None` when the text is not an object.
pub fn doc_from_text(text: &str) -> Option<Value> {
    let raw: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(text).ok()?;
    Some(doc_from_fields(
        raw.iter().map(|(n, v)| (n.as_str(), v.get())),
    ))
}

/// As [`doc_from_text`], from the fields' names and JSON texts (a record
/// state's, or the few of them an index needs: the same values either way).
pub fn doc_from_fields<'a>(fields: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    Value::Object(
        fields
            .filter_map(|(name, text)| Some((name.to_owned(), serde_json::from_str(text).ok()?)))
            .collect(),
    )
}

/// A field named by its path from the document's top (`age`, `meta.city`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

/// Most names in a field path, as for a key path.
const MAX_DEPTH: usize = 8;

impl FieldPath {
    pub fn parse(text: &str) -> Result<FieldPath, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let valid = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$' | '@'))
        };
        if parts.len() > MAX_DEPTH || !parts.iter().all(valid) {
            return Err(format!(
                "{text:?} is not a field path: allowed are 1 to {MAX_DEPTH} names of letters, digits, _ - $ @, joined by dots (`age`, `meta.city`)"
            ));
        }
        Ok(FieldPath(parts.into_iter().map(str::to_owned).collect()))
    }

    /// The top-level field the path starts at.
    pub fn top(&self) -> &str {
        &self.0[0]
    }

    /// The value at this path in `doc`, if there is one (arrays are not
    /// looked into: a name on an array is missing).
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.0
            .iter()
            .try_fold(doc, |v, name| v.as_object()?.get(name))
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Prefix,
    Exists,
}

const OPERATORS: &str = "= != < <= > >= in prefix exists";

impl Op {
    fn word(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "in",
            Op::Prefix => "prefix",
            Op::Exists => "exists",
        }
    }
}

/// One `--where`: `FIELD OP VALUE`, the value JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub path: FieldPath,
    pub op: Op,
    /// For `in`, the array; for `exists`, `true` or `false`.
    pub value: Value,
}

impl Condition {
    /// Reads `age >= 30`, `city = "London"`, `tag in ["a","b"]`,
    /// `name prefix "Ad"`, `email exists` (or `exists false`). An error
    /// quotes the condition and says which part is wrong and what is allowed.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let bad = |what: String| Err(format!("condition {text:?}: {what}"));
        let s = text.trim_start();
        let field_end = s
            .find(|c: char| c.is_whitespace() || "=!<>".contains(c))
            .unwrap_or(s.len());
        if field_end == 0 {
            return bad(format!(
                "it starts with no field; write FIELD OP VALUE (operators: {OPERATORS})"
            ));
        }
        let path = match FieldPath::parse(&s[..field_end]) {
            Ok(p) => p,
            Err(e) => return bad(e),
        };
        let rest = s[field_end..].trim_start();
        let op_len = if rest.starts_with(|c: char| "=!<>".contains(c)) {
            rest.find(|c: char| !"=!<>".contains(c))
                .unwrap_or(rest.len())
        } else {
            rest.find(char::is_whitespace).unwrap_or(rest.len())
        };
        let word = &rest[..op_len];
        let op = match word {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "in" => Op::In,
            "prefix" => Op::Prefix,
            "exists" => Op::Exists,
            "" => return bad(format!("no operator after {path}; allowed: {OPERATORS}")),
            other => return bad(format!("unknown operator {other:?}; allowed: {OPERATORS}")),
        };
        let raw = rest[op_len..].trim();
        if op == Op::Exists && raw.is_empty() {
            return Ok(Condition {
                path,
                op,
                value: Value::Bool(true),
            });
        }
        if raw.is_empty() {
            return bad(format!("no value after {}; a value is JSON", op.word()));
        }
        let value: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) if e.to_string().starts_with("number out of range") => {
                return bad(format!(
                    "the number {raw} is beyond the 64-bit float range, and queries see such values as missing (`{path} exists false` finds them)"
                ));
            }
            Err(e) => {
                let hint = match raw.chars().next() {
                    Some(c) if c.is_alphabetic() => {
                        format!(" (a string needs double quotes: \"{raw}\")")
                    }
                    _ => String::new(),
                };
                return bad(format!("the value {raw} is not JSON: {e}{hint}"));
            }
        };
        let fits = match op {
            Op::In => value.is_array(),
            Op::Prefix => value.is_string(),
            Op::Exists => value.is_boolean(),
            _ => true,
        };
        if !fits {
            let wants = match op {
                Op::In => "a JSON array (`in [1, 2]`)",
                Op::Prefix => "a JSON string (`prefix \"Ad\"`)",
                _ => "true or false, or nothing",
            };
            return bad(format!("{} takes {wants}, not {value}", op.word()));
        }
        Ok(Condition { path, op, value })
    }

    /// Reads every condition of a query, stopping at the first bad one.
    pub fn parse_all(texts: &[String]) -> Result<Vec<Condition>, String> {
        texts.iter().map(|t| Condition::parse(t)).collect()
    }

    /// Whether `doc` meets this condition. A missing field meets only `!=`
    /// and `exists false`.
    pub fn matches(&self, doc: &Value) -> bool {
        let found = self.path.get(doc);
        match (self.op, found) {
            (Op::Exists, found) => found.is_some() == (self.value == Value::Bool(true)),
            (Op::Ne, None) => true,
            (_, None) => false,
            (Op::Eq, Some(v)) => compare(v, &self.value) == Ordering::Equal,
            (Op::Ne, Some(v)) => compare(v, &self.value) != Ordering::Equal,
            (Op::Lt, Some(v)) => compare(v, &self.value) == Ordering::Less,
            (Op::Le, Some(v)) => compare(v, &self.value) != Ordering::Greater,
            (Op::Gt, Some(v)) => compare(v, &self.value) == Ordering::Greater,
            (Op::Ge, Some(v)) => compare(v, &self.value) != Ordering::Less,
            (Op::In, Some(v)) => self
                .value
                .as_array()
                .is_some_and(|any| any.iter().any(|a| compare(v, a) == Ordering::Equal)),
            (Op::Prefix, Some(v)) => match (v, &self.value) {
                (Value::String(s), Value::String(p)) => s.starts_with(p.as_str()),
                _ => false,
            },
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.path, self.op.word(), self.value)
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(false) => 1,
        Value::Bool(true) => 2,
        Value::Number(_) => 3,
        Value::String(_) => 4,
        Value::Array(_) => 5,
        Value::Object(_) => 6,
    }
}

/// A JSON number as the double it compares as.
pub fn number(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

/// The total order of JSON values described at the top of this file.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        // JSON has no NaN: every f64 here compares (and -0 = 0).
        (Value::Number(x), Value::Number(y)) => {
            number(x).partial_cmp(&number(y)).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(a, b)| compare(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(x.len().cmp(&y.len())),
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|a, b| a.0.cmp(b.0));
            ys.sort_by(|a, b| a.0.cmp(b.0));
            xs.iter()
                .zip(&ys)
                .map(|((ka, va), (kb, vb))| ka.cmp(kb).then_with(|| compare(va, vb)))
                .find(|o| o.is_ne())
                .unwrap_or(xs.len().cmp(&ys.len()))
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A field's value as a sort key: a missing field first.
pub fn compare_found(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare(a, b),
    }
}

/// The order of a result: by a field (then by key), or by key alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Order {
    pub by: Option<FieldPath>,
    pub desc: bool,
}

/// Where a page ended: the last record's sort value and key. The next page
/// starts strictly after it, so records that did not change between the
/// pages are neither repeated nor skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    /// The sort field's value (`None`: missing, or no sort field).
    pub value: Option<Value>,
    pub key: Key,
}

impl Order {
    /// By the field `by` (a path; by key when absent), largest first with
    /// `desc`.
    pub fn parse(by: Option<&str>, desc: bool) -> Result<Order, String> {
        let by = by
            .map(FieldPath::parse)
            .transpose()
            .map_err(|e| format!("--order-by: {e}"))?;
        Ok(Order { by, desc })
    }

    /// How two records compare in this order.
    pub fn compare(&self, a: (&Key, &Value), b: (&Key, &Value)) -> Ordering {
        let by_value = match &self.by {
            Some(path) => compare_found(path.get(a.1), path.get(b.1)),
            None => Ordering::Equal,
        };
        let o = by_value.then_with(|| a.0.cmp(b.0));
        if self.desc { o.reverse() } else { o }
    }

    /// Whether a record comes after `cursor` in this order.
    pub fn after(&self, cursor: &Cursor, key: &Key, doc: &Value) -> bool {
        let by_value = match &self.by {
            Some(path) => compare_found(path.get(doc), cursor.value.as_ref()),
            None => Ordering::Equal,
        };
        let o = by_value.then_with(|| key.cmp(&cursor.key));
        let o = if self.desc { o.reverse() } else { o };
        o == Ordering::Greater
    }

    /// The cursor after this record.
    pub fn cursor(&self, key: &Key, doc: &Value) -> Cursor {
        Cursor {
            value: self.by.as_ref().and_then(|p| p.get(doc)).cloned(),
            key: key.clone(),
        }
    }
}

impl Cursor {
    /// As text safe in a URL and a shell: the hex of a small JSON array,
    /// which names the order it belongs to.
    pub fn encode(&self, order: &Order) -> String {
        let by = order.by.as_ref().map(ToString::to_string);
        let json = serde_json::json!([
            self.value,
            self.value.is_some(),
            self.key.as_str(),
            by,
            order.desc
        ]);
        json.to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Reads a cursor `encode` wrote for the same order.
    pub fn decode(text: &str, order: &Order) -> Result<Cursor, String> {
        let bad = || {
            format!("cursor {text:?} is not one a page gave (pass the `next` of the page before)")
        };
        if !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(bad());
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect();
        let json: Value = bytes
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(bad)?;
        let by = order.by.as_ref().map(ToString::to_string);
        let (Some(value), Some(present), Some(key), 5) = (
            json.get(0),
            json.get(1).and_then(Value::as_bool),
            json.get(2).and_then(Value::as_str),
            json.as_array().map_or(0, Vec::len),
        ) else {
            return Err(bad());
        };
        if json[3].as_str() != by.as_deref() || json[4].as_bool() != Some(order.desc) {
            return Err(format!(
                "cursor {text:?} is from a query in another order; pass the `next` of the page before with the same --order-by and --desc"
            ));
        }
        Ok(Cursor {
            value: present.then(|| value.clone()),
            key: Key::parse(key).map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_read_as_written() {
        let c = Condition::parse("age >= 30").unwrap();
        assert_eq!(
            (c.path.to_string(), c.op, c.value),
            ("age".into(), Op::Ge, json!(30))
        );
        let c = Condition::parse(r#"meta.city="London""#).unwrap();
        assert_eq!((c.path.to_string(), c.op), ("meta.city".into(), Op::Eq));
        assert_eq!(Condition::parse("email exists").unwrap().value, json!(true));
        assert_eq!(
            Condition::parse("tag in [1, \"a\"]").unwrap().value,
            json!([1, "a"])
        );
        for (text, needle) in [
            ("age >== 30", "unknown operator \">==\""),
            ("age == 30", "unknown operator \"==\""),
            ("age like 3", "unknown operator \"like\""),
            ("age", "no operator"),
            (">= 3", "no field"),
            ("age >=", "no value"),
            ("city = London", "double quotes"),
            ("tag in 3", "a JSON array"),
            ("name prefix 3", "a JSON string"),
            ("a..b = 1", "not a field path"),
            ("a b = 1", "unknown operator \"b\""),
        ] {
            let e = Condition::parse(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
            assert!(e.contains(text), "the message quotes the condition: {e}");
        }
    }

    #[test]
    fn a_missing_field_meets_only_not_equal_and_exists_false() {
        let doc = json!({"age": 30, "meta": {"city": "Lisbon"}, "tags": ["a"]});
        let m = |c: &str| Condition::parse(c).unwrap().matches(&doc);
        assert!(m("age = 30.0") && m("age >= 30") && !m("age > 30") && m("age in [1, 30]"));
        assert!(m("meta.city prefix \"Lis\"") && !m("meta.city prefix \"lis\""));
        assert!(m("nope != 1") && m("nope exists false") && !m("nope = null"));
        assert!(
            !m("nope < 1") && !m("tags.a exists"),
            "arrays are not looked into"
        );
        assert!(m("age < \"x\""), "numbers sort before strings");
    }

    #[test]
    fn a_value_no_float_holds_is_missing_and_the_rest_is_there() {
        let doc = doc_from_text(r#"{"a":1e400,"b":2,"c":[1,1e999],"d\u0041":"x"}"#).unwrap();
        assert_eq!(doc, json!({"b": 2, "dA": "x"}));
        assert!(Condition::parse("a exists false").unwrap().matches(&doc));
        assert_eq!(doc_from_text("[1]"), None);
    }

    #[test]
    fn the_order_across_types_is_total() {
        let ordered = [
            json!(null),
            json!(false),
            json!(true),
            json!(-2.5),
            json!(1),
            json!(18446744073709551615u64),
            json!(""),
            json!("B"),
            json!("a"),
            json!("é"),
            json!([]),
            json!([1]),
            json!([1, 2]),
            json!([2]),
            json!({}),
            json!({"a": 1}),
            json!({"a": 2}),
            json!({"b": 0}),
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(compare(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(compare(&json!(1), &json!(1.0)), Ordering::Equal);
        assert_eq!(compare(&json!(-0.0), &json!(0)), Ordering::Equal);
        assert_eq!(
            compare(&json!({"b":1,"a":2}), &json!({"a":2,"b":1})),
            Ordering::Equal
        );
    }

    #[test]
    fn a_cursor_round_trips_and_orders_after_its_record() {
        let order = Order {
            by: Some(FieldPath::parse("age").unwrap()),
            desc: false,
        };
        let k = |s: &str| Key::parse(s).unwrap();
        let cursor = order.cursor(&k("b"), &json!({"age": 30}));
        let back = Cursor::decode(&cursor.encode(&order), &order).unwrap();
        assert_eq!(back, cursor);
        let by_key = Order::default();
        let e = Cursor::decode(&cursor.encode(&order), &by_key).unwrap_err();
        assert!(e.contains("another order"), "{e}");
        assert!(order.after(&back, &k("c"), &json!({"age": 30})));
        assert!(!order.after(&back, &k("a"), &json!({"age": 30})));
        assert!(order.after(&back, &k("a"), &json!({"age": 31})));
        assert!(
            !order.after(&back, &k("z"), &json!({})),
            "missing sorts first"
        );
        let missing = order.cursor(&k("m"), &json!({}));
        assert_eq!(
            Cursor::decode(&missing.encode(&order), &order).unwrap(),
            missing
        );
        assert!(Cursor::decode("zz", &order).is_err() && Cursor::decode("7b7d", &order).is_err());
    }
}
