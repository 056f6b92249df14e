//! The progress bar of an import on stderr (features read and checked, features per second, the
//! current file). Hidden when stderr is not a terminal or `CI=true`, so logs and test output stay
//! clean.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar, or nothing.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar when `wanted`, stderr is a terminal and `CI` is not `true`; else a hidden one.
    pub fn new(wanted: bool) -> Progress {
        let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        let bar = if wanted && !ci && std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {elapsed_precise} {human_pos} features ({per_sec}) {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// A new file begins.
    pub fn file(&self, path: &Path, bytes: Option<u64>) {
        let size = bytes.map_or(String::new(), |b| format!(" ({:.1} MB)", b as f64 / 1e6));
        self.bar.set_message(format!("{}{size}", path.display()));
    }

    /// `n` more features read and checked.
    pub fn advance(&self, n: usize) {
        self.bar.inc(n as u64);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
