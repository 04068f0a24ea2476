//! Score-vs-interactions curves as SVG or PNG (plotters).
//!
//! SVG keeps text as `<text>` elements for the viewer to set; the PNG's
//! labels are drawn with a font embedded in the binary (a Latin-1 cut of
//! DejaVu Sans, `assets/`), so neither needs a system font.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// The embedded font plotters sets every label in.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");
/// The family name the charts ask for.
const FAMILY: &str = "sans-serif";
/// The plot's size in pixels (the PNG's) or SVG units.
const SIZE: (u32, u32) = (720, 480);

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

/// Writes `series` as a line plot to `path`, SVG or PNG by its extension,
/// y from the lowest point (rounded down to a tenth) to 1.
pub fn write_curves(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    let plot = Plot {
        title,
        x_label,
        y_label,
        series,
    };
    let extension = path.extension().and_then(|e| e.to_str());
    match extension.map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => plot.draw(SVGBackend::new(path, SIZE).into_drawing_area()),
        Some("png") => plot.png(path),
        _ => Err(format!(
            "the extension {extension:?} names no plot format (svg or png)"
        )),
    }
    .map_err(|reason| Error::Plot {
        path: path.to_path_buf(),
        reason,
    })
}

/// What one chart shows.
struct Plot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series],
}

impl Plot<'_> {
    /// Draws into an RGB buffer and encodes it with `image` (plotters' own
    /// encoder would pull in a second version of that crate).
    fn png(&self, path: &Path) -> Result<(), String> {
        let (width, height) = SIZE;
        let mut buffer = vec![0u8; width as usize * height as usize * 3];
        self.draw(BitMapBackend::with_buffer(&mut buffer, SIZE).into_drawing_area())?;
        let image = image::RgbImage::from_raw(width, height, buffer)
            .ok_or("the drawing buffer has the wrong size")?;
        image.save(path).map_err(|e| e.to_string())
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), String> {
        register_font()?;
        let (title, x_label, y_label, series) =
            (self.title, self.x_label, self.y_label, self.series);
        let points = series.iter().flat_map(|s| s.points.iter());
        let x_max = points.clone().map(|p| p.0).fold(1.0, f64::max);
        let y_min = points.map(|p| p.1).fold(1.0, f64::min);
        let y_min = ((y_min * 10.0).floor() / 10.0).clamp(0.0, 0.9);
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FAMILY, 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(1.0..x_max.max(2.0), y_min..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            // About one label per unit up to a dozen, so that whole
            // interaction counts are not printed as repeated rounded ticks.
            .x_labels((x_max.ceil() as usize).clamp(2, 12))
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
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
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
}

/// Registers the embedded font once per process; every later call returns
/// the first call's outcome.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font does not parse".to_string())
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grabcut() -> [Series; 1] {
        [Series {
            label: "grabcut".into(),
            points: vec![(1.0, 0.7), (2.0, 0.85), (3.0, 0.9)],
            spread: vec![0.05, 0.02, 0.0],
        }]
    }

    #[test]
    fn writes_an_svg_with_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.svg");
        write_curves(&path, "DICE vs strokes", "strokes", "DICE", &grabcut()).expect("draws");
        let svg = std::fs::read_to_string(&path).expect("written");
        assert!(
            svg.starts_with("<svg") && svg.contains("grabcut") && svg.contains("DICE vs strokes")
        );
        assert!(svg.contains("<polyline"), "a line is drawn");
        assert!(svg.contains("<polygon"), "the spread is drawn");
    }

    #[test]
    fn writes_a_png_with_its_text_drawn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.PNG");
        write_curves(&path, "DICE vs strokes", "strokes", "DICE", &grabcut()).expect("draws");
        let png = image::open(&path).expect("a PNG").to_rgb8();
        assert_eq!(png.dimensions(), SIZE);
        // The title's glyphs are the only dark pixels in the top band.
        let dark_in_title = (0..SIZE.0)
            .flat_map(|x| (0..36).map(move |y| (x, y)))
            .filter(|&(x, y)| png.get_pixel(x, y).0.iter().all(|&c| c < 96))
            .count();
        assert!(dark_in_title > 200, "{dark_in_title} dark title pixels");
        let line = Palette99::pick(0).to_rgba();
        let line = [line.0, line.1, line.2];
        assert!(
            png.pixels().filter(|p| p.0 == line).count() > 100,
            "the series' line is drawn in its colour"
        );
    }

    #[test]
    fn an_unknown_extension_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.pdf");
        let err = write_curves(&path, "t", "x", "y", &grabcut()).expect_err("no pdf");
        assert!(err.to_string().contains("\"pdf\""), "{err}");
        assert!(!path.exists());
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
