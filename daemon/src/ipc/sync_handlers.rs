//! Handlers for sync configuration: remotes, clone, tokens, serving, digests.
//! Plain functions over `State`; the `sync` stream itself is in `sync_stream.rs`.

use std::sync::Arc;

use syncdb_core::config::{RemoteEntry, ServeConfig};
use syncdb_core::folder::Folder;
use syncdb_core::ipc::*;

use super::errors::{bad_input, not_found, replica_error};
use crate::state::State;
use crate::sync::link::LinkStatus;
use crate::sync::{listener, serve};

/// A token store that failed: the hub's store away is "unavailable".
fn token_error(e: crate::tokens::TokenError) -> RpcError {
    let code = match e {
        crate::tokens::TokenError::Server(_) => ErrorCode::Unavailable,
        _ => ErrorCode::Storage,
    };
    RpcError::new(code, e.to_string())
}

fn remote_status(entry: &RemoteEntry, link: Option<LinkStatus>) -> RemoteStatus {
    let s = link.unwrap_or_default();
    RemoteStatus {
        name: entry.name.clone(),
        url: entry.url.clone(),
        failover: entry.failover.clone(),
        via: s.hub.filter(|h| *h != entry.url),
        connected: s.connected,
        caught_up: s.caught_up,
        last_sync_ms: s.last_sync_ms,
        behind: s.behind,
        error: s.error,
        read_only: entry.read_only,
        stopped: s.broken,
    }
}

/// The remotes of a folder with their live status.
pub fn remote_statuses(state: &State, folder: &Folder) -> Vec<RemoteStatus> {
    let config = state.config();
    let Some(entry) = config.folders.iter().find(|f| f.path == folder.path) else {
        return Vec::new();
    };
    let links = state.sync.links(&folder.path);
    entry
        .remotes
        .iter()
        .map(|r| {
            let link = links.iter().find(|l| l.name == r.name).map(|l| l.status());
            remote_status(r, link)
        })
        .collect()
}

fn check_url(url: &str) -> Result<(), RpcError> {
    remote_url(url).map(|_| ())
}

/// A remote's URL as kept in the config. `HOST:PORT` without a scheme
/// means what `serve` does on that host by default: plain `ws://` on
/// loopback, TLS (`wss://`) anywhere else.
fn remote_url(url: &str) -> Result<String, RpcError> {
    let expected = "expected ws://HOST:PORT (plain, as `syncdb serve` without TLS), \
                    wss://HOST:PORT (TLS), or HOST:PORT";
    let invalid = |why: &str| bad_input(format!("invalid remote URL {url:?}: {why}; {expected}"));
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme @ ("ws" | "wss"), rest)) => (scheme, rest),
        Some(("http" | "https", _)) => {
            return Err(invalid("syncdb speaks WebSocket, not HTTP"));
        }
        Some(_) => return Err(invalid("unknown scheme")),
        None => {
            let host = url.rsplit_once(':').map_or(url, |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            (if loopback { "ws" } else { "wss" }, url)
        }
    };
    if rest.is_empty() || rest.starts_with(':') || rest.contains(char::is_whitespace) {
        return Err(invalid("no host in it"));
    }
    // The hub serves /v1/sync at its root: a path, a query or a user name
    // would be dropped or misread, so none is taken.
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#', '@']) {
        return Err(invalid(
            "only a host and a port are taken (no path, query or user)",
        ));
    }
    let port = match authority.rsplit_once(':') {
        Some((_, port)) if !port.ends_with(']') => port,
        _ => return Err(invalid("no port in it (the hub's `serve --addr` port)")),
    };
    if !port.parse::<u16>().is_ok_and(|p| p != 0) {
        return Err(invalid(&format!("{port:?} is not a port (1-65535)")));
    }
    Ok(format!("{scheme}://{authority}"))
}

fn check_remote_name(name: &str) -> Result<(), RpcError> {
    syncdb_core::Name::parse_as("remote name", name)
        .map(|_| ())
        .map_err(|e| bad_input(e.to_string()))
}

/// Checks a remote's settings (name, URL, CA and token files) before
/// anything is stored, and gives its URL the scheme it is kept with.
fn check_remote(remote: &mut RemoteEntry) -> Result<(), RpcError> {
    check_remote_name(&remote.name)?;
    remote.url = remote_url(&remote.url)?;
    for url in &mut remote.failover {
        *url = remote_url(url)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = remote.urls().find(|u| !seen.insert(*u)) {
        return Err(bad_input(format!(
            "hub {twice} is named twice in the remote's URLs; each --failover names another hub over the same store"
        )));
    }
    if let Some(ca) = &remote.ca_file {
        crate::sync::tls::client_config(Some(ca)).map_err(bad_input)?;
    }
    if let Some(path) = &remote.token_file {
        crate::sync::client::read_token(remote).map_err(bad_input)?;
        if !path.is_absolute() {
            return Err(bad_input(format!(
                "token file {} must be an absolute path",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Adds (or replaces) a remote of `folder` and starts dialing it.
/// Returns the remote as kept (its URL with a scheme).
pub fn add_remote(
    state: &Arc<State>,
    folder: &Folder,
    mut remote: RemoteEntry,
) -> Result<RemoteEntry, RpcError> {
    check_remote(&mut remote)?;
    state.update_config(|c| {
        let entry = c
            .folders
            .iter_mut()
            .find(|f| f.path == folder.path)
            .ok_or_else(|| {
                not_found(format!(
                    "folder {} is not registered",
                    folder.path.display()
                ))
            })?;
        entry.remotes.retain(|r| r.name != remote.name);
        entry.remotes.push(remote.clone());
        Ok(())
    })?;
    state
        .sync
        .start_remote(state, folder.clone(), remote.clone());
    Ok(remote)
}

pub fn remote_add(state: &Arc<State>, p: RemoteAddParams) -> Result<RemoteInfo, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let remote = RemoteEntry {
        name: p.name,
        url: p.url,
        failover: p.failover,
        token_file: p.token_file,
        ca_file: p.ca_file,
        read_only: false,
    };
    let remote = add_remote(state, &folder, remote)?;
    Ok(RemoteInfo {
        name: remote.name,
        url: remote.url,
        failover: remote.failover,
        token_file: remote.token_file,
    })
}

pub fn remote_ls(state: &State, p: FolderParams) -> Result<RemoteList, RpcError> {
    let folder = state.resolve(&p.folder)?;
    Ok(RemoteList {
        remotes: remote_statuses(state, &folder),
    })
}

pub fn remote_rm(state: &State, p: RemoteRmParams) -> Result<Empty, RpcError> {
    let folder = state.resolve(&p.folder)?;
    state.update_config(|c| {
        let entry = c
            .folders
            .iter_mut()
            .find(|f| f.path == folder.path)
            .expect("resolved");
        let before = entry.remotes.len();
        entry.remotes.retain(|r| r.name != p.name);
        if entry.remotes.len() == before {
            return Err(not_found(format!("no remote named {}", p.name)));
        }
        Ok(())
    })?;
    state.sync.stop_remote(&folder.path, &p.name);
    Ok(Empty {})
}

pub fn clone(state: &Arc<State>, p: CloneParams) -> Result<FolderInfo, RpcError> {
    check_url(&p.url)?;
    if !p.path.is_absolute() {
        return Err(bad_input(format!(
            "folder path {} must be absolute",
            p.path.display()
        )));
    }
    if p.folder_id.len() != 36
        || !p
            .folder_id
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-')
    {
        return Err(bad_input(format!(
            "invalid folder id {:?}: expected the id `syncdb init` printed (a UUID)",
            p.folder_id
        )));
    }
    let mut remote = RemoteEntry {
        name: "origin".into(),
        url: p.url,
        failover: p.failover,
        token_file: p.token_file,
        ca_file: p.ca_file,
        read_only: false,
    };
    // Everything that can be refused is, before a file is written.
    check_remote(&mut remote)?;
    let engine = p.engine.unwrap_or(state.config().engine);
    // `created`: this call made the folder, so a clone that then fails to
    // sync may remove it (`folder.rm`); an existing one is never removed.
    let existed = Folder::open(&p.path).is_ok_and(|f| f.settings.id == p.folder_id);
    let folder = Folder::create_with_id(&p.path, &p.folder_id, engine)
        .map_err(|e| RpcError::new(ErrorCode::Storage, e.to_string()))?;
    let registered = state
        .register(&folder)
        .and_then(|()| add_remote(state, &folder, remote).map(|_| ()));
    if let Err(e) = registered {
        if !existed {
            state.forget(&folder.path);
            let _ = std::fs::remove_dir_all(folder.path.join(syncdb_core::folder::MARKER_DIR));
        }
        return Err(e);
    }
    Ok(FolderInfo {
        id: folder.settings.id,
        path: folder.path,
        engine: folder.settings.engine,
        created: !existed,
    })
}

/// Blocking: reads every record. Run it off the async workers.
pub fn digest(state: &State, p: DigestParams) -> Result<DigestOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    let mut databases = Vec::new();
    for name in super::handlers::one_or_all(state, &folder, p.db.as_ref())? {
        let replica = state
            .replicas
            .get(&folder, &name, false)
            .map_err(replica_error)?
            .ok_or_else(|| not_found(format!("no database {name} in {}", folder.path.display())))?;
        let store = |e| replica_error(replica.store_error(e));
        databases.push(DatabaseDigest {
            digest: replica.reader.digest().map_err(store)?,
            records: replica.reader.record_count().map_err(store)?,
            name,
        });
    }
    Ok(DigestOutput { databases })
}

pub fn token_create(state: &State, p: TokenCreateParams) -> Result<TokenCreated, RpcError> {
    let (token, entry) = state
        .sync
        .tokens
        .create(p.folder, p.read_only)
        .map_err(token_error)?;
    tracing::info!(id = %entry.id, read_only = entry.read_only, "token created");
    Ok(TokenCreated {
        token,
        id: entry.id,
        folder: entry.folder,
        read_only: entry.read_only,
    })
}

pub fn token_ls(state: &State) -> Result<TokenList, RpcError> {
    let tokens = state.sync.tokens.list().map_err(token_error)?;
    Ok(TokenList {
        tokens: tokens
            .into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                folder: t.folder,
                read_only: t.read_only,
                created_ms: t.created_ms,
            })
            .collect(),
    })
}

pub fn token_revoke(state: &State, p: TokenRevokeParams) -> Result<Empty, RpcError> {
    let removed = state.sync.tokens.revoke(&p.id).map_err(token_error)?;
    if !removed {
        return Err(not_found(format!("no token with id {}", p.id)));
    }
    // Its sessions end now, and its replicas may come back with a new token.
    if let Err(e) = state.sync.sites.release(&p.id) {
        tracing::warn!(id = %p.id, error = %e, "cannot release the token's replicas");
    }
    state.revoked();
    tracing::info!(id = %p.id, "token revoked");
    Ok(Empty {})
}

pub async fn serve(state: &Arc<State>, p: ServeParams) -> Result<ServeOutput, RpcError> {
    // The deadlines and caps are not `serve` flags: kept whatever it does.
    let current = state.config().serve;
    if p.stop {
        listener::stop(state, listener::Kind::Hub).await;
        state.update_config(|c| {
            c.serve = ServeConfig {
                addr: None,
                tls_cert: None,
                tls_key: None,
                create_folders: None,
                insecure: false,
                api: false,
                ..current.clone()
            };
            Ok(())
        })?;
        return Ok(ServeOutput {
            addr: None,
            url: None,
            api_url: None,
        });
    }
    let cfg = match (p.addr, current.addr.clone()) {
        // Serving already, no address given: what is asked adds to it.
        (None, Some(addr)) => ServeConfig {
            addr: Some(addr),
            tls_cert: p.tls_cert.or(current.tls_cert.clone()),
            tls_key: p.tls_key.or(current.tls_key.clone()),
            create_folders: p.create_folders.or(current.create_folders.clone()),
            store: p.store.clone().or(current.store.clone()),
            insecure: p.insecure || current.insecure,
            api: p.api || current.api,
            ..current
        },
        (addr, _) => ServeConfig {
            addr: Some(addr.unwrap_or_else(|| "127.0.0.1:7700".into())),
            tls_cert: p.tls_cert,
            tls_key: p.tls_key,
            create_folders: p.create_folders,
            // Where the served folders are: kept until changed.
            store: p.store.clone().or(current.store.clone()),
            insecure: p.insecure,
            api: p.api,
            ..current
        },
    };
    serve::check_addr(&cfg).map_err(bad_input)?;
    if let Some(url) = &cfg.store {
        let (url, store_state) = (url.clone(), state.clone());
        tokio::task::spawn_blocking(move || store_state.replicas.store.set(&url))
            .await
            .map_err(|e| RpcError::new(ErrorCode::Internal, e.to_string()))?
            .map_err(|e| {
                match e.contains("bad connection string") || e.contains("serves from another store")
                {
                    true => bad_input(e),
                    false => RpcError::new(ErrorCode::Unavailable, e),
                }
            })?;
        state.replicas.store.ensure_followed(state);
    }
    let given_host = cfg
        .addr
        .as_deref()
        .and_then(|a| a.rsplit_once(':'))
        .map_or(String::new(), |(h, _)| h.to_owned());
    listener::tls_config(&cfg).map_err(bad_input)?;
    if let Some(dir) = &cfg.create_folders {
        std::fs::create_dir_all(dir)
            .map_err(|e| bad_input(format!("--create-folders {}: {e}", dir.display())))?;
    }
    let addr = listener::apply(state, listener::Kind::Hub, cfg.clone())
        .await
        .map_err(|e| RpcError::new(ErrorCode::Storage, e))?;
    // Keep the real port, so a restart serves on the same address.
    let (saved_tls, api) = (cfg.tls_cert.is_some(), cfg.api);
    let mut saved = cfg;
    saved.addr = Some(addr.to_string());
    state.update_config(|c| {
        c.serve = saved;
        Ok(())
    })?;
    let (scheme, api_scheme) = if saved_tls {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    // Served as `localhost`: remotes dial that name, the one a certificate
    // made for it lists.
    let host = match given_host.eq_ignore_ascii_case("localhost") {
        true => format!("localhost:{}", addr.port()),
        false => addr.to_string(),
    };
    Ok(ServeOutput {
        addr: Some(addr.to_string()),
        url: Some(format!("{scheme}://{host}")),
        api_url: api.then(|| format!("{api_scheme}://{host}")),
    })
}
