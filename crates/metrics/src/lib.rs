//! The compute stage: every measure of the report, computed with DataFusion from the SQL
//! definitions under `sql/`.

pub mod check;
pub mod docs;
pub mod engine;
pub mod error;
pub mod project;
pub mod testing;
pub mod udf;
pub mod values;

pub use engine::{Computed, Inputs, OrgUnit, QualityRow, TeamMap, compute};
pub use error::{DefinitionError, MetricsError};
pub use project::{Measure, MeasureMeta, Polarity, Project, Unit};
pub use values::MetricValue;
