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
    #[error("{file}:{line}: column `{column}`: `{value}` is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)")]
    BadDate { file: PathBuf, line: u64, column: String, value: String },
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
}

impl ExtractError {
    /// A mistake in the settings (credentials, schema, column names): exit 78.
    pub fn is_config_error(&self) -> bool {
        matches!(self, Self::SourceRefused { .. } | Self::SourceSchema { .. })
    }

    /// A problem with the data itself (exit 65) rather than with the machine.
    pub fn is_data_error(&self) -> bool {
        matches!(
            self,
            Self::MissingTable { .. }
                | Self::MissingColumn { .. }
                | Self::BadLine { .. }
                | Self::BadDate { .. }
                | Self::BadType { .. }
        )
    }
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExtractError {
    let path = path.into();
    move |source| ExtractError::Io { path, source }
}
