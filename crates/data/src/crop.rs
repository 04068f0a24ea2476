//! Cropping any window of an image and its masks to any size, and the random
//! object-centred windows used for training.
//!
//! Windows are in source pixel-edge coordinates (pixel `x` spans `[x, x+1)`)
//! and may reach past the image, which reads as black / background. The
//! mapping of points into the crop is [`Window::transform`], the same
//! convention as [`scribseg_sim::Transform::crop_resize`], so strokes
//! simulated in the source frame land where the crop shows them.

use image::RgbImage;
use rand::Rng;
use scribseg_sim::{Mask, Plane, Rect, Transform};

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

    /// A square window centred on `rect`, its side the longer side of `rect`
    /// times `1 + 2·margin` (at least `min_side`).
    pub fn square_around(rect: Rect, margin: f32, min_side: f32) -> Self {
        let side = (rect.width().max(rect.height()) as f32 * (1.0 + 2.0 * margin)).max(min_side);
        let cx = (rect.x0 + rect.x1) as f32 / 2.0;
        let cy = (rect.y0 + rect.y1) as f32 / 2.0;
        Window {
            x0: cx - side / 2.0,
            y0: cy - side / 2.0,
            width: side,
            height: side,
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
    let raw = image.as_raw();
    let mut out = vec![0u8; width * height * 3];
    let step_x = window.width / width as f32;
    let step_y = window.height / height as f32;
    let n = (step_x.max(step_y) / 2.0).ceil().clamp(1.0, 4.0) as usize;
    for j in 0..height {
        for i in 0..width {
            let (cx, cy) = window.source_centre(i, j, width, height);
            let mut acc = [0f32; 3];
            for sy in 0..n {
                for sx in 0..n {
                    let x = cx + ((sx as f32 + 0.5) / n as f32 - 0.5) * step_x;
                    let y = cy + ((sy as f32 + 0.5) / n as f32 - 0.5) * step_y;
                    bilinear_rgb(raw, w, h, x, y, &mut acc);
                }
            }
            let o = (j * width + i) * 3;
            for c in 0..3 {
                out[o + c] = (acc[c] / (n * n) as f32).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbImage::from_raw(width as u32, height as u32, out).expect("three bytes per pixel")
}

/// Adds the bilinear sample at `(x, y)` (pixel-centre frame) to `acc`.
#[inline]
fn bilinear_rgb(raw: &[u8], w: usize, h: usize, x: f32, y: f32, acc: &mut [f32; 3]) {
    let (xf, yf) = (x.floor(), y.floor());
    let (fx, fy) = (x - xf, y - yf);
    let (x0, y0) = (xf as isize, yf as isize);
    for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
        for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
            let (px, py) = (x0 + dx, y0 + dy);
            if px < 0 || py < 0 || px >= w as isize || py >= h as isize || wx * wy == 0.0 {
                continue;
            }
            let o = (py as usize * w + px as usize) * 3;
            for c in 0..3 {
                acc[c] += wx * wy * f32::from(raw[o + c]);
            }
        }
    }
}

/// Nearest-neighbour crop of a mask; pixels outside it are background.
pub fn crop_mask(mask: &Mask, window: &Window, width: usize, height: usize) -> Mask {
    Mask::from_fn(width, height, |i, j| {
        let (x, y) = window.source_centre(i, j, width, height);
        mask.get(x.round() as isize, y.round() as isize)
    })
}

/// Bilinear crop of a float plane (scribble or encoding channels); outside is 0.
pub fn crop_plane(plane: &Plane, window: &Window, width: usize, height: usize) -> Plane {
    let (w, h) = (plane.width() as isize, plane.height() as isize);
    let src = plane.as_slice();
    let mut out = Vec::with_capacity(width * height);
    for j in 0..height {
        for i in 0..width {
            let (x, y) = window.source_centre(i, j, width, height);
            let (xf, yf) = (x.floor(), y.floor());
            let (fx, fy) = (x - xf, y - yf);
            let mut v = 0.0;
            for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
                for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
                    let (px, py) = (xf as isize + dx, yf as isize + dy);
                    if px >= 0 && py >= 0 && px < w && py < h {
                        v += wx * wy * src[(py * w + px) as usize];
                    }
                }
            }
            out.push(v);
        }
    }
    Plane::from_vec(width, height, out).expect("width × height values")
}

/// How training windows are drawn around an object.
#[derive(Clone, Debug, PartialEq)]
pub struct CropParams {
    /// Output side in pixels (the network's 128).
    pub size: usize,
    /// Context on each side, as a fraction of the object's longer side: uniform in `[lo, hi]`.
    pub margin: (f32, f32),
    /// Random shift of the window centre, as a fraction of its side.
    pub jitter: f32,
    /// Smallest window side in source pixels (tiny objects get more context).
    pub min_side: f32,
}

impl Default for CropParams {
    fn default() -> Self {
        CropParams {
            size: 128,
            margin: (0.1, 0.5),
            jitter: 0.1,
            min_side: 24.0,
        }
    }
}

/// A random square window around `bbox`: random margin, then jitter.
pub fn random_window(bbox: Rect, params: &CropParams, rng: &mut impl Rng) -> Window {
    let (lo, hi) = params.margin;
    let margin = if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    };
    let mut w = Window::square_around(bbox, margin, params.min_side);
    if params.jitter > 0.0 {
        let j = params.jitter;
        w.x0 += rng.random_range(-j..j) * w.width;
        w.y0 += rng.random_range(-j..j) * w.height;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use scribseg_sim::Point;

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

    #[test]
    fn random_windows_hold_the_object() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let bbox = Rect::new(100, 50, 140, 70);
        for _ in 0..100 {
            let w = random_window(bbox, &CropParams::default(), &mut rng);
            assert_eq!(w.width, w.height);
            assert!(w.width >= 40.0 * 1.2 - 1e-3 && w.width <= 40.0 * 2.0 + 1e-3);
            // jitter ≤ 0.1 of the side and margin ≥ 0.1 of 40 px keep the object inside
            assert!(w.x0 <= 100.0 + 0.1 * w.width && w.x0 + w.width >= 140.0 - 0.1 * w.width);
        }
    }
}
