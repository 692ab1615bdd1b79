//! 18-month sparklines for the email, drawn with plotters and embedded inline (CID).

use plotters::prelude::*;

pub const WIDTH: u32 = 120;
pub const HEIGHT: u32 = 32;

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
}
