//! Parsed names: database and collection names, record keys, and addresses.
//!
//! Every name that reaches a file path or the wire goes through these types, so
//! the rule lives in one place: folders, databases and collections are 1–64
//! characters of `A-Z a-z 0-9 _ -`, not starting with `-`. Keys are freer
//! (any UTF-8 without `/` or control characters) because they never become
//! file names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest database, collection or folder name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest record key, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// A database or collection name (`crm`, `person`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

/// A record key (`42`, a UUIDv7, an email address).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

/// Why a name, key or address was refused. The message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "invalid {what} {value:?}: {reason}; allowed: 1-64 characters of A-Z a-z 0-9 _ -, not starting with -"
    )]
    Name {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(
        "invalid key {value:?}: {reason}; allowed: 1-512 bytes of UTF-8 without '/' or control characters"
    )]
    Key { value: String, reason: &'static str },
    #[error("invalid address {value:?}: {reason}; expected {expected}")]
    Address {
        value: String,
        reason: &'static str,
        expected: &'static str,
    },
}

impl Name {
    /// Parses a name; `what` ("database", "collection", …) goes into the error.
    pub fn parse_as(what: &'static str, s: &str) -> Result<Self, NameError> {
        let bad = |reason| NameError::Name {
            what,
            value: s.chars().take(80).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > MAX_NAME_LEN {
            return Err(bad("it is longer than 64 characters"));
        }
        if s.starts_with('-') {
            return Err(bad("it starts with '-'"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(bad("it has a character outside the allowed set"));
        }
        Ok(Name(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Key {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let bad = |reason| NameError::Key {
            value: s.chars().take(80).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > MAX_KEY_LEN {
            return Err(bad("it is longer than 512 bytes"));
        }
        if s.contains('/') {
            return Err(bad("it contains '/'"));
        }
        if s.chars().any(char::is_control) {
            return Err(bad("it contains a control character"));
        }
        Ok(Key(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A new UUIDv7 key: time-ordered, never clashes across machines.
    pub fn new_v7() -> Self {
        Key(uuid::Uuid::now_v7().to_string())
    }
}

macro_rules! string_newtype {
    ($t:ty, $parse:expr) => {
        impl TryFrom<String> for $t {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                $parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
string_newtype!(Name, |s: &str| Name::parse_as("name", s));
string_newtype!(Key, Key::parse);

/// `DB`, `DB/COLL` or `DB/COLL/KEY`, as typed on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub db: Name,
    pub collection: Option<Name>,
    pub key: Option<Key>,
}

impl Address {
    /// Parses any of the three forms; commands then demand the parts they need.
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let mut parts = s.splitn(3, '/');
        let db = Name::parse_as("database name", parts.next().unwrap_or(""))?;
        let collection = parts
            .next()
            .map(|c| Name::parse_as("collection name", c))
            .transpose()?;
        let key = parts.next().map(Key::parse).transpose()?;
        Ok(Address {
            db,
            collection,
            key,
        })
    }

    fn shape_error(s: &str, reason: &'static str, expected: &'static str) -> NameError {
        NameError::Address {
            value: s.chars().take(80).collect(),
            reason,
            expected,
        }
    }

    /// `DB/COLL/KEY`: the address of one record.
    pub fn parse_record(s: &str) -> Result<(Name, Name, Key), NameError> {
        const EXPECTED: &str = "DB/COLL/KEY";
        match Address::parse(s)? {
            Address {
                db,
                collection: Some(c),
                key: Some(k),
            } => Ok((db, c, k)),
            _ => Err(Self::shape_error(s, "it does not name a record", EXPECTED)),
        }
    }

    /// `DB/COLL` or `DB/COLL/KEY`.
    pub fn parse_collection(s: &str) -> Result<(Name, Name, Option<Key>), NameError> {
        const EXPECTED: &str = "DB/COLL or DB/COLL/KEY";
        match Address::parse(s)? {
            Address {
                db,
                collection: Some(c),
                key,
            } => Ok((db, c, key)),
            _ => Err(Self::shape_error(
                s,
                "it does not name a collection",
                EXPECTED,
            )),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.db)?;
        if let Some(c) = &self.collection {
            write!(f, "/{c}")?;
        }
        if let Some(k) = &self.key {
            write!(f, "/{k}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for ok in ["a", "crm", "A_b-9", &"x".repeat(64)] {
            assert!(Name::parse_as("db", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a/b",
            "..",
            ".",
            "a b",
            "a\0b",
            "é",
            "a\\b",
            "C:x",
            &"x".repeat(65),
        ] {
            let err = Name::parse_as("database name", bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains("allowed: 1-64 characters"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn keys_refuse_slash_control_and_length() {
        assert!(Key::parse("user@example.com").is_ok());
        assert!(Key::parse("é 42").is_ok());
        for bad in ["", "a/b", "a\0b", "a\nb", &"k".repeat(513)] {
            assert!(Key::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_split_into_parts() {
        let a = Address::parse("crm/person/42").unwrap();
        assert_eq!(a.to_string(), "crm/person/42");
        assert_eq!(a.key.unwrap().as_str(), "42");
        assert!(Address::parse("crm").unwrap().collection.is_none());
        assert!(Address::parse("crm/../x").is_err());
        assert!(Address::parse_record("crm/person").is_err());
        assert!(Address::parse_collection("crm").is_err());
        let err = Address::parse_record("crm/person").unwrap_err().to_string();
        assert!(err.contains("expected DB/COLL/KEY"), "{err}");
    }
}
