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
    let (db, collection, key) = Address::parse_collection(address)?;
    if key.is_some() {
        return Err(CliError::usage(format!(
            "put --batch takes DB/COLL, not a record address ({address}); keys come from each line's `_id` or are made"
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
    let (reader, total): (Box<dyn BufRead>, Option<u64>) = match input {
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
    };
    let folder = ctx.folder()?;
    let mut client = ctx.client()?;
    client.call::<ImportBegin>(&ImportBeginParams {
        folder,
        db: db.clone(),
        collection: collection.clone(),
        format: how.format,
        key_field: how.key_field,
        dry_run: how.dry_run,
    })?;
    let bar = output::progress(&ctx.global, total);
    bar.set_message(format!("importing into {db}/{collection}"));

    let mut lines = reader.lines();
    let mut line_no = 0u64;
    loop {
        let first_line = line_no + 1;
        let mut chunk = Vec::with_capacity(CHUNK_LINES);
        let mut bytes = 0;
        while chunk.len() < CHUNK_LINES && bytes < CHUNK_BYTES {
            let Some(line) = lines.next() else { break };
            line_no += 1;
            let line = line.map_err(|e| {
                CliError::usage(format!(
                    "line {line_no}: cannot read: {e}; nothing was imported"
                ))
            })?;
            bytes += line.len() + 1;
            chunk.push(line);
        }
        if chunk.is_empty() {
            break;
        }
        client.call::<ImportChunk>(&ImportChunkParams {
            first_line,
            lines: chunk,
        })?;
        bar.inc(bytes as u64);
    }
    bar.set_message(format!("committing {db}/{collection}"));
    let out = client.call::<ImportEnd>(&Empty {})?;
    bar.finish_and_clear();
    if ctx.global.json {
        return output::json(&out);
    }
    created_note(ctx, out.created_database, &db);
    let records = syncdb_core::words::count(out.imported, "record");
    if out.dry_run {
        // What a dry run is for: said even with --quiet.
        return output::line(format!(
            "would import {records} into {db}/{collection} (dry run: nothing was written)"
        ));
    }
    output::note(
        &ctx.global,
        format!("imported {records} into {db}/{collection}"),
    );
    Ok(())
}
