//! `syncdb put`: one document, or a JSON Lines import in one transaction.

use std::io::BufRead;

use syncdb_core::Address;
use syncdb_core::ipc::{
    Empty, ImportBegin, ImportBeginParams, ImportChunk, ImportChunkParams, ImportEnd, ImportFormat,
    Put, PutParams,
};

use super::{Ctx, read_input, stdin_prompt};
use crate::args::ImportArgs;
use crate::exit::{CliError, Result};
use crate::output;

/// Lines per import chunk, and the byte cap that ends a chunk early.
const CHUNK_LINES: usize = 4096;
const CHUNK_BYTES: usize = 4 << 20;

pub fn one(ctx: &Ctx, address: &str, input: Option<&str>) -> Result<()> {
    let (db, collection, key) = Address::parse_collection(address)?;
    let doc = read_input(&ctx.global, input)?;
    let folder = ctx.folder()?;
    let out = ctx.client()?.call::<Put>(&PutParams {
        folder,
        db: db.clone(),
        collection,
        key,
        doc,
    })?;
    if ctx.global.json {
        return output::json(&out);
    }
    created_note(ctx, out.created_database, &db);
    output::line(out.key.map(String::from).unwrap_or_default())
}

/// A write into a database that did not exist created it: said to a person
/// at a terminal, so `put cmr/...` for `crm` does not pass unnoticed
/// (scripts see `created_database` with `--json`).
pub fn created_note(ctx: &Ctx, created: bool, db: &syncdb_core::Name) {
    use std::io::IsTerminal;
    if created && std::io::stderr().is_terminal() {
        output::note(&ctx.global, format!("created database {db}"));
    }
}

pub fn batch(ctx: &Ctx, address: &str, input: Option<&str>, how: ImportArgs) -> Result<()> {
    let parsed = Address::parse(address)?;
    if parsed.key.is_some() {
        return Err(CliError::usage(format!(
            "put --batch takes DB/COLL (or DB, for lines that name their collection), not a record address ({address}); keys come from each line's `_id` or are made"
        )));
    }
    match &how.key_field {
        Some(f) if f.is_empty() => {
            return Err(CliError::usage("--key-field needs a field name"));
        }
        Some(_) if how.format == ImportFormat::Records => {
            return Err(CliError::usage(
                "--key-field is for documents; with --format records each line carries its key",
            ));
        }
        _ => {}
    }
    let (reader, total) = open_input(ctx, input)?;
    let folder = ctx.folder()?;
    let mut client = ctx.client()?;
    let bar = output::progress(&ctx.global, total);
    let db = parsed.db;
    let mut lines = reader.lines().enumerate().map(|(i, l)| (i as u64 + 1, l));
    let out = import(
        &mut client,
        folder,
        &db,
        parsed.collection.as_ref(),
        &how,
        &mut lines,
        &bar,
    )?;
    bar.finish_and_clear();
    if ctx.global.json {
        return output::json(&out);
    }
    created_note(ctx, out.created_database, &db);
    let records = syncdb_core::words::count(out.imported, "record");
    let into = match &parsed.collection {
        Some(collection) => format!("{db}/{collection}"),
        None if out.collections.is_empty() => db.to_string(),
        None => {
            let parts: Vec<String> = out
                .collections
                .iter()
                .map(|(c, n)| format!("{c}: {n}"))
                .collect();
            format!("{db} ({})", parts.join(", "))
        }
    };
    if out.dry_run {
        // What a dry run is for: said even with --quiet.
        return output::line(format!(
            "would import {records} into {into} (dry run: nothing was written)"
        ));
    }
    output::note(&ctx.global, format!("imported {records} into {into}"));
    Ok(())
}

type Input = (Box<dyn BufRead>, Option<u64>);

fn open_input(ctx: &Ctx, input: Option<&str>) -> Result<Input> {
    Ok(match input {
        None | Some("-") => {
            stdin_prompt(&ctx.global, input, "the JSON Lines")?;
            (Box::new(std::io::stdin().lock()), None)
        }
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| CliError::usage(format!("cannot open {path}: {e}")))?;
            let len = file.metadata().ok().map(|m| m.len());
            (
                Box::new(std::io::BufReader::with_capacity(1 << 20, file)),
                len,
            )
        }
    })
}

/// Lines with their numbers in the input.
type Numbered<'a> = dyn Iterator<Item = (u64, std::io::Result<String>)> + 'a;

/// One import into `db/collection` (or `db`, lines naming their
/// collections), in one transaction: every line of `lines`, then the commit.
fn import(
    client: &mut crate::client::Client,
    folder: syncdb_core::ipc::FolderRef,
    db: &syncdb_core::Name,
    collection: Option<&syncdb_core::Name>,
    how: &ImportArgs,
    lines: &mut Numbered<'_>,
    bar: &indicatif::ProgressBar,
) -> Result<syncdb_core::ipc::ImportOutput> {
    client.call::<ImportBegin>(&ImportBeginParams {
        folder,
        db: db.clone(),
        collection: collection.cloned(),
        format: how.format,
        key_field: how.key_field.clone(),
        dry_run: how.dry_run,
    })?;
    let target = match collection {
        Some(collection) => format!("{db}/{collection}"),
        None => db.to_string(),
    };
    bar.set_message(format!("importing into {target}"));
    let mut lines = lines.peekable();
    while let Some(&(first_line, _)) = lines.peek() {
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        let mut bytes = 0;
        while chunk.len() < CHUNK_LINES && bytes < CHUNK_BYTES {
            let Some((line_no, line)) = lines.next() else {
                break;
            };
            let line = line.map_err(|e| {
                CliError::usage(format!(
                    "line {line_no}: cannot read: {e}; nothing was imported"
                ))
            })?;
            bytes += line.len() + 1;
            chunk.push(line);
        }
        client.call::<ImportChunk>(&ImportChunkParams {
            first_line,
            lines: chunk,
        })?;
        bar.inc(bytes as u64);
    }
    bar.set_message(format!("committing {target}"));
    client.call::<ImportEnd>(&Empty {})
}
