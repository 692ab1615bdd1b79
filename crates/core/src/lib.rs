//! The small core every stage shares: settings, periods, the working-day calendar, run ids and
//! manifests, and the exit codes the binary documents.

pub mod calendar;
pub mod fault;
pub mod fs;
pub mod lock;
pub mod period;
pub mod pipeline;
pub mod run;
pub mod settings;
pub mod storage;

pub use calendar::WorkingDayCalendar;
pub use period::{Grain, Period};
pub use pipeline::Pipeline;
pub use run::{Manifest, new_run_id};
pub use settings::{ConfigError, Settings};

/// The root of the checkout these sources are in, for the workspace's tests (each crate sits two
/// levels below it). `CARGO_MANIFEST_DIR` is read at run time first, as cargo sets it for a
/// test: a test binary cargo reuses from a checkout at another path keeps that checkout's
/// compile-time path.
#[doc(hidden)]
pub fn checkout_root() -> std::path::PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")), std::path::PathBuf::from);
    crate_dir.join("../..")
}

/// The England and Wales bank holidays shipped with the binary (from
/// `config/reference/bank_holidays_england_wales.csv`), used when the settings name none.
pub const BANK_HOLIDAYS_CSV: &str = include_str!("../../../config/reference/bank_holidays_england_wales.csv");

/// Exit codes, sysexits style. Operators and schedulers rely on them.
pub mod exit {
    pub const OK: u8 = 0;
    /// `scrutiny test`: a measure test failed.
    pub const TESTS_FAILED: u8 = 1;
    /// A data check failed: the source data is missing a table or column, or is malformed.
    pub const DATA: u8 = 65;
    /// The source is unavailable.
    pub const UNAVAILABLE: u8 = 69;
    /// An internal error (a bug): please report it.
    pub const SOFTWARE: u8 = 70;
    /// The storage directory cannot be written.
    pub const CANTCREAT: u8 = 73;
    /// A temporary failure (mail, lock): try again later.
    pub const TEMPFAIL: u8 = 75;
    /// Bad configuration: the settings or the SQL definitions.
    pub const CONFIG: u8 = 78;
}
