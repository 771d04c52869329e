//! Which credential owns which replica, on a hub.
//!
//! A replica's site id is public (it is the suffix of every version it
//! writes), and the hub keeps its checkpoint for a replica by site id. So a
//! token holder who could claim another replica's site could move that
//! replica's checkpoint past writes the hub never received, and they would
//! never arrive. The hub therefore binds each (folder, database, site) to
//! the token that first claimed it, durably, and refuses a session that
//! claims a site bound to another token. Revoking a token releases its
//! bindings, so a replica can come back with a new token. Retiring a
//! replica (`replica rm`) does not: it may come back, and its site is its
//! own until its token goes.
//!
//! A hub serving from a shared store keeps the bindings in its
//! `syncdb.sites` table: every hub on it sees a claim made through any,
//! and the store decides between two claims at once.
//!
//! Replicas that share one token share one credential: they can claim each
//! other's sites. Give each machine its own token (SECURITY.md).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use syncdb_core::{Name, SiteId};

use crate::store::Store;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    #[serde(default, rename = "site")]
    sites: Vec<Binding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Binding {
    folder: String,
    db: String,
    site: String,
    token: String,
}

/// Why a claim was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(
        "replica {} of database {db} belongs to another credential (token {owner}); if this is that replica with a new token, revoke the old one on the hub (`syncdb token revoke {owner}`)",
        site.to_hex()
    )]
    Taken {
        db: Name,
        site: SiteId,
        owner: String,
    },
    #[error("site store {path}: {message}")]
    Store { path: PathBuf, message: String },
}

pub struct Sites {
    path: PathBuf,
    /// Serializes read-modify-write of the file between sessions.
    lock: Mutex<()>,
    store: Arc<Store>,
}

impl Sites {
    pub fn new(data_dir: &Path, store: Arc<Store>) -> Self {
        Sites {
            path: data_dir.join("sites.toml"),
            lock: Mutex::new(()),
            store,
        }
    }

    /// The shared store, when the hub serves from one.
    fn shared(&self) -> Result<Option<syncdb_pg::PgStore>, ClaimError> {
        if !self.store.is_set() {
            return Ok(None);
        }
        self.store.get().map(Some).map_err(|e| ClaimError::Store {
            path: "the hub's store".into(),
            message: e.to_string(),
        })
    }

    fn store_err(&self, message: String) -> ClaimError {
        ClaimError::Store {
            path: self.path.clone(),
            message,
        }
    }

    fn load(&self) -> Result<SiteFile, ClaimError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| self.store_err(e.message().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SiteFile::default()),
            Err(e) => Err(self.store_err(e.to_string())),
        }
    }

    fn save(&self, file: &SiteFile) -> Result<(), ClaimError> {
        let text = toml::to_string_pretty(file).expect("sites serialize");
        syncdb_core::folder::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| self.store_err(e.to_string()))
    }

    /// Binds `site` of `db` in `folder` to `token`, or checks that it is
    /// bound to it already. Durable before it returns `Ok`.
    pub fn claim(
        &self,
        folder: &str,
        db: &Name,
        site: SiteId,
        token: &str,
    ) -> Result<(), ClaimError> {
        let site_hex = site.to_hex();
        if let Some(store) = self.shared()? {
            let claimed = store.claim(folder, db.as_str(), &site_hex, token);
            return match claimed.map_err(|e| self.store_err(e.to_string()))? {
                Ok(()) => Ok(()),
                Err(taken) => Err(ClaimError::Taken {
                    db: db.clone(),
                    site,
                    owner: taken.owner,
                }),
            };
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.load()?;
        let bound = file
            .sites
            .iter()
            .find(|b| b.folder == folder && b.db == db.as_str() && b.site == site_hex);
        match bound {
            Some(b) if b.token == token => Ok(()),
            Some(b) => Err(ClaimError::Taken {
                db: db.clone(),
                site,
                owner: b.token.clone(),
            }),
            None => {
                file.sites.push(Binding {
                    folder: folder.to_owned(),
                    db: db.to_string(),
                    site: site_hex,
                    token: token.to_owned(),
                });
                self.save(&file)
            }
        }
    }

    /// The token each known replica of `db` in `folder` is bound to, by site.
    pub fn owners(
        &self,
        folder: &str,
        db: &Name,
    ) -> Result<std::collections::HashMap<SiteId, String>, ClaimError> {
        if let Some(store) = self.shared()? {
            let owners = store
                .owners(folder, db.as_str())
                .map_err(|e| self.store_err(e.to_string()))?;
            return Ok(owners
                .into_iter()
                .filter_map(|(site, token)| Some((SiteId::from_hex(&site)?, token)))
                .collect());
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self
            .load()?
            .sites
            .into_iter()
            .filter(|b| b.folder == folder && b.db == db.as_str())
            .filter_map(|b| Some((SiteId::from_hex(&b.site)?, b.token)))
            .collect())
    }

    /// Forgets every binding of `token` (it was revoked). The store's go
    /// with the token's row.
    pub fn release(&self, token: &str) -> Result<(), ClaimError> {
        if self.store.is_set() {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = self.load()?;
        let before = file.sites.len();
        file.sites.retain(|b| b.token != token);
        if file.sites.len() == before {
            return Ok(());
        }
        self.save(&file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_belongs_to_the_first_token_until_it_is_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let sites = Sites::new(dir.path(), Arc::default());
        let db = Name::parse_as("db", "crm").unwrap();
        let s = SiteId([7; 16]);
        sites.claim("f", &db, s, "alice").unwrap();
        sites.claim("f", &db, s, "alice").unwrap();
        assert!(matches!(
            sites.claim("f", &db, s, "mallory"),
            Err(ClaimError::Taken { .. })
        ));
        // Another folder or database is another replica.
        sites.claim("g", &db, s, "mallory").unwrap();
        // Durable: a new store over the same file still refuses.
        let again = Sites::new(dir.path(), Arc::default());
        assert!(again.claim("f", &db, s, "mallory").is_err());
        again.release("alice").unwrap();
        again.claim("f", &db, s, "bob").unwrap();
    }
}
