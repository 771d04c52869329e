//! Access tokens for remotes. A token is `sdb_<id>_<secret>`: `id` is a
//! public lookup key, `secret` 256 random bits from the OS. The hub stores
//! only SHA-256 of the secret (0600 file, written atomically), compares in
//! constant time, and never logs a token. A hub serving from a shared
//! store (`serve.store`) keeps them in the store's `syncdb.tokens` table
//! instead, so every hub on it opens to the same tokens and a revocation
//! holds on all of them at once.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use syncdb_pg::access::TokenRow;

use crate::store::Store;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default, rename = "token")]
    tokens: Vec<TokenEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub id: String,
    /// Hex SHA-256 of the secret part.
    hash: String,
    /// The only folder the token opens; any folder when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    pub read_only: bool,
    pub created_ms: u64,
}

/// What a valid token allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub read_only: bool,
    /// The only folder it opens; any when `None`.
    pub folder: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token store {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("cannot get random bytes from the OS: {0}")]
    Random(String),
    #[error("the hub's store: {0}")]
    Server(String),
}

pub struct Tokens {
    path: PathBuf,
    store: Arc<Store>,
}

impl From<TokenEntry> for TokenRow {
    fn from(t: TokenEntry) -> Self {
        TokenRow {
            id: t.id,
            hash: t.hash,
            folder: t.folder,
            read_only: t.read_only,
            created_ms: t.created_ms,
        }
    }
}

impl From<TokenRow> for TokenEntry {
    fn from(t: TokenRow) -> Self {
        TokenEntry {
            id: t.id,
            hash: t.hash,
            folder: t.folder,
            read_only: t.read_only,
            created_ms: t.created_ms,
        }
    }
}

fn server(e: syncdb_core::store::StoreError) -> TokenError {
    TokenError::Server(e.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Equal-length comparison whose time does not depend on where bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Tokens {
    pub fn new(data_dir: &Path, store: Arc<Store>) -> Self {
        Tokens {
            path: data_dir.join("tokens.toml"),
            store,
        }
    }

    /// Every token, from the file or the store.
    fn all(&self) -> Result<Vec<TokenEntry>, TokenError> {
        if self.store.is_set() {
            let rows = self.store.get().and_then(|s| s.tokens()).map_err(server)?;
            return Ok(rows.into_iter().map(TokenEntry::from).collect());
        }
        Ok(self.load()?.tokens)
    }

    fn load(&self) -> Result<TokenFile, TokenError> {
        let store = |message: String| TokenError::Store {
            path: self.path.clone(),
            message,
        };
        // Whoever can write this file can let anyone in: only ours counts.
        syncdb_core::paths::check_trusted(&self.path).map_err(|e| store(e.to_string()))?;
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| store(e.message().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
            Err(e) => Err(store(e.to_string())),
        }
    }

    fn save(&self, file: &TokenFile) -> Result<(), TokenError> {
        let text = toml::to_string_pretty(file).expect("tokens serialize");
        syncdb_core::folder::write_atomic(&self.path, text.as_bytes()).map_err(|e| {
            TokenError::Store {
                path: self.path.clone(),
                message: e.to_string(),
            }
        })
    }

    /// Makes a token and stores its hash; the token itself is returned once.
    pub fn create(
        &self,
        folder: Option<String>,
        read_only: bool,
    ) -> Result<(String, TokenEntry), TokenError> {
        let mut raw = [0u8; 36];
        getrandom::fill(&mut raw).map_err(|e| TokenError::Random(e.to_string()))?;
        let id = hex(&raw[..4]);
        let secret = hex(&raw[4..]);
        let entry = TokenEntry {
            id: id.clone(),
            hash: hash(&secret),
            folder,
            read_only,
            created_ms: syncdb_core::version::wall_clock_ms(),
        };
        if self.store.is_set() {
            let row = TokenRow::from(entry.clone());
            self.store
                .get()
                .and_then(|s| s.token_create(&row))
                .map_err(server)?;
        } else {
            let mut file = self.load()?;
            file.tokens.push(entry.clone());
            self.save(&file)?;
        }
        Ok((format!("sdb_{id}_{secret}"), entry))
    }

    pub fn list(&self) -> Result<Vec<TokenEntry>, TokenError> {
        self.all()
    }

    /// Whether the token `id` exists (is not revoked).
    pub fn exists(&self, id: &str) -> Result<bool, TokenError> {
        if self.store.is_set() {
            let row = self.store.get().and_then(|s| s.token(id)).map_err(server)?;
            return Ok(row.is_some());
        }
        Ok(self.load()?.tokens.iter().any(|t| t.id == id))
    }

    /// Removes a token by id; false if there was none. In the store the
    /// replicas bound to it go with it, and every hub is told.
    pub fn revoke(&self, id: &str) -> Result<bool, TokenError> {
        if self.store.is_set() {
            return self
                .store
                .get()
                .and_then(|s| s.token_revoke(id))
                .map_err(server);
        }
        let mut file = self.load()?;
        let before = file.tokens.len();
        file.tokens.retain(|t| t.id != id);
        if file.tokens.len() == before {
            return Ok(false);
        }
        self.save(&file)?;
        Ok(true)
    }

    /// Checks `token` for `folder`; `None` for a missing, malformed, wrong,
    /// revoked or other-folder token (one answer, so nothing is learned).
    pub fn check(&self, token: &str, folder: &str) -> Result<Option<Grant>, TokenError> {
        Ok(self
            .lookup(token)?
            .filter(|g| g.folder.as_deref().is_none_or(|f| f == folder)))
    }

    /// What `token` allows; `None` for a missing, malformed, wrong or
    /// revoked one.
    pub fn lookup(&self, token: &str) -> Result<Option<Grant>, TokenError> {
        let Some((id, secret)) = token.strip_prefix("sdb_").and_then(|t| t.split_once('_')) else {
            return Ok(None);
        };
        let tokens = match self.store.is_set() {
            true => {
                let row = self.store.get().and_then(|s| s.token(id)).map_err(server)?;
                row.into_iter().map(TokenEntry::from).collect()
            }
            false => self.load()?.tokens,
        };
        let presented = hash(secret);
        for entry in &tokens {
            let matches = constant_time_eq(entry.hash.as_bytes(), presented.as_bytes());
            if entry.id == id && matches {
                return Ok(Some(Grant {
                    id: entry.id.clone(),
                    read_only: entry.read_only,
                    folder: entry.folder.clone(),
                }));
            }
        }
        Ok(None)
    }

    /// True when no token exists: the hub is open (loopback use, tests).
    pub fn is_empty(&self) -> Result<bool, TokenError> {
        Ok(self.all()?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_scope_and_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tokens::new(dir.path(), Arc::default());
        let (any, _) = t.create(None, false).unwrap();
        let (ro, ro_entry) = t.create(Some("f1".into()), true).unwrap();
        assert_eq!(any.len(), 4 + 8 + 1 + 64);
        assert!(t.check(&any, "f9").unwrap().is_some());
        assert!(t.check(&ro, "f1").unwrap().unwrap().read_only);
        assert!(
            t.check(&ro, "f2").unwrap().is_none(),
            "scoped to its folder"
        );
        let mut wrong = any.clone();
        wrong.pop();
        wrong.push('x');
        assert!(t.check(&wrong, "f9").unwrap().is_none());
        assert!(t.check("garbage", "f9").unwrap().is_none());
        assert!(t.revoke(&ro_entry.id).unwrap());
        assert!(t.check(&ro, "f1").unwrap().is_none(), "revoked");
        let stored = std::fs::read_to_string(dir.path().join("tokens.toml")).unwrap();
        assert!(
            !stored.contains(any.split('_').nth(2).unwrap()),
            "only hashes are stored"
        );
    }
}
