//! A progress display on a terminal; silent when stderr is not one (cron, Kubernetes).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(ProgressStyle::with_template("{spinner} {prefix:>8} {msg}").expect("valid template"));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Self { bar }
    }

    pub fn stage(&self, stage: &'static str) {
        if let Some(b) = &self.bar {
            b.set_prefix(stage);
            b.set_message("");
        }
    }

    pub fn message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
