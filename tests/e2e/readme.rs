//! The README's sessions, run for real: every ```console block is a list of
//! `PROMPT$ COMMAND` lines, each followed by the output it claims, and this
//! test runs the commands in order and checks that output.
//!
//! Each prompt is a machine of its own (`$` is "me", `hub$` and `laptop$`
//! are two more): its own user home (`/home/me` in the README) and its own
//! `SYNCDB_HOME`. What differs from run to run is matched by shape and bound
//! at first sight — a folder id printed by `init` is then the id that
//! `clone` is given — and the port 7700 is replaced by a free one.
//!
//! The commands run as a script runs them, without a terminal: lines that
//! only a terminal shows (progress bars, drawn with `█`) are not checked,
//! and an output that ends in `...` is a command that keeps running (`watch`):
//! it is stopped once given time, and the lines before `...` are checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

use crate::support::*;

struct Step {
    machine: String,
    command: String,
    expected: Vec<String>,
    keeps_running: bool,
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(path).unwrap()
}

/// The ```console blocks, each as its steps.
fn console_blocks(text: &str) -> Vec<Vec<Step>> {
    let prompt = Regex::new(r"^([a-z]*)\$ (.*)$").unwrap();
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let mut steps: Vec<Step> = Vec::new();
        for line in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            if let Some(c) = prompt.captures(line) {
                steps.push(Step {
                    machine: c[1].to_owned(),
                    command: c[2].to_owned(),
                    expected: Vec::new(),
                    keeps_running: false,
                });
            } else {
                let step = steps.last_mut().expect("a block starts with a prompt");
                if line == "..." {
                    step.keeps_running = true;
                } else if !line.contains('█') {
                    step.expected.push(line.to_owned());
                }
            }
        }
        blocks.push(steps);
    }
    blocks
}

/// One machine of the README: a user home, a syncdb home, a working directory.
struct Machine {
    home: Home,
    cwd: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let home = Home::new();
        let user = home.dir.path().join("u");
        std::fs::create_dir_all(&user).unwrap();
        Machine { cwd: user, home }
    }

    fn user_home(&self) -> PathBuf {
        self.home.dir.path().join("u")
    }

    /// Runs `command` in bash as this machine; stdout and stderr together.
    fn run(&mut self, command: &str, keeps_running: bool) -> (i32, Vec<String>) {
        let state = self.home.dir.path().join("cwd");
        let command = match keeps_running {
            true => format!("timeout 3 {command}"),
            false => command.to_owned(),
        };
        let script = format!(
            "{{ {command}\n}} 2>&1\nrc=$?\npwd > '{}'\nexit $rc",
            state.display()
        );
        let bin_dir = Path::new(BIN).parent().unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
        let out = Command::new("bash")
            .args(["-c", &script])
            .current_dir(&self.cwd)
            .env("HOME", self.user_home())
            .env("SYNCDB_HOME", self.home.home())
            .env("PATH", path)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        if let Ok(cwd) = std::fs::read_to_string(&state) {
            self.cwd = PathBuf::from(cwd.trim_end());
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text.lines().map(str::to_owned).collect(),
        )
    }
}

/// What differs between runs, most specific first.
fn shapes() -> Vec<Regex> {
    [
        r"[0-9a-f]{16}\.[0-9a-f]{32}", // a version
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", // an id
        r"(?-u:\b)[0-9a-f]{8}(?-u:\b)", // a token id
        r"(?-u:\b)pid [0-9]+",
    ]
    .iter()
    .map(|r| Regex::new(r).unwrap())
    .collect()
}

/// Compares one claimed line with one printed line, binding what differs
/// by shape; false when they do not match.
fn matches(
    shapes: &[Regex],
    expected: &str,
    actual: &str,
    bound: &mut HashMap<String, String>,
) -> bool {
    let (mut e, mut a) = (expected.to_owned(), actual.to_owned());
    let mut found = Vec::new();
    for (i, shape) in shapes.iter().enumerate() {
        let es: Vec<String> = shape.find_iter(&e).map(|m| m.as_str().to_owned()).collect();
        let as_: Vec<String> = shape.find_iter(&a).map(|m| m.as_str().to_owned()).collect();
        if es.len() != as_.len() {
            return false;
        }
        found.extend(es.into_iter().zip(as_));
        let placeholder = format!("<{i}>");
        e = shape.replace_all(&e, placeholder.as_str()).into_owned();
        a = shape.replace_all(&a, placeholder.as_str()).into_owned();
    }
    if e != a {
        return false;
    }
    for (e, a) in found {
        if bound.get(&e).is_some_and(|b| *b != a) {
            return false;
        }
        bound.insert(e, a);
    }
    true
}

fn substitute(text: &str, bound: &HashMap<String, String>) -> String {
    bound
        .iter()
        .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
}

#[test]
fn the_readme_sessions_print_what_they_claim() {
    let blocks = console_blocks(&readme());
    assert!(blocks.len() >= 3, "the README's sessions are found");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let shapes = shapes();
    let mut machines: HashMap<String, Machine> = HashMap::new();
    let mut bound: HashMap<String, String> = HashMap::new();
    for (b, block) in blocks.iter().enumerate() {
        for step in block {
            // The README carries the hub's token to the other machine in
            // words ("with the token in a 0600 file"): carry it.
            if step.machine == "laptop" && !machines.contains_key("laptop") {
                let laptop = Machine::new();
                let token = machines["hub"].user_home().join("laptop.token");
                std::fs::copy(token, laptop.user_home().join("laptop.token")).unwrap();
                machines.insert("laptop".into(), laptop);
            }
            let machine = machines
                .entry(step.machine.clone())
                .or_insert_with(Machine::new);
            let user_home = machine.user_home().display().to_string();
            let port = port.to_string();
            let command = substitute(&step.command, &bound).replace("7700", &port);
            let (code, printed) = machine.run(&command, step.keeps_running);
            let context = format!(
                "README block {}, `{}$ {}`: printed\n{}",
                b + 1,
                step.machine,
                step.command,
                printed.join("\n")
            );
            match step.keeps_running {
                true => assert_eq!(code, 124, "still running when stopped; {context}"),
                false => assert_eq!(code, 0, "{context}"),
            }
            let printed: Vec<&String> = printed.iter().filter(|l| !l.contains('█')).collect();
            if step.keeps_running {
                assert!(printed.len() >= step.expected.len(), "{context}");
            } else {
                assert_eq!(printed.len(), step.expected.len(), "line count; {context}");
            }
            for (claimed, line) in step.expected.iter().zip(printed) {
                let claimed = substitute(claimed, &bound)
                    .replace("7700", &port)
                    .replace("/home/me", &user_home);
                assert!(
                    matches(&shapes, &claimed, line, &mut bound),
                    "claimed {claimed:?}, printed {line:?}; {context}"
                );
            }
        }
    }
}
