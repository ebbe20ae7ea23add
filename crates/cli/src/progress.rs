//! Progress bars for long work, shown only on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn visible(bar: ProgressBar) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// A bar counting bytes.
pub fn bytes(what: &'static str) -> ProgressBar {
    let b = visible(ProgressBar::new(0));
    b.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b.set_prefix(what);
    b
}

/// A bar counting items.
pub fn count(what: &'static str, total: u64) -> ProgressBar {
    let b = visible(ProgressBar::new(total));
    b.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_prefix(what);
    b
}

/// A bar that draws nothing.
pub fn hidden() -> ProgressBar {
    ProgressBar::hidden()
}
