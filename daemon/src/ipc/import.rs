//! What one line of `put --batch` is: a plain document, whose key comes from
//! a field or is made, or a record as `syncdb ls --json` prints it, whose key
//! is kept — so a listing imports back under the same keys.

use syncdb_core::ipc::ImportFormat;
use syncdb_core::{Document, Key};

use super::handlers;

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
            return record(&doc, self.max_doc_bytes).map_err(|e| format!("line {line_no}: {e}"));
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

/// `{"key":"…","doc":{…}}`: what `ls --json` prints for a record.
fn record_shaped(doc: &Document) -> bool {
    doc.get("key").is_some_and(|k| k.starts_with('"'))
        && doc.get("doc").is_some_and(|d| d.starts_with('{'))
}

fn record(line: &Document, max_doc_bytes: usize) -> Result<(Key, Document), String> {
    const SHAPE: &str = r#"a record is {"key":"K","doc":{...}}, as `syncdb ls --json` prints"#;
    let (Some(key), Some(doc)) = (line.get("key"), line.get("doc")) else {
        return Err(format!("missing \"key\" or \"doc\"; {SHAPE}"));
    };
    let key: String =
        serde_json::from_str(key).map_err(|_| format!("\"key\" must be a string; {SHAPE}"))?;
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
        // A third field, or a doc that is not an object: a plain document.
        for plain in [
            r#"{"key":"42","doc":{"name":"Ada"},"x":1}"#,
            r#"{"key":"42","doc":"text"}"#,
            r#"{"key":42,"doc":{}}"#,
        ] {
            let (_, doc) = r.read(plain, 1).unwrap();
            assert!(doc.get("key").is_some(), "{plain}");
        }
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
