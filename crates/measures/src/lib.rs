//! The compute stage: every measure of the report, computed with DataFusion from the SQL
//! definitions under `sql/`.

// Dependencies run one way: reference and session setup, then the engine; check, docs,
// lineage and testing are leaves that nothing else in the crate uses.
pub mod benchmarks;
pub mod check;
pub mod cte;
pub mod docs;
pub mod engine;
pub mod error;
pub mod lineage;
pub mod project;
pub mod reference;
pub mod session;
pub mod spc;
pub mod testing;
pub mod udf;
pub mod values;

pub use engine::{Computed, QualityRow, compute};
pub use error::{DefinitionError, MeasureError};
pub use project::{Measure, MeasureMeta, Polarity, Project, Unit};
pub use reference::{OrgUnit, TeamMap};
pub use session::Inputs;
pub use values::MetricValue;
