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

/// A runtime error's text with every single-quoted value replaced by `'…'`. DataFusion and arrow
/// quote the value they failed on ("Cannot cast string 'P1003' to value of Int32 type"), and at
/// run time that value is a child's record: an id or a date of birth, which must reach neither
/// the log nor the failure alert. What failed, and on what type, still reads.
pub(crate) fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        if let Some(close) = rest.find('\'') {
            out.push_str("…'");
            rest = &rest[close + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_error_keeps_what_failed_but_not_the_value() {
        assert_eq!(
            without_values("Arrow error: Cast error: Cannot cast string 'P1003' to value of Int32 type"),
            "Arrow error: Cast error: Cannot cast string '…' to value of Int32 type"
        );
        assert_eq!(without_values("between '2009-02-30' and 'x'"), "between '…' and '…'");
        assert_eq!(without_values("Divide by zero error"), "Divide by zero error");
        assert_eq!(without_values("unmatched ' quote"), "unmatched ' quote");
        assert_eq!(without_values("''"), "'…'");
    }
}
