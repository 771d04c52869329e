//! What hubs sharing a server agree on besides the data: the tokens that
//! open their folders (hashes only; hashing and checking stay with the
//! hub) and which token owns which replica. Both live in tables every hub
//! reads, so a token made through one hub opens every hub, and a
//! revocation holds on every hub from its commit. It also notifies
//! [`REVOKED`], so that every hub ends the revoked token's sessions at once
//! (`listen::Wake::Revoked`).

use crate::{PgStore, Query, Result, StoreError};

/// The channel revocations are announced on, with the token's id.
pub const REVOKED: &str = "syncdb_revoked";

/// A token as the server keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    /// Hex SHA-256 of the secret part.
    pub hash: String,
    /// The only folder it opens; any when `None`.
    pub folder: Option<String>,
    pub read_only: bool,
    pub created_ms: u64,
}

/// The token another claim of a replica found it bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub owner: String,
}

fn token_of(row: &tokio_postgres::Row) -> TokenRow {
    TokenRow {
        id: row.get(0),
        hash: row.get(1),
        folder: row.get(2),
        read_only: row.get(3),
        created_ms: row.get::<_, i64>(4) as u64,
    }
}

impl PgStore {
    /// Stores a new token; an id already there is refused.
    pub fn token_create(&self, token: &TokenRow) -> Result<()> {
        let mut conn = self.conn()?;
        let made = conn.client().exec(
            "INSERT INTO syncdb.tokens (id, hash, folder, read_only, created_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[
                &token.id,
                &token.hash,
                &token.folder,
                &token.read_only,
                &(token.created_ms as i64),
            ],
        )?;
        if made == 0 {
            return Err(StoreError::Server(format!(
                "a token with id {} exists already",
                token.id
            )));
        }
        Ok(())
    }

    /// Every token, by id.
    pub fn tokens(&self) -> Result<Vec<TokenRow>> {
        let mut conn = self.conn()?;
        let rows = conn.client().rows(
            "SELECT id, hash, folder, read_only, created_ms FROM syncdb.tokens ORDER BY id",
            &[],
        )?;
        Ok(rows.iter().map(token_of).collect())
    }

    /// The token `id`, if it exists (is not revoked).
    pub fn token(&self, id: &str) -> Result<Option<TokenRow>> {
        let mut conn = self.conn()?;
        let rows = conn.client().rows(
            "SELECT id, hash, folder, read_only, created_ms FROM syncdb.tokens WHERE id = $1",
            &[&id],
        )?;
        Ok(rows.first().map(token_of))
    }

    /// Revokes `id`: the token and the replicas bound to it go in one
    /// transaction, announced on [`REVOKED`] when it commits. Whether there
    /// was such a token.
    pub fn token_revoke(&self, id: &str) -> Result<bool> {
        let mut conn = self.conn()?;
        let txn = conn.client().begin()?;
        let gone = txn.exec("DELETE FROM syncdb.tokens WHERE id = $1", &[&id])?;
        if gone > 0 {
            txn.exec("SELECT pg_notify($1, $2)", &[&REVOKED, &id])?;
        }
        txn.commit()?;
        Ok(gone > 0)
    }

    /// Binds replica `site` of `db` in `folder` to `token`, or checks that
    /// it is bound to it already; two hubs claiming at once get one answer
    /// (the table's key decides). A token that does not exist claims
    /// nothing.
    pub fn claim(
        &self,
        folder: &str,
        db: &str,
        site: &str,
        token: &str,
    ) -> Result<std::result::Result<(), Taken>> {
        let mut conn = self.conn()?;
        let c = conn.client();
        c.exec(
            "INSERT INTO syncdb.sites (folder, db, site, token)
             SELECT $1, $2, $3, id FROM syncdb.tokens WHERE id = $4
             ON CONFLICT (folder, db, site) DO NOTHING",
            &[&folder, &db, &site, &token],
        )?;
        let rows = c.rows(
            "SELECT token FROM syncdb.sites WHERE folder = $1 AND db = $2 AND site = $3",
            &[&folder, &db, &site],
        )?;
        match rows.first().map(|r| r.get::<_, String>(0)) {
            Some(owner) if owner == token => Ok(Ok(())),
            Some(owner) => Ok(Err(Taken { owner })),
            None => Err(StoreError::Server(format!("no token {token}"))),
        }
    }

    /// The token each known replica of `db` in `folder` is bound to:
    /// (site, token) by site.
    pub fn owners(&self, folder: &str, db: &str) -> Result<Vec<(String, String)>> {
        let mut conn = self.conn()?;
        let rows = conn.client().rows(
            "SELECT site, token FROM syncdb.sites WHERE folder = $1 AND db = $2 ORDER BY site",
            &[&folder, &db],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
