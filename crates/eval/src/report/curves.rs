//! Score-vs-interactions curves as SVG (plotters).
//!
//! SVG keeps text as `<text>` elements, so no font is needed at build or
//! run time; plotters' bitmap backend would need one to draw labels.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// One line of a plot: a label, `(interactions, score)` points and the
/// spread drawn as a translucent band around them.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, x increasing.
    pub points: Vec<(f64, f64)>,
    /// Half-width of the band at each point (standard deviation over
    /// seeds); empty or all zero for none.
    pub spread: Vec<f64>,
}

/// The band `y ± spread` as a closed outline, `None` without spread.
fn band(series: &Series) -> Option<Vec<(f64, f64)>> {
    if series.spread.iter().all(|&s| s <= 0.0) {
        return None;
    }
    let spread = |i: usize| series.spread.get(i).copied().unwrap_or(0.0);
    let upper = series
        .points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| (x, y + spread(i)));
    let lower = series
        .points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, &(x, y))| (x, y - spread(i)));
    Some(upper.chain(lower).collect())
}

/// Writes `series` as a line plot to `path` (SVG), y from the lowest point
/// (rounded down to a tenth) to 1.
pub fn write_curves_svg(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    draw(path, title, x_label, y_label, series).map_err(|reason| Error::Plot {
        path: path.to_path_buf(),
        reason,
    })
}

fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    let points = series.iter().flat_map(|s| s.points.iter());
    let x_max = points.clone().map(|p| p.0).fold(1.0, f64::max);
    let y_min = points.map(|p| p.1).fold(1.0, f64::min);
    let y_min = ((y_min * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(1.0..x_max.max(2.0), y_min..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc(y_label)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in series.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        if let Some(outline) = band(s) {
            chart
                .draw_series([Polygon::new(outline, colour.mix(0.15).filled())])
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.svg");
        let series = [Series {
            label: "grabcut".into(),
            points: vec![(1.0, 0.7), (2.0, 0.85), (3.0, 0.9)],
            spread: vec![0.05, 0.02, 0.0],
        }];
        write_curves_svg(&path, "DICE vs strokes", "strokes", "DICE", &series).expect("draws");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(
            svg.starts_with("<svg") && svg.contains("grabcut") && svg.contains("DICE vs strokes")
        );
        assert!(svg.contains("<polyline"), "a line is drawn");
        assert!(svg.contains("<polygon"), "the spread is drawn");
    }

    #[test]
    fn the_band_runs_up_the_top_and_back_along_the_bottom() {
        let s = Series {
            label: "s".into(),
            points: vec![(1.0, 0.5), (2.0, 0.75)],
            spread: vec![0.125, 0.25],
        };
        let outline = band(&s).expect("has spread");
        assert_eq!(
            outline,
            vec![(1.0, 0.625), (2.0, 1.0), (2.0, 0.5), (1.0, 0.375)]
        );
        let flat = Series {
            spread: vec![0.0, 0.0],
            ..s
        };
        assert!(band(&flat).is_none());
    }
}
