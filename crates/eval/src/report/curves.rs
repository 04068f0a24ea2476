//! Score-vs-interactions curves as SVG (plotters).
//!
//! SVG keeps text as `<text>` elements, so no font is needed at build or
//! run time; plotters' bitmap backend would need one to draw labels.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// One line of a plot: a label and `(interactions, score)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// `(x, y)` points, x increasing.
    pub points: Vec<(f64, f64)>,
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
        .y_desc(y_label)
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, s) in series.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
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
        }];
        write_curves_svg(&path, "DICE vs strokes", "strokes", "DICE", &series).expect("draws");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(
            svg.starts_with("<svg") && svg.contains("grabcut") && svg.contains("DICE vs strokes")
        );
        assert!(svg.contains("<polyline"), "a line is drawn");
    }
}
