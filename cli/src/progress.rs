//! Sync progress as people and scripts read it, one stream per remote,
//! database and direction:
//!
//! - on a terminal, one bar per stream that has work, as wide as the
//!   terminal, with human figures (`12,288 / 200,000 records`, `61.4k/s`)
//!   and the exact count once caught up;
//! - otherwise, a few lines per stream: when it starts, at every tenth of
//!   the way or every 5 s, and when it is done;
//! - JSON Lines with `--json` (every event as the daemon sent it);
//!   nothing with `--quiet`.
//!
//! A direction with nothing to move (a clone pushes nothing) shows nothing:
//! the daemon reports "caught up" for it, possibly many times, with 0 done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use syncdb_core::ipc::SyncProgress;
use syncdb_core::words::{plural, short, thousands};

use crate::args::Global;
use crate::exit::Result;
use crate::output;

/// How often a line is printed at least, without a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// One remote × database × direction.
struct Stream {
    /// What the line or bar starts with: `pull crm origin`.
    label: String,
    done: u64,
    total: u64,
    /// Caught up: the next progress event starts a new burst of work.
    caught_up: bool,
    /// When this burst started, and how many were done before it.
    started: Instant,
    base: u64,
    /// Without a terminal: when the last line was printed, and its tenth.
    last_line: Instant,
    last_tenth: u64,
    bar: Option<ProgressBar>,
}

pub struct Render {
    json: bool,
    quiet: bool,
    bars: Option<MultiProgress>,
    streams: BTreeMap<(String, String, String), Stream>,
}

impl Render {
    pub fn new(global: &Global) -> Render {
        let bars = output::bars_allowed(global)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Render {
            json: global.json,
            quiet: global.quiet,
            bars,
            streams: BTreeMap::new(),
        }
    }

    pub fn show(&mut self, p: &SyncProgress) -> Result<()> {
        if self.json {
            return output::json(p);
        }
        if self.quiet {
            return Ok(());
        }
        let key = (p.remote.clone(), p.db.to_string(), p.direction.clone());
        let now = Instant::now();
        if p.caught_up {
            let width = self.label_width();
            // Caught up without having shown work: nothing to say.
            let Some(s) = self.streams.get_mut(&key).filter(|s| !s.caught_up) else {
                return Ok(());
            };
            s.done = p.done.max(s.base);
            s.total = s.done;
            s.caught_up = true;
            match &s.bar {
                Some(bar) => finish_bar(bar, s, width),
                None => output::note_always(done_line(s, now)),
            }
            return Ok(());
        }
        let bars = self.bars.clone();
        let label = format!("{} {} {}", p.direction, p.db, p.remote);
        let label_width = self
            .streams
            .values()
            .filter(|s| s.bar.is_some())
            .map(|s| s.label.chars().count())
            .chain([label.chars().count()])
            .max()
            .unwrap_or(0);
        let fresh = !self.streams.contains_key(&key);
        let s = self.streams.entry(key).or_insert_with(|| Stream {
            label,
            done: 0,
            total: 0,
            caught_up: true,
            started: now,
            base: 0,
            last_line: now,
            last_tenth: 0,
            bar: None,
        });
        let new_burst = s.caught_up;
        if new_burst {
            s.caught_up = false;
            s.started = now;
            // A later burst counts from where the last one ended; the
            // first counts the whole session (the command may join late).
            // (A count lower than before is a new session: counted anew.)
            s.base = if fresh || p.done < s.done { 0 } else { s.done };
            s.last_line = now;
            s.last_tenth = 0;
        }
        s.done = p.done.max(s.base);
        s.total = p.total.max(s.done);
        match bars {
            Some(multi) => {
                s.bar = match s.bar.take() {
                    None => Some(multi.add(ProgressBar::new(s.total))),
                    // A finished bar stays finished: a new burst gets a
                    // new bar in its place.
                    Some(old) if old.is_finished() => {
                        let bar = multi.insert_after(&old, ProgressBar::new(s.total));
                        multi.remove(&old);
                        Some(bar)
                    }
                    kept => kept,
                };
                let bar = s.bar.as_ref().expect("just made");
                let (done, total) = (s.done - s.base, s.total - s.base);
                if new_burst {
                    bar.set_style(active_style(label_width, total));
                    bar.set_length(total);
                    bar.set_position(done);
                    // The first figure is where the stream stood, not speed.
                    bar.reset_eta();
                    bar.reset_elapsed();
                } else {
                    bar.set_length(total);
                    bar.set_position(done);
                }
                self.align_labels();
            }
            None => {
                let tenth = tenths(s);
                // All of it here: the "caught up" line says so next.
                let due = new_burst || tenth > s.last_tenth || now - s.last_line >= LINE_EVERY;
                if due && s.done < s.total {
                    s.last_tenth = tenth;
                    s.last_line = now;
                    output::note_always(progress_line(s, now));
                }
            }
        }
        Ok(())
    }

    fn label_width(&self) -> usize {
        self.streams
            .values()
            .filter(|s| s.bar.is_some())
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(0)
    }

    /// Bars start at the same column: every label padded to the longest.
    fn align_labels(&self) {
        let width = self.label_width();
        for s in self.streams.values() {
            if let Some(bar) = &s.bar {
                bar.set_prefix(format!("{:<width$}", s.label));
            }
        }
    }
}

/// How many tenths of this burst are done (0 to 10).
fn tenths(s: &Stream) -> u64 {
    let total = s.total.saturating_sub(s.base);
    if total == 0 {
        return 10;
    }
    (s.done.saturating_sub(s.base) * 10 / total).min(10)
}

/// Records per second in this burst so far.
fn rate(s: &Stream, now: Instant) -> f64 {
    let secs = (now - s.started).as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    s.done.saturating_sub(s.base) as f64 / secs
}

fn counts(done: u64, total: u64) -> String {
    format!(
        "{} / {} {}",
        thousands(done),
        thousands(total),
        plural(total, "record")
    )
}

/// `pull crm origin: 20,480 / 200,000 records (10%, 61.4k/s)`
fn progress_line(s: &Stream, now: Instant) -> String {
    let (done, total) = (s.done - s.base, s.total - s.base);
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    let speed = if now > s.started + Duration::from_millis(500) {
        format!(", {}/s", short(rate(s, now)))
    } else {
        String::new()
    };
    format!("{}: {} ({pct}%{speed})", s.label, counts(done, total))
}

/// `pull crm origin: 200,000 records, caught up in 3s (61.4k/s)`
fn done_line(s: &Stream, now: Instant) -> String {
    let done = s.done - s.base;
    format!(
        "{}: {} {}, caught up in {}",
        s.label,
        thousands(done),
        plural(done, "record"),
        took(s, now)
    )
}

fn took(s: &Stream, now: Instant) -> String {
    let secs = (now - s.started).as_secs_f64();
    let moved = s.done.saturating_sub(s.base);
    if secs < 0.05 || moved == 0 {
        return format!("{secs:.1}s");
    }
    format!("{secs:.1}s ({}/s)", short(moved as f64 / secs))
}

/// The bar while records move. Figures come from the keys below; the bar
/// takes whatever width is left, so the line fits the terminal.
/// What is left out when the terminal is narrow: the speed first, then the
/// bar, then the label.
fn active_style(label: usize, total: u64) -> ProgressStyle {
    let cols = usize::from(output::terminal_width().unwrap_or(80));
    // The counts may grow a digit; the speed and eta ("61.4k/s, eta 12m") fit 20.
    let figures = counts(total, total).len() + 2;
    let template = if cols > label + 1 + 10 + 1 + figures + 22 {
        "{prefix} {wide_bar} {counts} ({rate}, eta {eta})"
    } else if cols > label + 1 + 10 + 1 + figures {
        "{prefix} {wide_bar} {counts}"
    } else if cols > label + 1 + figures {
        "{prefix} {counts}"
    } else {
        "{counts}"
    };
    style(template)
}

fn finish_bar(bar: &ProgressBar, s: &Stream, label: usize) {
    let cols = usize::from(output::terminal_width().unwrap_or(80));
    let took = took(s, Instant::now());
    // "260,000 records, caught up in 4.2s (61.4k/s)"
    let done = s.done - s.base;
    let figures = thousands(done).len() + 10;
    let template = if cols > label + 1 + 10 + 1 + figures + 14 + took.len() {
        "{prefix} {wide_bar} {final} caught up in {took}"
    } else if cols > label + 1 + 10 + 1 + figures + 10 {
        "{prefix} {wide_bar} {final} caught up"
    } else if cols > label + 1 + figures + 10 {
        "{prefix} {final} caught up"
    } else {
        "{final} caught up"
    };
    let style = style(template).with_key(
        "took",
        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&took);
        },
    );
    bar.set_style(style);
    bar.set_length(done);
    bar.set_position(done);
    // Finishing draws at once: the last figures are never left undrawn.
    bar.finish();
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("█▉▊▋▌▍▎▏ ")
        .with_key(
            "counts",
            |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                let total = st.len().unwrap_or(st.pos());
                let _ = w.write_str(&counts(st.pos(), total));
            },
        )
        .with_key(
            "final",
            |st: &ProgressState, w: &mut dyn std::fmt::Write| {
                let n = st.pos();
                let _ = write!(w, "{} {},", thousands(n), plural(n, "record"));
            },
        )
        .with_key("rate", |st: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", short(st.per_sec()));
        })
}
