//! Binary masks and float planes: the two raster types every part of scribseg exchanges.

use crate::geometry::{Point, Rect};

/// A binary mask, row-major, one byte per pixel (`0` background, `1` object).
///
/// Pixel `(x, y)` is `data[y * width + x]`. Continuous coordinates put the
/// centre of pixel `(x, y)` at `(x as f32, y as f32)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mask")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("area", &self.area())
            .finish()
    }
}

impl Mask {
    /// An all-background mask.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0; width * height],
        }
    }

    /// A mask whose pixel `(x, y)` is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, mut f: impl FnMut(usize, usize) -> bool) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(u8::from(f(x, y)));
            }
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Wraps row-major bytes; any non-zero byte is object.
    ///
    /// Returns `None` when `data.len() != width * height`.
    pub fn from_vec(width: usize, height: usize, mut data: Vec<u8>) -> Option<Self> {
        if data.len() != width * height {
            return None;
        }
        for v in &mut data {
            *v = u8::from(*v != 0);
        }
        Some(Self {
            width,
            height,
            data,
        })
    }

    /// Thresholds an 8-bit grey image: values `> 127` are object.
    pub fn from_gray(image: &image::GrayImage) -> Self {
        let (w, h) = image.dimensions();
        let data = image.as_raw().iter().map(|&v| u8::from(v > 127)).collect();
        Self {
            width: w as usize,
            height: h as usize,
            data,
        }
    }

    /// The mask as an 8-bit grey image (object 255, background 0).
    pub fn to_gray(&self) -> image::GrayImage {
        let data = self.data.iter().map(|&v| v * 255).collect();
        image::GrayImage::from_raw(self.width as u32, self.height as u32, data)
            .expect("buffer length matches dimensions")
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major pixels, `0` or `1`.
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    /// Whether `(x, y)` is object. Out-of-bounds pixels are background.
    #[inline]
    pub fn get(&self, x: isize, y: isize) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.width
            && (y as usize) < self.height
            && self.data[y as usize * self.width + x as usize] != 0
    }

    /// Whether `p` lies within a pixel of the object: the 3×3 neighbourhood
    /// of the pixel it rounds to holds an object pixel.
    pub fn is_near(&self, p: Point) -> bool {
        let (x, y) = (p.x.round() as isize, p.y.round() as isize);
        (-1..=1).any(|dy| (-1..=1).any(|dx| self.get(x + dx, y + dy)))
    }

    /// Sets pixel `(x, y)`; panics when out of bounds.
    #[inline]
    pub fn set(&mut self, x: usize, y: usize, value: bool) {
        assert!(x < self.width && y < self.height, "pixel out of bounds");
        self.data[y * self.width + x] = u8::from(value);
    }

    /// Number of object pixels.
    pub fn area(&self) -> usize {
        self.data.iter().map(|&v| v as usize).sum()
    }

    /// Whether the mask has no object pixel.
    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&v| v == 0)
    }

    /// The tightest rectangle holding every object pixel, `None` for an empty mask.
    pub fn bounding_box(&self) -> Option<Rect> {
        let mut r: Option<Rect> = None;
        for y in 0..self.height {
            let row = &self.data[y * self.width..(y + 1) * self.width];
            let Some(first) = row.iter().position(|&v| v != 0) else {
                continue;
            };
            let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
            r = Some(match r {
                None => Rect::new(first, y, last + 1, y + 1),
                Some(r) => Rect::new(r.x0.min(first), r.y0, r.x1.max(last + 1), y + 1),
            });
        }
        r
    }

    /// Pixels that are object here and not in `other` (same size required).
    pub fn minus(&self, other: &Mask) -> Mask {
        self.zip(other, |a, b| a && !b)
    }

    /// Pixels that are object in both masks (same size required).
    pub fn and(&self, other: &Mask) -> Mask {
        self.zip(other, |a, b| a && b)
    }

    /// Pixels that are object in either mask (same size required).
    pub fn or(&self, other: &Mask) -> Mask {
        self.zip(other, |a, b| a || b)
    }

    /// The part of the mask inside `rect` (clipped to the mask), as a mask
    /// of the rectangle's size.
    pub fn crop(&self, rect: Rect) -> Mask {
        Mask::from_fn(rect.width(), rect.height(), |x, y| {
            self.get((rect.x0 + x) as isize, (rect.y0 + y) as isize)
        })
    }

    /// The complement: object becomes background and back.
    pub fn not(&self) -> Mask {
        Mask {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| 1 - v).collect(),
        }
    }

    fn zip(&self, other: &Mask, f: impl Fn(bool, bool) -> bool) -> Mask {
        assert_eq!(
            (self.width, self.height),
            (other.width, other.height),
            "mask sizes differ"
        );
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| u8::from(f(a != 0, b != 0)))
            .collect();
        Mask {
            width: self.width,
            height: self.height,
            data,
        }
    }
}

/// A float raster, row-major: scribble channels (+1 positive, −1 negative),
/// box and extreme-point encodings, probability maps.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    /// An all-zero plane.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    /// Wraps row-major values; `None` when `data.len() != width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Option<Self> {
        (data.len() == width * height).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major values.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Row-major values, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Value at `(x, y)`; panics when out of bounds.
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// Mask of the pixels whose value is `> threshold`.
    pub fn threshold(&self, threshold: f32) -> Mask {
        Mask {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| u8::from(v > threshold)).collect(),
        }
    }

    /// Mask of the pixels whose value is `< threshold`.
    pub fn below(&self, threshold: f32) -> Mask {
        Mask {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| u8::from(v < threshold)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations_and_crop() {
        let a = Mask::from_fn(6, 4, |x, _| x < 3);
        let b = Mask::from_fn(6, 4, |_, y| y < 2);
        assert_eq!(a.or(&b).area(), 12 + 6);
        assert_eq!(a.and(&b).area(), 6);
        assert_eq!(a.minus(&b).area(), 6);
        assert_eq!(a.not().area(), 12);
        let c = a.or(&b).crop(Rect::new(2, 1, 8, 3));
        assert_eq!((c.width(), c.height()), (6, 2));
        // Row 1 is all object inside the mask, columns 6–7 fall outside it.
        assert_eq!(c.as_slice(), &[1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
        assert_eq!(a.or(&b).bounding_box(), Some(Rect::new(0, 0, 6, 4)));
    }
}
