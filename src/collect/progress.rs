//! Progress reporting for collect: a bar on stderr when it is a terminal, nothing otherwise (so
//! logs and CI output stay clean).

use std::io::IsTerminal;
use std::time::Duration;

/// Receives progress from `run_collect`. Implementations must be cheap: `inc` is called once per
/// bucket.
pub trait Progress: Send + Sync {
    /// A new phase starts with `total` steps (`total` 0 = unknown length).
    fn phase(&self, name: &str, total: u64);
    /// One step of the current phase is done.
    fn inc(&self);
    /// Collection is over (successfully or not).
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _name: &str, _total: u64) {}
    fn inc(&self) {}
    fn finish(&self) {}
}

/// An indicatif bar on stderr.
#[derive(Debug)]
pub struct BarProgress {
    bar: indicatif::ProgressBar,
}

impl Default for BarProgress {
    fn default() -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:<24} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar }
    }
}

impl Progress for BarProgress {
    fn phase(&self, name: &str, total: u64) {
        self.bar.set_message(name.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }
    fn inc(&self) {
        self.bar.inc(1);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A bar when stderr is a terminal, silence otherwise.
pub fn for_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(BarProgress::default())
    } else {
        Box::new(NoProgress)
    }
}
