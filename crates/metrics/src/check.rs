//! Turning DataFusion's messages into ones that point at the user's file and line.

use std::path::Path;

use crate::error::DefinitionError;

/// Locates a planning or parsing error in the definition file. sqlparser reports positions as
/// `Line: L, Column: C` relative to the SQL it was given, which starts at `first_line`.
pub fn locate_error(
    file: &Path,
    first_line: usize,
    e: &datafusion::error::DataFusionError,
) -> DefinitionError {
    let msg = e.strip_backtrace().to_string();
    let line = msg
        .find("Line: ")
        .and_then(|i| {
            msg[i + 6..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<usize>()
                .ok()
        })
        .map_or(first_line, |l| first_line + l - 1);
    let column = msg.find("Column: ").and_then(|i| {
        msg[i + 8..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<usize>()
            .ok()
    });
    let message = match column {
        Some(c) => format!("column {c}: {msg}"),
        None => msg,
    };
    DefinitionError::new(file, line, message)
}
