//! A pipeline's run, in one place: extract -> land -> compute -> publish -> notify. `run`,
//! `compute --publish`, `notify --resend`, the demo and the tests all come through here, so
//! every path that publishes takes the same lock and the same steps. The binary only parses
//! arguments and calls these.

pub mod observe;
pub mod pipelines;
mod progress;
pub mod stages;
pub mod workflow;

pub use pipelines::{Resolved, resolve};
pub use stages::{Failure, Outcome, RunOptions, extract_only, resend, run, sink_ddl, sink_resend};
