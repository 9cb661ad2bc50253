//! Progress bars on stderr (indicatif), or nothing in quiet mode.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ingest::{Action, SourceReport};
use std::collections::HashMap;
use std::sync::Mutex;

/// Build progress: one bar per source being ingested, a line per finished source.
pub struct BuildBars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    quiet: bool,
}

impl BuildBars {
    pub fn new(quiet: bool) -> BuildBars {
        let multi = MultiProgress::new();
        if quiet {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        BuildBars {
            multi,
            bars: Mutex::new(HashMap::new()),
            quiet,
        }
    }
}

impl ingest::Progress for BuildBars {
    fn started(&self, source: &str, total_bytes: u64) {
        let bar = self.multi.add(ProgressBar::new(total_bytes));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>16} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(source.to_string());
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(source.to_string(), bar);
        }
    }

    fn advanced(&self, source: &str, bytes: u64) {
        if let Ok(bars) = self.bars.lock()
            && let Some(b) = bars.get(source)
        {
            b.set_position(bytes);
        }
    }

    fn finished(&self, r: &SourceReport) {
        if let Ok(mut bars) = self.bars.lock()
            && let Some(b) = bars.remove(&r.source)
        {
            b.finish_and_clear();
            self.multi.remove(&b);
        }
        if self.quiet {
            return;
        }
        let what = match r.action {
            Action::Built => format!("built in {:.1}s", r.seconds),
            Action::Unchanged => "unchanged".to_string(),
            Action::Reused => "reused an identical earlier snapshot".to_string(),
        };
        let _ = self.multi.println(format!(
            "{:>16}  {:>10} in  {:>10} loaded  {:>7} quarantined  {}",
            r.source,
            crate::fmt::int(r.rows_in),
            crate::fmt::int(r.rows_loaded),
            crate::fmt::int(r.rows_quarantined),
            what
        ));
    }
}

/// A spinner with a message, for work without a known size.
pub fn spinner(quiet: bool, msg: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// A bar over a known number of bytes.
pub fn bytes_bar(quiet: bool, msg: &str, total: u64) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}
