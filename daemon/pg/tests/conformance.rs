//! The storage conformance suite on the PostgreSQL store, against a real
//! server (`syncdb_pg::cluster`): the scenarios the file engines pass
//! (`core/tests/conformance/scenarios.rs`), each on a database of its own,
//! and what only a shared server can do wrong — two stores writing one
//! database at once.

#[allow(dead_code)]
#[macro_use]
#[path = "../../../core/tests/conformance/scenarios.rs"]
mod scenarios;

use std::sync::Arc;

use syncdb_core::{Database, EngineKind};
use syncdb_pg::PgStore;
use syncdb_pg::cluster::TestServer;

/// Runs `scenario` on a fresh database of its own, or says it was skipped.
fn on_postgres(scenario: fn(EngineKind)) {
    let Some(server) = TestServer::get() else {
        return;
    };
    let store = PgStore::connect(&server.url()).unwrap();
    scenarios::on_server(
        move |name| {
            let engine = store.open("conformance", name).unwrap();
            Database::from_engine(Arc::new(engine)).unwrap()
        },
        || scenario(EngineKind::Postgres),
    );
    drop(server);
}

macro_rules! postgres {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(#[test]
            fn $test() {
                super::on_postgres(super::scenarios::$test)
            })*
        }
    };
}

with_scenarios!(postgres);
