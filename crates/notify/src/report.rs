//! The report: `report.html` in the published mart, laid out as the seed report (headline cards,
//! 18-month charts, breakdown tables, commentary). One self-contained file (inline CSS and SVG,
//! nothing fetched), so it can be opened from a share, attached to an email or printed to A4.

use crate::content::Content;
use crate::{NotifyError, RunSummary, charts, render};
use std::collections::BTreeMap;

/// The report of a period as one HTML page.
pub fn report_html(run: &RunSummary, content: &Content) -> Result<String, NotifyError> {
    let mut svgs: BTreeMap<String, minijinja::Value> = BTreeMap::new();
    for m in content.areas.iter().flat_map(|a| &a.measures) {
        let rate = m.unit == scrutiny_measures::Unit::Rate;
        if let Some(svg) = charts::trend_svg(&m.series, &content.trend_labels, rate, m.target_value, m.control.as_ref())
        {
            // The SVG is drawn here from numbers, never from text a person typed, so it is
            // inserted as markup.
            svgs.insert(m.id.clone(), minijinja::Value::from_safe_string(svg));
        }
    }
    let ctx = minijinja::context! {
        ..run.context(),
        ..minijinja::Value::from_serialize(content),
        ..minijinja::context! { charts => svgs }
    };
    render("report.html", include_str!("../templates/report.html"), ctx)
}
