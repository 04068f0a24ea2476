//! Cropping any window of an image and its masks to any size: the crops of
//! training and of inference alike.
//!
//! Windows are in source pixel-edge coordinates (pixel `x` spans `[x, x+1)`)
//! and may reach past the image, which reads as black / background. The
//! mapping of points into the crop is [`Window::transform`], the same
//! convention as [`Transform::crop_resize`], so strokes
//! simulated in the source frame land where the crop shows them.

use image::RgbImage;

use crate::{Mask, Plane, Point, Rect, Transform};

/// The rule that turns what a crop must show into the square window the network sees:
/// centred on it, its side the longer side of its extent times `1 + 2·context`, at least
/// `min_side`. The `Segmenter` takes its crops around a label's strokes with it, and training
/// takes its samples' crops around simulated strokes with it (drawing `context` per sample),
/// so the network learns the context it gets at inference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropRule {
    /// Context on each side, as a fraction of the extent's longer side.
    pub context: f32,
    /// The smallest side, in source pixels: a click or a short stroke still sees its
    /// surroundings.
    pub min_side: f32,
}

impl CropRule {
    /// The window around pixel-centre `points` (a pixel's extent is one pixel around its
    /// centre); `None` when there are none.
    pub fn around_points(&self, points: impl IntoIterator<Item = Point>) -> Option<Window> {
        let mut it = points.into_iter();
        let first = it.next()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
        for p in it {
            (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
        }
        // Pixel-centre extremes to pixel edges.
        let extent = (x1 - x0 + 1.0).max(y1 - y0 + 1.0);
        Some(self.square((x0 + x1) / 2.0 + 0.5, (y0 + y1) / 2.0 + 0.5, extent))
    }

    /// The window around `rect` (pixel edges).
    pub fn around_rect(&self, rect: Rect) -> Window {
        let extent = rect.width().max(rect.height()) as f32;
        let (cx, cy) = (
            (rect.x0 + rect.x1) as f32 / 2.0,
            (rect.y0 + rect.y1) as f32 / 2.0,
        );
        self.square(cx, cy, extent)
    }

    /// The square centred on `(cx, cy)` for an extent of `extent` pixels.
    fn square(&self, cx: f32, cy: f32, extent: f32) -> Window {
        let side = (extent * (1.0 + 2.0 * self.context)).max(self.min_side);
        Window {
            x0: cx - side / 2.0,
            y0: cy - side / 2.0,
            width: side,
            height: side,
        }
    }
}

/// An axis-aligned window of a source image, in pixel-edge coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Width in source pixels.
    pub width: f32,
    /// Height in source pixels.
    pub height: f32,
}

impl Window {
    /// The window covering exactly `rect`.
    pub fn from_rect(rect: Rect) -> Self {
        Window {
            x0: rect.x0 as f32,
            y0: rect.y0 as f32,
            width: rect.width() as f32,
            height: rect.height() as f32,
        }
    }

    /// The same window moved (not resized) to lie inside a `width × height`
    /// image along each axis where it fits, so crops show less padding.
    pub fn shifted_inside(self, width: usize, height: usize) -> Self {
        let fit = |start: f32, side: f32, limit: f32| {
            if side <= limit {
                start.clamp(0.0, limit - side)
            } else {
                start
            }
        };
        Window {
            x0: fit(self.x0, self.width, width as f32),
            y0: fit(self.y0, self.height, height as f32),
            ..self
        }
    }

    /// Maps source pixel centres to the pixel centres of a `width × height` crop.
    pub fn transform(&self, width: usize, height: usize) -> Transform {
        let sx = width as f32 / self.width.max(f32::EPSILON);
        let sy = height as f32 / self.height.max(f32::EPSILON);
        Transform {
            sx,
            sy,
            tx: (0.5 - self.x0) * sx - 0.5,
            ty: (0.5 - self.y0) * sy - 0.5,
        }
    }

    /// Source coordinate (pixel-centre frame) of crop pixel `i` along x, and along y.
    fn source_centre(&self, i: usize, j: usize, width: usize, height: usize) -> (f32, f32) {
        (
            self.x0 + (i as f32 + 0.5) * self.width / width as f32 - 0.5,
            self.y0 + (j as f32 + 0.5) * self.height / height as f32 - 0.5,
        )
    }
}

/// Bilinear crop of an RGB image; pixels outside the image are black.
///
/// When the window shrinks the image by more than 2×, each output pixel
/// averages a grid of bilinear samples (up to 4×4), so thin structures are
/// not aliased away.
pub fn crop_rgb(image: &RgbImage, window: &Window, width: usize, height: usize) -> RgbImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let step = (window.width / width as f32).max(window.height / height as f32);
    let n = (step / 2.0).ceil().clamp(1.0, 4.0) as usize;
    let out = resample(image.as_raw(), w, h, 3, window, width, height, n);
    // `+ 0.5` then a saturating cast rounds without a libm call per value.
    let bytes = out.iter().map(|&v| (v + 0.5) as u8).collect();
    RgbImage::from_raw(width as u32, height as u32, bytes).expect("three bytes per pixel")
}

/// Source taps `(index, weight)` of each output position along one axis:
/// `n` bilinear samples per output pixel, averaged; taps outside `0..len` are dropped.
fn taps(out_len: usize, len: usize, start: f32, extent: f32, n: usize) -> Vec<Vec<(usize, f32)>> {
    let step = extent / out_len as f32;
    (0..out_len)
        .map(|i| {
            let centre = start + (i as f32 + 0.5) * step - 0.5;
            let mut t = Vec::with_capacity(2 * n);
            for s in 0..n {
                let p = centre + ((s as f32 + 0.5) / n as f32 - 0.5) * step;
                let p0 = p.floor();
                let f = p - p0;
                for (k, wk) in [(p0, 1.0 - f), (p0 + 1.0, f)] {
                    if wk > 0.0 && k >= 0.0 && k < len as f32 {
                        t.push((k as usize, wk / n as f32));
                    }
                }
            }
            t
        })
        .collect()
}

/// Separable resampling of a `w × h × channels` raster over `window` to
/// `width × height` (bilinear, `n × n` supersampling, zero outside).
#[allow(clippy::too_many_arguments)]
fn resample<T: Copy + Into<f32>>(
    src: &[T],
    w: usize,
    h: usize,
    channels: usize,
    window: &Window,
    width: usize,
    height: usize,
    n: usize,
) -> Vec<f32> {
    let xt = taps(width, w, window.x0, window.width, n);
    let yt = taps(height, h, window.y0, window.height, n);
    let row_len = width * channels;
    // Horizontal pass, computed once per source row that some output row uses.
    let mut rows: Vec<Option<Vec<f32>>> = vec![None; h];
    let mut out = vec![0f32; row_len * height];
    for (out_row, ty) in out.chunks_exact_mut(row_len.max(1)).zip(&yt) {
        for &(y, wy) in ty {
            let row = rows[y].get_or_insert_with(|| {
                let src_row = &src[y * w * channels..(y + 1) * w * channels];
                let mut r = vec![0f32; row_len];
                for (cell, tx) in r.chunks_exact_mut(channels).zip(&xt) {
                    for &(x, wx) in tx {
                        for (c, v) in cell.iter_mut().enumerate() {
                            *v += wx * src_row[x * channels + c].into();
                        }
                    }
                }
                r
            });
            for (o, &v) in out_row.iter_mut().zip(row.iter()) {
                *o += wy * v;
            }
        }
    }
    out
}

/// Nearest-neighbour crop of a mask; pixels outside it are background.
pub fn crop_mask(mask: &Mask, window: &Window, width: usize, height: usize) -> Mask {
    // Nearest neighbour is separable: look up each column's and row's source once.
    let nearest = |n: usize, limit: usize, at: &dyn Fn(usize) -> f32| -> Vec<Option<usize>> {
        (0..n)
            .map(|i| {
                let v = at(i).round();
                (v >= 0.0 && v < limit as f32).then_some(v as usize)
            })
            .collect()
    };
    let xs = nearest(width, mask.width(), &|i| {
        window.source_centre(i, 0, width, height).0
    });
    let ys = nearest(height, mask.height(), &|j| {
        window.source_centre(0, j, width, height).1
    });
    let src = mask.as_slice();
    let mut data = vec![0u8; width * height];
    for (row, y) in data.chunks_exact_mut(width.max(1)).zip(&ys) {
        let Some(y) = *y else { continue };
        let src_row = &src[y * mask.width()..(y + 1) * mask.width()];
        for (out, x) in row.iter_mut().zip(&xs) {
            if let Some(x) = *x {
                *out = src_row[x];
            }
        }
    }
    Mask::from_vec(width, height, data).expect("width × height pixels")
}

/// Bilinear crop of a float plane (scribble or encoding channels); outside is 0.
pub fn crop_plane(plane: &Plane, window: &Window, width: usize, height: usize) -> Plane {
    let out = resample(
        plane.as_slice(),
        plane.width(),
        plane.height(),
        1,
        window,
        width,
        height,
        1,
    );
    Plane::from_vec(width, height, out).expect("width × height values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn identity_window_copies_pixels() {
        let img = RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 10, y as u8 * 20, 7]));
        let win = Window::from_rect(Rect::new(0, 0, 5, 4));
        assert_eq!(crop_rgb(&img, &win, 5, 4), img);
        let m = Mask::from_fn(5, 4, |x, y| x > y);
        assert_eq!(crop_mask(&m, &win, 5, 4), m);
    }

    #[test]
    fn upscaled_crop_keeps_mask_and_transform_consistent() {
        let m = Mask::from_fn(20, 20, |x, y| (5..10).contains(&x) && (8..12).contains(&y));
        let win = Window::from_rect(Rect::new(4, 6, 12, 14));
        let c = crop_mask(&m, &win, 16, 16);
        assert_eq!(c.area(), 5 * 4 * 4, "2× in each direction");
        let t = win.transform(16, 16);
        let p = t.apply(Point::new(5.0, 8.0));
        assert!(c.get(p.x.round() as isize, p.y.round() as isize), "{p:?}");
        assert_eq!(t, Transform::crop_resize(Rect::new(4, 6, 12, 14), 16, 16));
    }

    #[test]
    fn outside_is_black_and_background() {
        let img = RgbImage::from_pixel(4, 4, image::Rgb([200, 200, 200]));
        let win = Window {
            x0: -4.0,
            y0: 0.0,
            width: 8.0,
            height: 4.0,
        };
        let c = crop_rgb(&img, &win, 8, 4);
        assert_eq!(c.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(c.get_pixel(7, 0).0, [200, 200, 200]);
        let m = crop_mask(&Mask::from_fn(4, 4, |_, _| true), &win, 8, 4);
        assert_eq!(m.area(), 16);
    }

    #[test]
    fn downscaling_averages_stripes() {
        let img = RgbImage::from_fn(64, 64, |x, _| {
            image::Rgb([if x % 2 == 0 { 255 } else { 0 }; 3])
        });
        let c = crop_rgb(&img, &Window::from_rect(Rect::new(0, 0, 64, 64)), 8, 8);
        let v = c.get_pixel(3, 3).0[0];
        assert!((100..=155).contains(&v), "grey expected, got {v}");
    }

    #[test]
    fn windows_shift_inside_where_they_fit() {
        let w = Window {
            x0: -5.0,
            y0: 90.0,
            width: 20.0,
            height: 20.0,
        };
        let s = w.shifted_inside(100, 100);
        assert_eq!((s.x0, s.y0, s.width), (0.0, 80.0, 20.0));
        let big = Window {
            x0: -5.0,
            y0: -5.0,
            width: 200.0,
            height: 20.0,
        };
        assert_eq!(
            big.shifted_inside(100, 100).x0,
            -5.0,
            "too wide to fit: unchanged"
        );
    }

    #[test]
    fn plane_crop_interpolates() {
        let p = Plane::from_vec(2, 1, vec![0.0, 1.0]).expect("2 values");
        let c = crop_plane(&p, &Window::from_rect(Rect::new(0, 0, 2, 1)), 4, 1);
        let v = c.as_slice();
        assert!(
            v[0] == 0.0 && (v[1] - 0.25).abs() < 1e-6 && (v[2] - 0.75).abs() < 1e-6,
            "{v:?}"
        );
    }

    /// The obvious per-pixel bilinear sampler, to check the separable one against.
    fn naive_crop(plane: &Plane, win: &Window, width: usize, height: usize) -> Vec<f32> {
        let (w, h) = (plane.width() as isize, plane.height() as isize);
        let at = |x: isize, y: isize| {
            if x < 0 || y < 0 || x >= w || y >= h {
                0.0
            } else {
                plane.get(x as usize, y as usize)
            }
        };
        let mut out = Vec::new();
        for j in 0..height {
            for i in 0..width {
                let (x, y) = win.source_centre(i, j, width, height);
                let (x0, y0) = (x.floor(), y.floor());
                let (fx, fy) = (x - x0, y - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                out.push(
                    (1.0 - fy) * ((1.0 - fx) * at(x0, y0) + fx * at(x0 + 1, y0))
                        + fy * ((1.0 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1)),
                );
            }
        }
        out
    }

    #[test]
    fn separable_resampling_matches_the_naive_sampler() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let values = (0..30 * 20).map(|_| rng.random_range(0.0..1.0)).collect();
        let plane = Plane::from_vec(30, 20, values).expect("30 × 20");
        for _ in 0..50 {
            let win = Window {
                x0: rng.random_range(-10.0..25.0),
                y0: rng.random_range(-10.0..15.0),
                width: rng.random_range(2.0..40.0),
                height: rng.random_range(2.0..40.0),
            };
            let (cw, ch) = (rng.random_range(1..40), rng.random_range(1..40));
            let ours = crop_plane(&plane, &win, cw, ch);
            for (k, (a, b)) in ours
                .as_slice()
                .iter()
                .zip(naive_crop(&plane, &win, cw, ch))
                .enumerate()
            {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{win:?} {cw}x{ch} pixel {k}: {a} vs {b}"
                );
            }
        }
    }
}
