use std::path::PathBuf;

/// Why a table could not be extracted or landed. Every variant names the table or file.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("table `{table}` is missing: no {table}.csv or {table}.parquet in {dir}")]
    MissingTable { table: String, dir: PathBuf },
    #[error("{file}: required column `{column}` of `{table}` is missing")]
    MissingColumn { table: String, file: PathBuf, column: String },
    #[error("{file}:{line}: {message}")]
    BadLine { file: PathBuf, line: u64, message: String },
    /// The value is never kept: a malformed date may still be someone's date of birth.
    #[error(
        "{file}:{line}: column `{column}` is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS; the value is not shown)"
    )]
    BadDate { file: PathBuf, line: u64, column: String },
    #[error("{file}: column `{column}` has type {found}, which cannot be read as {expected}")]
    BadType { file: PathBuf, column: String, found: String, expected: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parquet { path: PathBuf, source: datafusion::parquet::errors::ParquetError },
    #[error("{path}: {source}")]
    Arrow { path: PathBuf, source: datafusion::arrow::error::ArrowError },
    #[error("{server}: {message}")]
    SourceRefused { server: String, message: String },
    #[error("{server}: table `{table}`: {message}")]
    SourceSchema { server: String, table: String, message: String },
    #[error("{server} is unavailable: {message}")]
    SourceUnavailable { server: String, message: String },
    #[error("landing {path} already exists: a landing is written once and never modified")]
    LandingExists { path: PathBuf },
    #[error("{file}:{line}: {message}")]
    BadQuery { file: PathBuf, line: u64, message: String },
    #[error("table `{table}`: no extract query at {path}")]
    MissingQuery { table: String, path: PathBuf },
    #[error("{path} cannot be written: {source}")]
    LandingWrite { path: PathBuf, source: std::io::Error },
    #[error("landing {path} is incomplete: its manifest lacks {}", missing.join(", "))]
    IncompleteLanding { path: PathBuf, missing: Vec<String> },
    #[error("{location}: {source}")]
    Store { location: String, source: object_store::Error },
    #[error("{location} is not a complete landing: it has no manifest")]
    NoLanding { location: String },
    #[error("landing file {path} is damaged: {message}")]
    CorruptLanding { path: PathBuf, message: String },
    #[error("table `{table}`: the extraction worker panicked ({message}); nothing was landed")]
    Panicked { table: String, message: String },
    #[error("{file}:{line}: {message}")]
    BadContract { file: PathBuf, line: usize, message: String },
    #[error("{count} rows could not be read, more than source.files.max_rejects ({max}); the first: {first}")]
    TooManyRejects { count: u64, max: u64, first: String },
}

impl ExtractError {
    /// The exit code this error ends a run with (sysexits, as the README's table says).
    pub fn exit_code(&self) -> u8 {
        use scrutiny_core::exit;
        match self {
            Self::SourceRefused { .. }
            | Self::SourceSchema { .. }
            | Self::MissingQuery { .. }
            | Self::BadQuery { .. }
            | Self::BadContract { .. } => exit::CONFIG,
            Self::MissingTable { .. }
            | Self::MissingColumn { .. }
            | Self::BadLine { .. }
            | Self::BadDate { .. }
            | Self::BadType { .. }
            | Self::IncompleteLanding { .. }
            | Self::CorruptLanding { .. }
            | Self::TooManyRejects { .. }
            | Self::Parquet { .. }
            // Reading or casting a source Parquet file: its values, not the code.
            | Self::Arrow { .. } => exit::DATA,
            Self::LandingWrite { .. } | Self::LandingExists { .. } => exit::CANTCREAT,
            Self::Panicked { .. } => exit::SOFTWARE,
            Self::Store { source, .. } => scrutiny_core::storage::store_exit_code(source),
            Self::NoLanding { .. } => exit::CONFIG,
            Self::Io { source, .. } if scrutiny_core::fs::is_storage_error(source) => exit::CANTCREAT,
            Self::Io { .. } | Self::SourceUnavailable { .. } => exit::UNAVAILABLE,
        }
    }
}

/// A write to the landing failed: the disk is full, or the directory is not writable.
pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExtractError {
    let path = path.into();
    move |source| ExtractError::LandingWrite { path, source }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExtractError {
    let path = path.into();
    move |source| ExtractError::Io { path, source }
}
