//! `syncdb export DB[/COLL]`: JSON Lines with keys, read back by `syncdb
//! put … --batch`. Pages through the daemon's `ls`, so a large database
//! streams instead of piling up in memory.

use std::io::Write;
use std::path::Path;

use syncdb_core::ipc::{Ls, LsParams};
use syncdb_core::{Address, Key, Name};

use super::Ctx;
use crate::exit::{CliError, Result};

const PAGE: usize = 1000;
/// A page also ends once its documents reach about this many bytes.
const PAGE_BYTES: usize = 4 << 20;

pub fn run(ctx: &Ctx, address: &str, output: Option<&Path>) -> Result<()> {
    let a = Address::parse(address)?;
    if a.key.is_some() {
        return Err(CliError::usage(format!(
            "export takes DB or DB/COLL, not a record; use `syncdb get {a}`"
        )));
    }
    let folder = ctx.folder()?;
    let mut client = ctx.client()?;
    let collections: Vec<Name> = match &a.collection {
        Some(c) => vec![c.clone()],
        None => {
            let p = LsParams {
                folder: folder.clone(),
                db: Some(a.db.clone()),
                collection: None,
                prefix: String::new(),
                after: None,
                limit: usize::MAX,
                max_bytes: None,
                keys_only: false,
                all: false,
            };
            let out = client.call::<Ls>(&p)?;
            let all = out.collections.unwrap_or_default().into_iter();
            all.filter(|c| c.name.as_str() != syncdb_core::schema::COLLECTION)
                .map(|c| c.name)
                .collect()
        }
    };
    let write_err = |e: std::io::Error| CliError::failed(format!("cannot write the export: {e}"));
    let mut out: Box<dyn Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let whole_db = a.collection.is_none();
    let mut line = String::new();
    for collection in collections {
        let mut p = LsParams {
            folder: folder.clone(),
            db: Some(a.db.clone()),
            collection: Some(collection.clone()),
            prefix: String::new(),
            after: None,
            limit: PAGE,
            max_bytes: Some(PAGE_BYTES),
            keys_only: false,
            all: false,
        };
        loop {
            let page = client.call::<Ls>(&p)?.records.unwrap_or_default();
            let mut last: Option<Key> = None;
            for r in &page {
                line.clear();
                line.push('{');
                if whole_db {
                    line.push_str("\"collection\":");
                    syncdb_core::doc::push_json_string(&mut line, collection.as_str());
                    line.push(',');
                }
                line.push_str("\"key\":");
                syncdb_core::doc::push_json_string(&mut line, r.key.as_str());
                line.push_str(",\"doc\":");
                line.push_str(r.doc.as_ref().map_or("{}", |d| d.get()));
                line.push_str("}\n");
                out.write_all(line.as_bytes()).map_err(write_err)?;
                last = Some(r.key.clone());
            }
            match last {
                Some(key) if !page.is_empty() => p.after = Some(key),
                _ => break,
            }
        }
    }
    out.flush().map_err(write_err)
}
