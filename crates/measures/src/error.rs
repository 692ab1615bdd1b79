use std::path::PathBuf;

/// A mistake in a definition under `sql/`, located in its file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct DefinitionError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl DefinitionError {
    pub fn new(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Self { file: file.into(), line, message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// The definitions are wrong (exit 78); every mistake found is listed.
    #[error("{} problem{} in the SQL definitions:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Definitions(Vec<DefinitionError>),
    /// A reference table could not be read (exit 78).
    #[error("reference table {file}: {message}")]
    Reference { file: PathBuf, message: String },
    /// A measure failed while running.
    #[error("measure `{measure}` ({file}): {message}")]
    Measure { measure: String, file: PathBuf, message: String },
    /// A staging model failed while running.
    #[error("model `{model}` ({file}): {message}")]
    Model { model: String, file: PathBuf, message: String },
    #[error("{context}: {source}")]
    DataFusion { context: String, source: datafusion::error::DataFusionError },
}

impl MeasureError {
    pub fn is_config_error(&self) -> bool {
        matches!(self, Self::Definitions(_) | Self::Reference { .. })
    }
}
