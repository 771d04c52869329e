//! `syncdb remote`, `syncdb serve`, `syncdb token`: configuring who syncs with whom.

use std::path::PathBuf;

use syncdb_core::ipc::{
    Empty, FolderParams, HttpParams, HttpServe, RemoteAdd, RemoteAddParams, RemoteLs, RemoteRm,
    RemoteRmParams, Serve, ServeParams, TokenCreate, TokenCreateParams, TokenLs, TokenRevoke,
    TokenRevokeParams,
};
use syncdb_core::words::count;

use super::{Ctx, absolute};
use crate::args::{RemoteCommand, ServeArgs, TokenCommand};
use crate::exit::Result;
use crate::output;

pub fn run(ctx: &Ctx, cmd: RemoteCommand) -> Result<()> {
    let folder = ctx.folder()?;
    let mut client = ctx.client()?;
    match cmd {
        RemoteCommand::Add {
            name,
            url,
            failover,
            token_file,
            ca_file,
        } => {
            let info = client.call::<RemoteAdd>(&RemoteAddParams {
                folder,
                name,
                url,
                failover,
                token_file: token_file.as_deref().map(absolute).transpose()?,
                ca_file: ca_file.as_deref().map(absolute).transpose()?,
            })?;
            if ctx.global.json {
                return output::json(&info);
            }
            output::note(
                &ctx.global,
                format!("added remote {} ({}); syncing", info.name, info.url),
            );
            Ok(())
        }
        RemoteCommand::Ls => {
            let list = client.call::<RemoteLs>(&FolderParams { folder })?;
            if ctx.global.json {
                return list.remotes.iter().try_for_each(output::json);
            }
            if list.remotes.is_empty() {
                output::note(
                    &ctx.global,
                    "no remotes; add one with `syncdb remote add NAME URL`",
                );
                return Ok(());
            }
            let rows = list
                .remotes
                .iter()
                .map(|r| {
                    let urls = std::iter::once(&r.url).chain(&r.failover);
                    let urls: Vec<&str> = urls.map(String::as_str).collect();
                    vec![r.name.clone(), urls.join(" "), describe(r, true)]
                })
                .collect();
            output::table(&["NAME", "URL", "STATE"], rows)
        }
        RemoteCommand::Rm { name } => {
            client.call::<RemoteRm>(&RemoteRmParams {
                folder,
                name: name.clone(),
            })?;
            output::note(&ctx.global, format!("removed remote {name}"));
            Ok(())
        }
    }
}

pub fn serve(ctx: &Ctx, args: ServeArgs) -> Result<()> {
    let params = ServeParams {
        addr: args.addr.filter(|_| !args.stop),
        tls_cert: args.tls_cert.as_deref().map(absolute).transpose()?,
        tls_key: args.tls_key.as_deref().map(absolute).transpose()?,
        create_folders: args.create_folders.as_deref().map(absolute).transpose()?,
        store: args.store,
        insecure: args.insecure,
        api: args.api,
        stop: args.stop,
    };
    let out = ctx.client()?.call::<Serve>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    match (out.url, out.api_url) {
        (Some(url), Some(api)) => output::line(format!("serving on {url}, the HTTP API on {api}")),
        (Some(url), None) => output::line(format!("serving on {url}")),
        _ => output::line("not serving"),
    }
}

pub fn http(
    ctx: &Ctx,
    addr: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    insecure: bool,
    cors_origins: Vec<String>,
    stop: bool,
) -> Result<()> {
    // `--cors-origin ''` is "none"; no flag at all keeps what is set.
    let cors_origins = match cors_origins.is_empty() {
        true => None,
        false => Some(cors_origins.into_iter().filter(|o| !o.is_empty()).collect()),
    };
    let params = HttpParams {
        addr,
        tls_cert: tls_cert.as_deref().map(absolute).transpose()?,
        tls_key: tls_key.as_deref().map(absolute).transpose()?,
        insecure,
        cors_origins,
        stop,
    };
    let out = ctx.client()?.call::<HttpServe>(&params)?;
    if ctx.global.json {
        return output::json(&out);
    }
    match &out.url {
        Some(url) => output::line(format!("serving the HTTP API on {url}"))?,
        None => output::line("not serving the HTTP API on TCP")?,
    }
    if let Some(socket) = &out.socket {
        output::line(format!(
            "and on {} (no token: curl --unix-socket {} http://localhost/v1/status)",
            socket.display(),
            socket.display()
        ))?;
    }
    if !out.cors_origins.is_empty() {
        output::line(format!("CORS origins: {}", out.cors_origins.join(", ")))?;
    }
    Ok(())
}

pub fn token(ctx: &Ctx, cmd: TokenCommand) -> Result<()> {
    let mut client = ctx.client()?;
    match cmd {
        TokenCommand::Create { folder, read_only } => {
            let out = client.call::<TokenCreate>(&TokenCreateParams { folder, read_only })?;
            if ctx.global.json {
                return output::json(&out);
            }
            output::note(
                &ctx.global,
                format!(
                    "token {} ({}{}); it is shown only now — store it in a 0600 file",
                    out.id,
                    out.folder
                        .as_deref()
                        .map_or("any folder".to_owned(), |f| format!("folder {f}")),
                    if out.read_only { ", read-only" } else { "" }
                ),
            );
            output::line(&out.token)
        }
        TokenCommand::Ls => {
            let list = client.call::<TokenLs>(&Empty {})?;
            if ctx.global.json {
                return list.tokens.iter().try_for_each(output::json);
            }
            if list.tokens.is_empty() {
                output::note(
                    &ctx.global,
                    "no tokens; create one with `syncdb token create`",
                );
                return Ok(());
            }
            let rows = list
                .tokens
                .iter()
                .map(|t| {
                    let access = if t.read_only {
                        "read-only"
                    } else {
                        "read-write"
                    };
                    let folder = t.folder.as_deref().unwrap_or("any folder");
                    vec![t.id.clone(), folder.to_owned(), access.to_owned()]
                })
                .collect();
            output::table(&["ID", "FOLDER", "ACCESS"], rows)
        }
        TokenCommand::Revoke { id } => {
            client.call::<TokenRevoke>(&TokenRevokeParams { id: id.clone() })?;
            output::note(&ctx.global, format!("revoked token {id}"));
            Ok(())
        }
    }
}

/// A remote's state in words, for `remote ls` and `status`.
/// A remote's state in a few words; `stopped` adds the databases it leaves
/// alone, with why (`status` says that under each database instead).
pub fn describe(r: &syncdb_core::ipc::RemoteStatus, stopped: bool) -> String {
    let state = match (r.connected, r.caught_up) {
        (true, true) => "connected, caught up".to_owned(),
        (true, false) => format!("connected, {} behind", count(r.behind, "record")),
        (false, _) => format!(
            "disconnected: {}",
            r.error.as_deref().unwrap_or("not yet tried")
        ),
    };
    let mut state = if r.read_only {
        format!("{state} (read-only: local writes are refused)")
    } else {
        state
    };
    for (db, why) in r.stopped.iter().filter(|_| stopped) {
        state.push_str(&format!("; {db} not syncing: {why}"));
    }
    state
}
