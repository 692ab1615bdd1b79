//! The 18-month charts, drawn with plotters: PNG sparklines for the email (inline, by CID) and
//! SVG charts for the report, which stays one self-contained file.

use crate::content::{Control, PointKind};
use plotters::prelude::*;

pub const WIDTH: u32 = 120;
pub const HEIGHT: u32 = 32;
pub const TREND_WIDTH: u32 = 340;
pub const TREND_HEIGHT: u32 = 150;

/// A small PNG line of `values` (oldest first); `None` with fewer than two values to draw.
pub fn sparkline(values: &[Option<f64>]) -> Option<Vec<u8>> {
    let points: Vec<(i32, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as i32, v))).collect();
    if points.len() < 2 {
        return None;
    }
    let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let pad = if hi > lo { (hi - lo) * 0.1 } else { hi.abs().max(1.0) * 0.1 };
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(3)
            .build_cartesian_2d(0..(values.len() as i32 - 1).max(1), (lo - pad)..(hi + pad))
            .ok()?;
        let blue = RGBColor(29, 79, 145);
        chart.draw_series(LineSeries::new(points.iter().copied(), blue.stroke_width(2))).ok()?;
        let last = *points.last()?;
        chart.draw_series(std::iter::once(Circle::new(last, 3, blue.filled()))).ok()?;
        root.present().ok()?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().ok()?;
        w.write_image_data(&rgb).ok()?;
    }
    Some(out)
}

/// Making Data Count's colours: grey for common cause, blue improvement, orange concern, purple
/// a change on a measure with no better direction. Each also has its own marker shape (the
/// report's legend names them), so nothing is told by colour alone.
const COMMON: RGBColor = RGBColor(122, 128, 132);
const IMPROVEMENT: RGBColor = RGBColor(0, 94, 184);
const CONCERN: RGBColor = RGBColor(214, 110, 0);
const NEITHER: RGBColor = RGBColor(97, 38, 145);

/// The report's 18-month chart: an SVG line with month labels, the value axis formatted as the
/// report writes figures, and the target as a dashed line. With `control` it is an XmR chart:
/// the mean (solid grey), the process limits (dotted grey) and each point drawn by its kind:
/// a small grey circle for common cause, a blue square for improvement, an orange triangle for
/// concern, a purple diamond for neither. `None` with fewer than two values.
pub fn trend_svg(
    values: &[Option<f64>],
    labels: &[String],
    rate: bool,
    target: Option<f64>,
    control: Option<&Control>,
) -> Option<String> {
    let points: Vec<(i32, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as i32, v))).collect();
    if points.len() < 2 {
        return None;
    }
    let scale = if rate { 100.0 } else { 1.0 };
    let target = target.map(|t| t * scale);
    let (mut lo, mut hi) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1 * scale), b.max(p.1 * scale)));
    for t in target.into_iter().chain(control.iter().flat_map(|c| [c.lower_limit * scale, c.upper_limit * scale])) {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    // Counts start at zero so a small movement does not look like a collapse; rates keep
    // their band so the month-to-month movement stays visible.
    let pad = if hi > lo { (hi - lo) * 0.15 } else { hi.abs().max(1.0) * 0.1 };
    let (y0, y1) = if rate { ((lo - pad).max(0.0), (hi + pad).min(100.0)) } else { (0.0, hi + pad) };
    let n = values.len() as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (TREND_WIDTH, TREND_HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y0..y1.max(y0 + 1.0))
            .ok()?;
        let grey = RGBColor(80, 90, 95);
        let label_style = ("sans-serif", 11).into_font().color(&grey);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .axis_style(RGBColor(180, 180, 180))
            .x_labels(values.len())
            .x_label_formatter(&|x| {
                let i = x.round() as i64;
                // Every third month keeps 18 labels legible at A4 width.
                if (x - i as f64).abs() < 1e-6
                    && i >= 0
                    && (i as usize) < labels.len()
                    && (labels.len() as i64 - 1 - i) % 3 == 0
                {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_labels(5)
            .y_label_formatter(&|y| if rate { format!("{y:.0}%") } else { format!("{y:.0}") })
            .x_label_style(label_style.clone())
            .y_label_style(label_style)
            .draw()
            .ok()?;
        let blue = RGBColor(29, 79, 145);
        if let Some(t) = target {
            let orange = RGBColor(180, 90, 0);
            chart
                .draw_series(DashedLineSeries::new(vec![(-0.5, t), (n as f64 - 0.5, t)], 6, 4, orange.stroke_width(1)))
                .ok()?;
        }
        let pts: Vec<(f64, f64)> = points.iter().map(|&(i, v)| (i as f64, v * scale)).collect();
        let Some(control) = control else {
            chart.draw_series(LineSeries::new(pts.iter().copied(), blue.stroke_width(2))).ok()?;
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 2, blue.filled()))).ok()?;
            root.present().ok()?;
            drop(chart);
            drop(root);
            return Some(svg);
        };
        let across = |y: f64| vec![(-0.5, y * scale), (n as f64 - 0.5, y * scale)];
        chart.draw_series(LineSeries::new(across(control.mean), COMMON.stroke_width(1))).ok()?;
        for limit in [control.lower_limit, control.upper_limit] {
            chart.draw_series(DashedLineSeries::new(across(limit), 2, 3, COMMON.stroke_width(1))).ok()?;
        }
        chart.draw_series(LineSeries::new(pts.iter().copied(), COMMON.stroke_width(2))).ok()?;
        for &(i, v) in &points {
            let p = (i as f64, v * scale);
            let kind = control.points.get(i as usize).copied().flatten().unwrap_or(PointKind::Common);
            let drawn = match kind {
                PointKind::Common => chart.draw_series(std::iter::once(Circle::new(p, 2, COMMON.filled()))),
                PointKind::Improvement => chart.draw_series(std::iter::once(
                    EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], IMPROVEMENT.filled()),
                )),
                PointKind::Concern => chart.draw_series(std::iter::once(TriangleMarker::new(p, 6, CONCERN.filled()))),
                PointKind::Neither => chart.draw_series(std::iter::once(
                    EmptyElement::at(p) + Polygon::new(vec![(0, -5), (5, 0), (0, 5), (-5, 0)], NEITHER.filled()),
                )),
            };
            drawn.ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_and_skips_too_few_points() {
        let png = sparkline(&[Some(1.0), None, Some(3.0), Some(2.0)]).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(sparkline(&[Some(1.0), None]).is_none());
        assert!(sparkline(&[Some(5.0), Some(5.0)]).is_some(), "a flat line still draws");
    }

    #[test]
    fn the_report_chart_is_svg_with_month_labels_and_the_target() {
        let labels: Vec<String> = ["Aug 20", "Sep 20", "Oct 20", "Nov 20"].map(String::from).to_vec();
        let svg = trend_svg(&[Some(0.5), Some(0.6), None, Some(0.7)], &labels, true, Some(0.65), None).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("Nov 20") && svg.contains("Aug 20"), "every third month from the newest is labelled");
        assert!(!svg.contains("Sep 20"));
        assert!(
            svg.contains("stroke-dasharray") || svg.matches("<polyline").count() + svg.matches("<line").count() > 2,
            "a dashed target line"
        );
        assert!(svg.contains('%'), "a rate's axis reads in percent");
        assert!(trend_svg(&[Some(1.0)], &labels[..1], false, None, None).is_none());
    }

    #[test]
    fn an_xmr_chart_draws_its_lines_and_marks_special_causes_by_shape_and_colour() {
        let labels: Vec<String> = (1..=4).map(|i| format!("M{i}")).collect();
        let values = [Some(0.5), Some(0.52), None, Some(0.9)];
        let control = Control {
            mean: 0.55,
            lower_limit: 0.4,
            upper_limit: 0.7,
            points: vec![Some(PointKind::Common), Some(PointKind::Common), None, Some(PointKind::Concern)],
        };
        let plain = trend_svg(&values, &labels, true, None, None).unwrap();
        let xmr = trend_svg(&values, &labels, true, None, Some(&control)).unwrap();
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        assert!(xmr.contains(&hex(CONCERN)), "the concern point in orange");
        assert!(!xmr.contains(&hex(IMPROVEMENT)), "no improvement point");
        assert!(xmr.contains("<polygon"), "the concern point is a triangle, not only a colour");
        assert!(!plain.contains("<polygon"));
        assert!(xmr.contains(&hex(COMMON)), "mean and limits in grey");
        let lines = |svg: &str| svg.matches("<polyline").count() + svg.matches("<line").count();
        assert!(lines(&xmr) > lines(&plain) + 20, "the mean and two dotted limits, drawn as many short segments");
    }
}
