//! How the command meets a person or a script before any work: usage
//! errors in the shape `--json` promises, parse errors in words with one
//! position, and never a silent wait on a terminal.

use crate::support::*;
use crate::terminal::Tty;

/// Runs `args` with `--json` and returns the one JSON error on stderr.
#[track_caller]
fn json_usage_error(home: &Home, args: &[&str]) -> serde_json::Value {
    let out = home.run(args);
    assert_eq!(out.code, 2, "usage errors exit 2: {out:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {out:?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(lines[0]).expect("stderr is JSON");
    assert_eq!(value["error"]["exit"], 2, "{value}");
    value
}

#[test]
fn with_json_a_refused_command_line_is_a_json_error_with_its_exit_code() {
    let home = Home::with_folder("redb");
    let missing = json_usage_error(&home, &["--json", "put"]);
    let message = missing["error"]["message"].as_str().unwrap();
    assert!(message.contains("<ADDRESS>"), "{missing}");
    assert!(
        missing["error"]["usage"]
            .as_str()
            .unwrap()
            .starts_with("syncdb"),
        "{missing}"
    );

    // `--json` after the subcommand counts as well.
    let unknown = json_usage_error(&home, &["get", "--frobnicate", "--json"]);
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--frobnicate"),
        "{unknown}"
    );

    let bare = json_usage_error(&home, &["--json"]);
    let message = bare["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("a subcommand is required: one of "),
        "{message}"
    );
    assert!(
        message.contains("put") && message.contains("sync"),
        "{message}"
    );
    assert!(
        !message.contains("__docs") && !message.contains("help"),
        "{message}"
    );

    // Without `--json` clap's own text, and help still prints as help.
    let plain = home.run(&["put"]);
    assert_eq!(plain.code, 2);
    assert!(plain.stderr.starts_with("error: "), "{}", plain.stderr);
    let help = home.run(&["--json", "put", "--help"]);
    assert!(help.ok().contains("Usage: syncdb put"), "{}", help.stdout);
}

#[test]
fn a_bad_batch_line_is_named_once_with_its_column_and_in_words() {
    let home = Home::with_folder("redb");
    let out = home.run_stdin(
        &["put", "crm/person", "--batch", "-"],
        b"{\"name\":\"Ada\"}\n{name:\"Bob\"}\n",
    );
    out.fails(
        2,
        "line 2, column 2: expected a field name in double quotes",
    );
    assert!(!out.stderr.contains(" at line "), "{}", out.stderr);
    assert!(!out.stderr.contains("ident"), "{}", out.stderr);
    home.run(&["ls", "crm/person"]).fails(3, "no database crm");

    let one = home.run(&["put", "crm/person/1", "{\"a\": tru}"]);
    one.fails(2, "expected a JSON value");
    assert!(!one.stderr.contains("ident"), "{}", one.stderr);
}

#[test]
fn put_on_a_terminal_without_a_document_refuses_instead_of_waiting() {
    let home = Home::with_folder("redb");
    let Some(tty) = Tty::start(&home, 120, 20, "put crm/person/1") else {
        return;
    };
    let (code, screen) = tty.exit();
    assert_eq!(code, 2, "{screen}");
    assert!(
        screen.contains("no input given and stdin is a terminal"),
        "{screen}"
    );
    assert!(!home.folder().join("crm.redb").exists(), "nothing written");
}

#[test]
fn put_dash_on_a_terminal_says_how_to_end_the_document() {
    let home = Home::with_folder("redb");
    let Some(tty) = Tty::start(&home, 120, 20, "put crm/person/1 -") else {
        return;
    };
    tty.wait_for("end it with Ctrl-D");
    tty.keys(&["{\"name\":\"Ada\"}", "Enter", "C-d"]);
    let (code, screen) = tty.exit();
    assert_eq!(code, 0, "{screen}");
    assert_eq!(home.get("crm/person/1"), serde_json::json!({"name": "Ada"}));
}
