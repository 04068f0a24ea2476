//! The paper's scribble simulation (section 2.3), per connected component:
//! distance field and dilated skeleton → grid tiles in random order →
//! sampled points with clearing → minimum spanning tree with an outside
//! penalty → random edge removal → longest paths → B-splines.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::components::{components, Component};
use crate::distance::distance_to_background;
use crate::draw::{Polarity, Scribble, Stroke};
use crate::geometry::Point;
use crate::graph::{longest_paths, minimum_spanning_tree, remove_random_edges, segment_cost};
use crate::mask::Mask;
use crate::skeleton::{block_centres, skeletonize};
use crate::spline::sample_bspline;

/// The simulator's parameters. [`Default`] gives the values scribseg trains
/// with; the paper fixes some of them (outside cost, removal rates) and
/// leaves the rest open — each field says why its default was chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct ScribbleParams {
    /// Tiles along the component's longer side; the shorter side gets tiles
    /// of the same size. The paper partitions "depending on the height and
    /// width of the component"; 4 gives 2–8 points on a compact object, the
    /// one-to-three-stroke scribbles of the paper's Fig. 5.
    pub tiles_per_side: usize,
    /// Tiles are at most this many times the component's largest inscribed
    /// radius, so thin curved parts (a ring, a vessel) get points close
    /// enough together that the strokes between them follow the curve
    /// instead of cutting across it. Compact shapes are unaffected.
    pub max_tile_per_radius: f32,
    /// At most this many tiles along the longer side, however thin the
    /// component: bounds the number of points (and the MST's cost).
    pub max_tiles_per_side: usize,
    /// The smallest tile side in pixels, so tiny components get few tiles.
    pub min_tile_side: usize,
    /// A tile gets a point when the sum of the (current) distance field in
    /// it exceeds this fraction of the component's initial distance sum —
    /// the paper's "threshold based on the size of the label". 2% keeps
    /// slivers at the label's edge from receiving points.
    pub tile_mass_fraction: f32,
    /// Radius cleared around each sampled point, as a fraction of the tile
    /// side (the paper's `r`). Half a tile keeps neighbouring points apart
    /// without starving the neighbouring tiles.
    pub clear_radius_fraction: f32,
    /// The skeleton is dilated by this fraction of the component's largest
    /// inscribed radius (at least one pixel) before it weights the sampling
    /// density, so points wander around the medial axis as a hand does.
    pub skeleton_dilation_fraction: f32,
    /// Points are sampled at least this deep inside the component (or as
    /// deep as it allows), so a radius-2 brush around them stays inside even
    /// where a skeleton branch runs out to a corner of the outline.
    pub min_point_depth: f32,
    /// Cost multiplier for the part of an MST edge outside the label (paper: 3).
    pub outside_cost: f32,
    /// Probability that a graph loses edges (paper: 20%).
    pub edge_removal_probability: f32,
    /// Probabilities of removing 1, 2 or 3 edges (paper: 1/2, 1/3, 1/6).
    pub edge_removal_counts: [f32; 3],
    /// Components smaller than this many pixels get no scribble, unless
    /// they are the label's largest.
    pub min_component_pixels: usize,
    /// Components smaller than this fraction of the largest component get
    /// no scribble: a person marks the parts of an object, not every stray
    /// fragment of an annotation.
    pub min_component_fraction: f32,
    /// Spacing in pixels of the polyline samples along each B-spline.
    pub spline_spacing: f32,
    /// Whether strokes are cut where they leave the label. The paper lets an
    /// MST edge cross the background at three times the cost, and a B-spline
    /// cuts corners, so a stroke can run across the gap between two legs: a
    /// positive stroke on the background that a person scribbling on the
    /// object would never paint. Cut (the default), the pieces within a pixel
    /// of the label remain; cut pieces shorter than [`MIN_PIECE_SAMPLES`]
    /// samples are dropped unless nothing else is left.
    pub stay_inside: bool,
}

/// Cut strokes keep only pieces of at least this many samples (`spline_spacing`
/// apart): shorter ones are the specks a corner leaves.
pub const MIN_PIECE_SAMPLES: usize = 3;

impl Default for ScribbleParams {
    fn default() -> Self {
        Self {
            tiles_per_side: 4,
            max_tile_per_radius: 4.0,
            max_tiles_per_side: 16,
            min_tile_side: 3,
            tile_mass_fraction: 0.02,
            clear_radius_fraction: 0.5,
            skeleton_dilation_fraction: 0.25,
            min_point_depth: 3.0,
            outside_cost: 3.0,
            edge_removal_probability: 0.2,
            edge_removal_counts: [1.0 / 2.0, 1.0 / 3.0, 1.0 / 6.0],
            min_component_pixels: 4,
            min_component_fraction: 0.05,
            spline_spacing: 1.0,
            stay_inside: true,
        }
    }
}

/// Simulates a positive scribble for `label`: a set of strokes a person
/// might draw on it. An empty label gets an empty scribble.
///
/// The result depends only on `label`, `params` and the state of `rng`.
pub fn simulate_scribble(label: &Mask, params: &ScribbleParams, rng: &mut impl Rng) -> Scribble {
    simulate_with_polarity(label, params, Polarity::Positive, rng)
}

/// As [`simulate_scribble`], with the strokes' polarity chosen by the caller
/// (corrective scribbles are negative when they mark false positives).
pub(crate) fn simulate_with_polarity(
    label: &Mask,
    params: &ScribbleParams,
    polarity: Polarity,
    rng: &mut impl Rng,
) -> Scribble {
    let parts = components(label);
    let Some(largest) = parts.first().map(|c| c.area) else {
        return Scribble::default();
    };
    let min_area = params
        .min_component_pixels
        .max((params.min_component_fraction * largest as f32).ceil() as usize);
    let mut strokes = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 && part.area < min_area {
            continue;
        }
        for path in component_paths(part, params, rng) {
            strokes.push(Stroke {
                points: path,
                polarity,
            });
        }
    }
    Scribble { strokes }
}

/// The smoothed paths of one component, in source coordinates.
fn component_paths(
    part: &Component,
    params: &ScribbleParams,
    rng: &mut impl Rng,
) -> Vec<Vec<Point>> {
    let points = sample_points(&part.mask, params, rng);
    let mut edges = minimum_spanning_tree(points.len(), |i, j| {
        segment_cost(&part.mask, points[i], points[j], params.outside_cost)
    });
    if rng.random::<f32>() < params.edge_removal_probability {
        let count = pick_removal_count(&params.edge_removal_counts, rng);
        remove_random_edges(&mut edges, points.len(), count, rng);
    }
    let (ox, oy) = (part.origin.0 as f32, part.origin.1 as f32);
    let paths: Vec<Vec<Point>> = longest_paths(&points, &edges)
        .into_iter()
        .map(|path| {
            let control: Vec<Point> = path.iter().map(|&i| points[i]).collect();
            sample_bspline(&control, params.spline_spacing)
        })
        .collect();
    let inside: Vec<Vec<Point>> = if params.stay_inside {
        paths
            .iter()
            .flat_map(|samples| pieces_inside(&part.mask, samples))
            .collect()
    } else {
        Vec::new()
    };
    // A component whose every piece was cut away keeps the paper's strokes.
    let kept = if inside.is_empty() { paths } else { inside };
    kept.into_iter()
        .map(|piece| {
            piece
                .into_iter()
                .map(|p| Point::new(p.x + ox, p.y + oy))
                .collect()
        })
        .collect()
}

/// `samples` whole when all of them are near `mask` ([`Mask::is_near`];
/// however short: a one-point path is a dab), else its runs near it, those
/// at least [`MIN_PIECE_SAMPLES`] long, or the longest when none is. Near,
/// not inside, so a stroke along a one-pixel line is not cut to dust by
/// rounding.
pub(crate) fn pieces_inside(mask: &Mask, samples: &[Point]) -> Vec<Vec<Point>> {
    if samples.iter().all(|&p| mask.is_near(p)) {
        return vec![samples.to_vec()];
    }
    let mut runs: Vec<Vec<Point>> = samples
        .split(|&p| !mask.is_near(p))
        .filter(|run| !run.is_empty())
        .map(<[Point]>::to_vec)
        .collect();
    if runs.iter().all(|run| run.len() < MIN_PIECE_SAMPLES) {
        return runs.into_iter().max_by_key(Vec::len).into_iter().collect();
    }
    runs.retain(|run| run.len() >= MIN_PIECE_SAMPLES);
    runs
}

fn pick_removal_count(weights: &[f32; 3], rng: &mut impl Rng) -> usize {
    let total: f32 = weights.iter().sum();
    let mut u = rng.random::<f32>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return i + 1;
        }
        u -= w;
    }
    weights.len()
}

/// Samples points in one component cut-out (steps 1–2 of the paper).
fn sample_points(mask: &Mask, params: &ScribbleParams, rng: &mut impl Rng) -> Vec<Point> {
    let (w, h) = (mask.width(), mask.height());
    let depth = distance_to_background(mask);
    let max_distance = depth.iter().copied().fold(0.0f32, f32::max);
    let min_depth = params.min_point_depth.min(max_distance);
    let mut distance = depth.clone();
    let spread = (params.skeleton_dilation_fraction * max_distance).max(1.0);
    let near_skeleton = band_around(&skeleton_pixels(mask, spread), w, h, spread).and(mask);

    // Tiles over the component's bounding box (the cut-out minus its border).
    let (bw, bh) = (w - 2, h - 2);
    let longer = bw.max(bh) as f32;
    let side = (longer / params.tiles_per_side.max(1) as f32)
        .min(params.max_tile_per_radius * max_distance)
        .max(longer / params.max_tiles_per_side.max(1) as f32)
        .max(params.min_tile_side as f32)
        .ceil() as usize;
    let (shift_x, shift_y) = (rng.random_range(0..side), rng.random_range(0..side));
    let mut tiles = Vec::new();
    let mut y0 = 1isize - shift_y as isize;
    while y0 < (1 + bh) as isize {
        let mut x0 = 1isize - shift_x as isize;
        while x0 < (1 + bw) as isize {
            tiles.push((
                x0.max(1) as usize,
                y0.max(1) as usize,
                (x0 + side as isize) as usize,
                (y0 + side as isize) as usize,
            ));
            x0 += side as isize;
        }
        y0 += side as isize;
    }
    tiles.shuffle(rng);

    let total: f32 = distance.iter().sum();
    let threshold = params.tile_mass_fraction * total;
    let radius = params.clear_radius_fraction * side as f32;
    let mut points = Vec::new();
    let mut weights: Vec<(usize, f32)> = Vec::new();
    for (x0, y0, x1, y1) in tiles {
        let (x1, y1) = (x1.min(w - 1), y1.min(h - 1));
        let mut mass = 0.0;
        weights.clear();
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * w + x;
                mass += distance[i];
                if near_skeleton.as_slice()[i] != 0 && depth[i] >= min_depth && distance[i] > 0.0 {
                    weights.push((i, distance[i]));
                }
            }
        }
        if mass <= threshold || weights.is_empty() {
            continue;
        }
        let i = pick_weighted(&weights, rng);
        let p = Point::new((i % w) as f32, (i / w) as f32);
        clear_around(&mut distance, w, h, p, radius, max_distance);
        points.push(p);
    }
    if points.is_empty() {
        points.push(fallback_point(&depth, &near_skeleton, min_depth, w, rng));
    }
    points
}

/// The skeleton's pixels, as `(x, y)` in the cut-out.
///
/// The skeleton only guides sampling after being widened by `spread`
/// pixels, so on large components it is computed on a copy downsampled by
/// `⌊spread / 2⌋` (each block takes its centre pixel) and mapped back to the
/// blocks' centres: the band around it is then the same to within a pixel
/// or two, at a fraction of the thinning's cost (which grows with the
/// component's area and thickness).
fn skeleton_pixels(mask: &Mask, spread: f32) -> Vec<(usize, usize)> {
    let factor = ((spread / 2.0).floor() as usize).max(1);
    let small = block_centres(mask, factor);
    let skeleton = skeletonize(&small);
    let sw = skeleton.width();
    skeleton
        .as_slice()
        .iter()
        .enumerate()
        .filter(|(_, &v)| v != 0)
        .map(|(i, _)| {
            let (x, y) = (i % sw, i / sw);
            (
                (x * factor + factor / 2).min(mask.width() - 1),
                (y * factor + factor / 2).min(mask.height() - 1),
            )
        })
        .collect()
}

/// The pixels of a `w × h` cut-out within `radius` of one of `centres` (a
/// dilation by a disk), stamped row span by row span. A skeleton is a thin
/// curve, so stamping its pixels costs far less than a distance transform
/// of the whole cut-out.
fn band_around(centres: &[(usize, usize)], w: usize, h: usize, radius: f32) -> Mask {
    let r = radius.floor() as isize;
    let spans: Vec<isize> = (-r..=r)
        .map(|dy| {
            ((radius * radius - (dy * dy) as f32).max(0.0))
                .sqrt()
                .floor() as isize
        })
        .collect();
    let mut band = vec![0u8; w * h];
    for &(x, y) in centres {
        let (x, y) = (x as isize, y as isize);
        for (dy, &half) in (-r..=r).zip(&spans) {
            let yy = y + dy;
            if yy < 0 || yy >= h as isize {
                continue;
            }
            let x0 = (x - half).max(0) as usize;
            let x1 = ((x + half) as usize).min(w - 1);
            band[yy as usize * w + x0..=yy as usize * w + x1].fill(1);
        }
    }
    Mask::from_vec(w, h, band).expect("size matches")
}

/// Draws an index with probability proportional to its weight.
fn pick_weighted(weights: &[(usize, f32)], rng: &mut impl Rng) -> usize {
    let total: f32 = weights.iter().map(|&(_, w)| w).sum();
    let mut u = rng.random::<f32>() * total;
    for &(i, w) in weights {
        if u < w {
            return i;
        }
        u -= w;
    }
    weights.last().expect("non-empty").0
}

/// Sets every pixel within `radius` of `p` to background in the distance
/// field and updates the rest exactly: the new distance to the background
/// is the smaller of the old one and the distance to the cleared disk,
/// `max(0, |q − p| − radius)`. Only pixels within `radius + max_distance`
/// can change, so the update touches a small window instead of recomputing
/// the whole transform.
fn clear_around(
    distance: &mut [f32],
    w: usize,
    h: usize,
    p: Point,
    radius: f32,
    max_distance: f32,
) {
    let reach = radius + max_distance;
    let x0 = (p.x - reach).floor().max(0.0) as usize;
    let y0 = (p.y - reach).floor().max(0.0) as usize;
    let x1 = ((p.x + reach).ceil() as usize).min(w - 1);
    let y1 = ((p.y + reach).ceil() as usize).min(h - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = &mut distance[y * w + x];
            if *d > 0.0 {
                let to_disk = (Point::new(x as f32, y as f32).distance(p) - radius).max(0.0);
                *d = d.min(to_disk);
            }
        }
    }
}

/// A point for a component no tile accepted: drawn in proportion to depth
/// from the skeleton band's pixels at least `min_depth` deep, or from all
/// such pixels if the band has none.
fn fallback_point(
    depth: &[f32],
    near_skeleton: &Mask,
    min_depth: f32,
    w: usize,
    rng: &mut impl Rng,
) -> Point {
    let pool = |band: bool| -> Vec<(usize, f32)> {
        depth
            .iter()
            .enumerate()
            .filter(|&(i, &d)| {
                d > 0.0 && d >= min_depth && (!band || near_skeleton.as_slice()[i] != 0)
            })
            .map(|(i, &d)| (i, d))
            .collect()
    };
    let mut weights = pool(true);
    if weights.is_empty() {
        weights = pool(false);
    }
    let i = pick_weighted(&weights, rng);
    Point::new((i % w) as f32, (i / w) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::dilate;

    /// Two 12-px arms 8 px apart, joined 100 px further down: a chord
    /// across the gap costs 8 + 2·8, the way round ~200.
    fn tuning_fork() -> Mask {
        Mask::from_fn(40, 130, |x, y| {
            (4..16).contains(&x) || (24..36).contains(&x) || y >= 115
        })
    }

    /// Stroke points more than a pixel away from `label`.
    fn points_outside(label: &Mask, stay_inside: bool, seed: u64) -> usize {
        use rand::SeedableRng;
        let params = ScribbleParams {
            stay_inside,
            ..ScribbleParams::default()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let scribble = simulate_scribble(label, &params, &mut rng);
        assert!(!scribble.is_empty());
        scribble
            .strokes
            .iter()
            .flat_map(|s| &s.points)
            .filter(|&&p| !label.is_near(p))
            .count()
    }

    #[test]
    fn strokes_cut_where_the_paper_would_cross_the_gap() {
        let fork = tuning_fork();
        let crossing: usize = (0..10).map(|seed| points_outside(&fork, false, seed)).sum();
        assert!(crossing > 0, "the paper's strokes never crossed the gap");
        for seed in 0..10 {
            assert_eq!(points_outside(&fork, true, seed), 0, "seed {seed}");
        }
    }

    #[test]
    fn band_equals_dilation_by_a_disk() {
        let skeleton = Mask::from_fn(60, 40, |x, y| {
            (y == 20 && (10..50).contains(&x)) || (x == 30 && y < 20) || (x, y) == (5, 5)
        });
        for radius in [1.0, 2.5, 6.0, 13.7] {
            let centres: Vec<(usize, usize)> = (0..60 * 40)
                .filter(|&i| skeleton.as_slice()[i] != 0)
                .map(|i| (i % 60, i / 60))
                .collect();
            assert_eq!(
                band_around(&centres, 60, 40, radius),
                dilate(&skeleton, radius),
                "radius {radius}"
            );
        }
    }
}
