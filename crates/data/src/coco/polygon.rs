//! Polygon rasterisation with pycocotools' convention (`rleFrPoly`).
//!
//! pycocotools upsamples the polygon by 5, walks every edge pixel by pixel,
//! keeps the points where the upsampled boundary crosses a pixel column
//! centre, and turns them into column-major run boundaries. A pixel is inside
//! when its centre is inside the polygon, with ties resolved the way that C
//! code resolves them; porting it step by step keeps our masks identical to
//! the ones COCO's own tools (and every COCO-trained model) see.

use super::rle::Rle;

/// Rasterises one polygon `[x0, y0, x1, y1, …]` (pixel coordinates, COCO
/// convention: pixel `(x, y)` covers `[x, x+1) × [y, y+1)`) into a COCO RLE.
pub fn polygon_to_rle(xy: &[f64], height: usize, width: usize) -> Rle {
    const SCALE: f64 = 5.0;
    let k = xy.len() / 2;
    let (h, w) = (height as i64, width as i64);
    let up = |v: f64| (SCALE * v + 0.5) as i64;
    let mut x: Vec<i64> = (0..k).map(|j| up(xy[2 * j])).collect();
    let mut y: Vec<i64> = (0..k).map(|j| up(xy[2 * j + 1])).collect();
    if k > 0 {
        x.push(x[0]);
        y.push(y[0]);
    }

    // Dense boundary points along every edge of the upsampled polygon.
    let mut u = Vec::new();
    let mut v = Vec::new();
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        if dx >= dy {
            let s = if dx == 0 {
                0.0
            } else {
                (ye - ys) as f64 / dx as f64
            };
            for d in 0..=dx {
                let t = if flip { dx - d } else { d };
                u.push(t + xs);
                v.push((ys as f64 + s * t as f64 + 0.5) as i64);
            }
        } else {
            let s = (xe - xs) as f64 / dy as f64;
            for d in 0..=dy {
                let t = if flip { dy - d } else { d };
                v.push(t + ys);
                u.push((xs as f64 + s * t as f64 + 0.5) as i64);
            }
        }
    }

    // Points where the boundary crosses a pixel-column centre, downsampled.
    let mut starts: Vec<i64> = Vec::new();
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let xd = if u[j] < u[j - 1] { u[j] } else { u[j] - 1 } as f64;
        let xd = (xd + 0.5) / SCALE - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > (w - 1) as f64 {
            continue;
        }
        let yd = v[j].min(v[j - 1]) as f64;
        let yd = ((yd + 0.5) / SCALE - 0.5).clamp(0.0, h as f64).ceil();
        starts.push(xd as i64 * h + yd as i64);
    }
    starts.push(h * w);
    starts.sort_unstable();

    // Differences between sorted boundaries; a zero gap merges its neighbours.
    let mut prev = 0;
    let deltas: Vec<i64> = starts
        .iter()
        .map(|&t| {
            let d = t - prev;
            prev = t;
            d
        })
        .collect();
    let mut counts: Vec<u32> = Vec::with_capacity(deltas.len());
    let mut j = 0;
    if let Some(&first) = deltas.first() {
        counts.push(first as u32);
        j = 1;
    }
    while j < deltas.len() {
        if deltas[j] > 0 {
            counts.push(deltas[j] as u32);
            j += 1;
        } else {
            j += 1;
            if j < deltas.len() {
                if let Some(last) = counts.last_mut() {
                    *last += deltas[j] as u32;
                }
                j += 1;
            }
        }
    }
    Rle {
        height,
        width,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_covers_pixels_with_centres_inside() {
        // The square [1, 4] × [1, 3] holds the pixel centres x ∈ {1, 2, 3}, y ∈ {1, 2}
        // under pycocotools' rounding (pixel centre at (x, y) in its own frame).
        let rle = polygon_to_rle(&[1.0, 1.0, 4.0, 1.0, 4.0, 3.0, 1.0, 3.0], 5, 6);
        let mask = rle.to_mask().expect("counts cover the image");
        assert_eq!(mask.area(), 6, "{:?}", rle.counts);
        assert_eq!(
            mask.bounding_box(),
            Some(scribseg_sim::Rect::new(1, 1, 4, 3))
        );
    }

    #[test]
    fn matches_pycocotools_on_a_triangle() {
        // pycocotools.mask.frPyObjects([[0.5, 0.5, 7.5, 1.5, 2.0, 6.0]], 8, 8)
        // gives the compressed counts "9352NO1O1O1O8".
        let rle = polygon_to_rle(&[0.5, 0.5, 7.5, 1.5, 2.0, 6.0], 8, 8);
        let expected = Rle::from_compressed("9352NO1O1O1O8", 8, 8).expect("valid string");
        assert_eq!(rle, expected);
    }
}
