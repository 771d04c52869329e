//! syncdb-core is the engine-neutral heart every process links: it stays
//! free of an async runtime, of a web stack and of a database server's
//! client (the PostgreSQL store is `daemon/pg`, which depends on core,
//! never the other way). Checked on the dependency graph itself.

use std::process::Command;

#[test]
fn core_depends_on_no_runtime_web_stack_or_server_client() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "syncdb-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--locked",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.starts_with("syncdb-core v"), "{tree}");
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for banned in [
        "tokio",
        "tokio-postgres",
        "postgres-protocol",
        "axum",
        "hyper",
        "syncdb-pg",
        "syncdb-daemon",
    ] {
        assert!(
            !crates.contains(&banned),
            "syncdb-core depends on {banned}:\n{tree}"
        );
    }
}
