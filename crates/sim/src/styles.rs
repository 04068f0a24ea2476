//! Stroke styles beside the paper's: the ways people actually scribble.
//!
//! The paper's simulator ([`simulate_scribble`]) draws smoothed spanning
//! trees over points sampled near the skeleton. People also draw one line
//! down the middle, a short dab over part of the object, a line following
//! the outline from inside, a fat brush stroke, a zig-zag fill, shaky lines,
//! lines that overshoot the outline, negative strokes around the object, and
//! one stroke per branch of a thin branching structure. Each [`StrokeStyle`]
//! draws one of these from a label mask; all but [`StrokeStyle::Paper`] draw
//! on the label's largest connected component, the part a person starts on.
//!
//! Every style is deterministic given the caller's `rng`, and every style but
//! [`StrokeStyle::Crossing`] and the negative strokes of
//! [`StrokeStyle::Surround`] keeps its positive strokes within a pixel of
//! the label ([`Mask::is_near`]), as the paper's strokes are.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::components::{components, Component};
use crate::distance::{dilate, distance_to_background};
use crate::draw::{Polarity, Scribble, Stroke, DRAW_RADIUS};
use crate::geometry::Point;
use crate::mask::Mask;
use crate::simulate::{pieces_inside, simulate_scribble, ScribbleParams};
use crate::skeleton::{block_centres, skeletonize, NEIGHBOURS as RING};

/// How a simulated person scribbles on a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StrokeStyle {
    /// The paper's simulator (section 2.3): smoothed spanning trees over
    /// points sampled near the skeleton.
    Paper,
    /// One line down the middle: 60–90% of the longest path of the skeleton
    /// of the slightly eroded object, around its middle.
    Centre,
    /// A short line over part of the object: 20–50% of that path, anywhere
    /// along it.
    Short,
    /// A line following the outline from inside, at a depth of 15–35% of
    /// the object's largest inscribed radius, over half to all of it.
    Boundary,
    /// A fat brush stroke down the middle, as a band of parallel lines as
    /// wide as half to nearly all of the object's depth along it.
    Brush,
    /// A zig-zag across the object from one end of its main axis to the other.
    ZigZag,
    /// A centre line drawn by a shaky hand: a smooth random sway, a tremor
    /// and a small rotation and scaling of the whole stroke, cut where it
    /// leaves the object.
    Wobbly,
    /// A centre line that misses: it overshoots the object's ends by a few
    /// pixels and, half the time, runs off to one side, crossing the outline
    /// where it sways. Not cut.
    Crossing,
    /// A centre line and one to four negative arcs around the object, a
    /// small gap outside its outline.
    Surround,
    /// One stroke along each of the longer branches of the object's
    /// skeleton, as for vessels, roots or neurites.
    Branches,
}

impl StrokeStyle {
    /// Every style, in a fixed order.
    pub const ALL: [StrokeStyle; 10] = [
        StrokeStyle::Paper,
        StrokeStyle::Centre,
        StrokeStyle::Short,
        StrokeStyle::Boundary,
        StrokeStyle::Brush,
        StrokeStyle::ZigZag,
        StrokeStyle::Wobbly,
        StrokeStyle::Crossing,
        StrokeStyle::Surround,
        StrokeStyle::Branches,
    ];

    /// The style's name on the command line and in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            StrokeStyle::Paper => "paper",
            StrokeStyle::Centre => "centre",
            StrokeStyle::Short => "short",
            StrokeStyle::Boundary => "boundary",
            StrokeStyle::Brush => "brush",
            StrokeStyle::ZigZag => "zigzag",
            StrokeStyle::Wobbly => "wobbly",
            StrokeStyle::Crossing => "crossing",
            StrokeStyle::Surround => "surround",
            StrokeStyle::Branches => "branches",
        }
    }

    /// Whether the style's positive strokes may leave the object, so that a
    /// trainer drawing them must not clip them to it.
    pub fn crosses_outline(self) -> bool {
        self == StrokeStyle::Crossing
    }
}

impl fmt::Display for StrokeStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stroke style name that is not one of [`StrokeStyle::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown stroke style {0:?} (expected one of: paper, centre, short, boundary, brush, zigzag, wobbly, crossing, surround, branches)")]
pub struct UnknownStyle(pub String);

impl FromStr for StrokeStyle {
    type Err = UnknownStyle;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StrokeStyle::ALL
            .into_iter()
            .find(|style| style.name() == s)
            .ok_or_else(|| UnknownStyle(s.to_owned()))
    }
}

/// Simulates a first scribble on `label` in `style`. [`StrokeStyle::Paper`]
/// uses `params`; the other styles draw on the largest component and take
/// what they need from its shape. An empty label gets an empty scribble.
pub fn simulate_style(
    label: &Mask,
    style: StrokeStyle,
    params: &ScribbleParams,
    rng: &mut impl Rng,
) -> Scribble {
    if style == StrokeStyle::Paper {
        return simulate_scribble(label, params, rng);
    }
    let Some(part) = components(label).into_iter().next() else {
        return Scribble::default();
    };
    let shape = Shape::new(&part);
    let paths: Vec<Vec<Point>> = match style {
        StrokeStyle::Paper => unreachable!("handled above"),
        StrokeStyle::Centre => {
            let fraction = rng.random_range(0.6..=0.9);
            vec![shape.centre_piece(fraction, 0.5)]
        }
        StrokeStyle::Short => {
            let fraction = rng.random_range(0.2..=0.5);
            vec![shape.centre_piece(fraction, rng.random())]
        }
        StrokeStyle::Boundary => shape.boundary(rng),
        StrokeStyle::Brush => shape.brush(rng),
        StrokeStyle::ZigZag => shape.zigzag(rng),
        StrokeStyle::Wobbly => {
            let fraction = rng.random_range(0.6..=0.9);
            let line = shape.centre_piece(fraction, 0.5);
            shape.cut(&wobble(&line, shape.depth_scale(), rng))
        }
        StrokeStyle::Crossing => vec![shape.crossing(rng)],
        StrokeStyle::Surround => {
            let fraction = rng.random_range(0.5..=0.9);
            vec![shape.centre_piece(fraction, 0.5)]
        }
        StrokeStyle::Branches => shape.branches(rng),
    };
    let shift = |p: Point| Point::new(p.x + shape.origin.0, p.y + shape.origin.1);
    let mut strokes: Vec<Stroke> = paths
        .into_iter()
        .filter(|path| !path.is_empty())
        .map(|path| Stroke {
            points: path.into_iter().map(shift).collect(),
            polarity: Polarity::Positive,
        })
        .collect();
    if style == StrokeStyle::Surround {
        strokes.extend(surround(label, &part, rng));
    }
    Scribble { strokes }
}

/// What the styles need to know about one component: its cut-out, depth
/// field and the longest path of its skeleton, all in cut-out coordinates.
struct Shape {
    mask: Mask,
    depth: Vec<f32>,
    max_depth: f32,
    /// Where the cut-out's pixel (0, 0) lies in the label.
    origin: (f32, f32),
    /// The longest skeleton path of the slightly eroded component, smoothed
    /// and resampled a pixel apart; at least one point.
    spine: Vec<Point>,
}

impl Shape {
    fn new(part: &Component) -> Self {
        let mask = part.mask.clone();
        let depth = distance_to_background(&mask);
        let max_depth = depth.iter().copied().fold(0.0f32, f32::max);
        // Eroded a little, so the skeleton's spurs into corners vanish and
        // the line stays a brush radius inside.
        let erosion = (0.2 * max_depth)
            .clamp(0.0, 2.0 * DRAW_RADIUS)
            .min(max_depth - 0.5);
        let eroded = Mask::from_fn(mask.width(), mask.height(), |x, y| {
            depth[y * mask.width() + x] > erosion
        });
        let mut shape = Shape {
            origin: (part.origin.0 as f32, part.origin.1 as f32),
            mask,
            depth,
            max_depth,
            spine: Vec::new(),
        };
        // Thinning shortens a smooth shape's skeleton at its ends (and the
        // coarse grid more so): the path is prolonged straight on to where
        // the object gets thinner than the brush, as a person's line reaches
        // the ends.
        let path = longest_skeleton_path(&eroded, max_depth);
        let floor = (DRAW_RADIUS + 0.5).max(erosion).min(0.8 * max_depth);
        let (before, after) = (
            shape.exit(&path, false, floor),
            shape.exit(&path, true, floor),
        );
        shape.spine = smooth(&resample(&extend(&path, before, after), 1.0), 3);
        shape
    }

    /// The depth at `p` (0 outside the cut-out).
    fn depth_at(&self, p: Point) -> f32 {
        let (x, y) = (p.x.round() as isize, p.y.round() as isize);
        if x < 0 || y < 0 || x as usize >= self.mask.width() || y as usize >= self.mask.height() {
            return 0.0;
        }
        self.depth[y as usize * self.mask.width() + x as usize]
    }

    /// A typical half-width of the object along its spine: the median depth.
    fn depth_scale(&self) -> f32 {
        let mut d: Vec<f32> = self.spine.iter().map(|&p| self.depth_at(p)).collect();
        d.sort_by(f32::total_cmp);
        d[d.len() / 2].max(1.0)
    }

    /// The piece of the spine `fraction` of its length long, its middle at
    /// `position` (0: as far to the start as it fits, 1: to the end).
    fn centre_piece(&self, fraction: f32, position: f32) -> Vec<Point> {
        let n = self.spine.len();
        let len = ((n as f32 * fraction).round() as usize).clamp(1, n);
        let start = ((n - len) as f32 * position).round() as usize;
        self.spine[start..start + len].to_vec()
    }

    /// The pieces of `path` within a pixel of the object, as the paper's
    /// strokes are cut ([`pieces_inside`]).
    fn cut(&self, path: &[Point]) -> Vec<Vec<Point>> {
        pieces_inside(&self.mask, path)
    }

    fn boundary(&self, rng: &mut impl Rng) -> Vec<Vec<Point>> {
        let inset = (rng.random_range(0.15..=0.35) * self.max_depth)
            .max(DRAW_RADIUS + 0.5)
            .min(self.max_depth - 0.5)
            .max(0.0);
        let inner = Mask::from_fn(self.mask.width(), self.mask.height(), |x, y| {
            self.depth[y * self.mask.width() + x] > inset
        });
        let contour = trace_outline(&inner);
        if contour.len() < 3 {
            return vec![self.spine.clone()];
        }
        let arc = arc_of(&contour, rng.random_range(0.5..=1.0), rng);
        self.cut(&smooth(&resample(&arc, 1.0), 2))
    }

    fn brush(&self, rng: &mut impl Rng) -> Vec<Vec<Point>> {
        let line = self.centre_piece(rng.random_range(0.6..=0.95), 0.5);
        let radius = (rng.random_range(0.5..=0.9) * self.depth_scale()).clamp(DRAW_RADIUS, 20.0);
        // Lines a brush diameter less a pixel apart leave no gap between them.
        let step = 2.0 * DRAW_RADIUS - 1.0;
        let reach = radius - DRAW_RADIUS;
        let lanes = (reach / step).floor() as i32;
        (-lanes..=lanes)
            .flat_map(|k| self.cut(&offset(&line, k as f32 * step)))
            .collect()
    }

    fn zigzag(&self, rng: &mut impl Rng) -> Vec<Vec<Point>> {
        let (w, h) = (self.mask.width(), self.mask.height());
        let pixels: Vec<Point> = (0..w * h)
            .filter(|&i| self.mask.as_slice()[i] != 0)
            .map(|i| Point::new((i % w) as f32, (i / w) as f32))
            .collect();
        let (centre, major, minor) = principal_axes(&pixels);
        let along = |p: &Point| (p.x - centre.x) * major.x + (p.y - centre.y) * major.y;
        let (t0, t1) = pixels
            .iter()
            .map(along)
            .fold((f32::MAX, f32::MIN), |(a, b), t| (a.min(t), b.max(t)));
        let turns = rng.random_range(4..=10);
        let inset = (0.3 * self.max_depth).clamp(0.0, DRAW_RADIUS + 1.0);
        let reach = (w + h) as f32;
        let mut vertices = Vec::new();
        for i in 0..turns {
            let t = t0 + (t1 - t0) * (i as f32 + rng.random_range(0.3..=0.7)) / turns as f32;
            let base = Point::new(centre.x + t * major.x, centre.y + t * major.y);
            // The cross-section of the object at `t`, among pixels deeper than `inset`.
            let (mut lo, mut hi) = (f32::MAX, f32::MIN);
            let mut s = -reach;
            while s <= reach {
                let p = Point::new(base.x + s * minor.x, base.y + s * minor.y);
                if self.depth_at(p) > inset {
                    (lo, hi) = (lo.min(s), hi.max(s));
                }
                s += 1.0;
            }
            if lo > hi {
                continue;
            }
            let pull = rng.random_range(0.05..=0.2) * (hi - lo);
            let s = if i % 2 == 0 { lo + pull } else { hi - pull };
            vertices.push(Point::new(base.x + s * minor.x, base.y + s * minor.y));
        }
        if vertices.len() < 2 {
            return vec![self.spine.clone()];
        }
        self.cut(&resample(&vertices, 1.0))
    }

    fn crossing(&self, rng: &mut impl Rng) -> Vec<Point> {
        let line = self.centre_piece(rng.random_range(0.8..=1.0), 0.5);
        let scale = self.depth_scale();
        let most = (0.3 * scale).max(3.0);
        let before = self.exit(&line, false, 0.0) + rng.random_range(1.0..=most);
        let after = self.exit(&line, true, 0.0) + rng.random_range(1.0..=most);
        let mut line = extend(&line, before, after);
        if rng.random_bool(0.5) {
            // Off to one side: by half to nearly all of the object's depth,
            // so the sway takes it across the outline here and there.
            let side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            line = offset(&line, side * rng.random_range(0.5..=0.9) * scale);
        }
        wobble(&line, scale, rng)
    }

    /// How far past the start (or end) of `path`, straight on along its
    /// direction there, the object's depth stays above `floor`.
    fn exit(&self, path: &[Point], at_end: bool, floor: f32) -> f32 {
        let Some((from, out)) = outward(path, at_end) else {
            return 0.0;
        };
        let limit = 4.0 * self.max_depth + 4.0;
        let mut t = 0.0;
        while t < limit
            && self.depth_at(Point::new(
                from.x + (t + 0.5) * out.x,
                from.y + (t + 0.5) * out.y,
            )) > floor
        {
            t += 0.5;
        }
        t
    }

    fn branches(&self, rng: &mut impl Rng) -> Vec<Vec<Point>> {
        let mut found = skeleton_branches(&self.mask, self.max_depth);
        found.sort_by_key(|b| Reverse(b.len()));
        let longest = found.first().map_or(0, Vec::len);
        // A branch is a branch when it is at least a third of the longest,
        // or longer than twice the object's depth: a spur of the outline is
        // not. The long ones all get a stroke; the rest, by chance.
        let min_len = (longest / 3).min((2.0 * self.max_depth) as usize).max(3);
        found.retain(|b| b.len() >= min_len && (3 * b.len() >= longest || rng.random_bool(0.5)));
        found.truncate(12);
        let pieces: Vec<Vec<Point>> = found
            .iter()
            .flat_map(|b| self.cut(&smooth(&resample(b, 1.0), 2)))
            .collect();
        if pieces.is_empty() {
            vec![self.spine.clone()]
        } else {
            pieces
        }
    }
}

/// One to four negative arcs around `part` (a component of `label`), a gap
/// of 3 px to a fifth of its size outside its outline, each a tenth to a
/// third of the way round; in the label's frame, within the image and away
/// from the label.
fn surround(label: &Mask, part: &Component, rng: &mut impl Rng) -> Vec<Stroke> {
    let size = part.bbox.width().max(part.bbox.height()) as f32;
    let gap = rng.random_range(3.0..=(0.2 * size).max(4.0));
    let pad = gap.ceil() as usize + 2;
    let (w, h) = (part.mask.width() + 2 * pad, part.mask.height() + 2 * pad);
    let padded = Mask::from_fn(w, h, |x, y| {
        part.mask
            .get(x as isize - pad as isize, y as isize - pad as isize)
    });
    let ring = trace_outline(&dilate(&padded, gap));
    if ring.len() < 3 {
        return Vec::new();
    }
    let (ox, oy) = (
        part.origin.0 as f32 - pad as f32,
        part.origin.1 as f32 - pad as f32,
    );
    let inside_image = |p: &Point| {
        p.x >= 0.0
            && p.y >= 0.0
            && p.x <= (label.width() - 1) as f32
            && p.y <= (label.height() - 1) as f32
    };
    let arcs = rng.random_range(1..=4);
    let mut strokes = Vec::new();
    for _ in 0..arcs {
        let arc = arc_of(&ring, rng.random_range(0.1..=0.35), rng);
        let arc: Vec<Point> = smooth(&resample(&arc, 1.0), 2)
            .into_iter()
            .map(|p| Point::new(p.x + ox, p.y + oy))
            .collect();
        for run in arc.split(|p| !inside_image(p) || label.is_near(*p)) {
            if run.len() >= 3 {
                strokes.push(Stroke {
                    points: run.to_vec(),
                    polarity: Polarity::Negative,
                });
            }
        }
    }
    strokes
}

/// The outer outline of the component of `mask` holding its first pixel in
/// row-major order, as pixel centres in order (Moore-neighbour tracing,
/// stopped when it enters the start pixel the way it first left it). Empty
/// for an empty mask.
fn trace_outline(mask: &Mask) -> Vec<Point> {
    let w = mask.width();
    let Some(first) = mask.as_slice().iter().position(|&v| v != 0) else {
        return Vec::new();
    };
    let start = ((first % w) as isize, (first / w) as isize);
    let step = |p: (isize, isize), d: usize| (p.0 + RING[d].0, p.1 + RING[d].1);
    // The first pixel's west neighbour (RING[6]) is background: search
    // clockwise from it.
    let (mut p, mut back) = (start, 6usize);
    let mut outline = vec![start];
    let mut first_move = None;
    let limit = 4 * mask.as_slice().len() + 8;
    for _ in 0..limit {
        let Some(k) = (1..=8).find(|k| {
            let q = step(p, (back + k) % 8);
            mask.get(q.0, q.1)
        }) else {
            break; // A single pixel.
        };
        let d = (back + k) % 8;
        let q = step(p, d);
        // The last background pixel checked, seen from `q`.
        let b = step(p, (back + k - 1) % 8);
        let new_back = RING
            .iter()
            .position(|&o| (q.0 + o.0, q.1 + o.1) == b)
            .expect("consecutive ring pixels are neighbours");
        if first_move.is_none() {
            first_move = Some((p, d));
        } else if first_move == Some((p, d)) {
            outline.pop();
            break;
        }
        (p, back) = (q, new_back);
        outline.push(p);
    }
    outline
        .into_iter()
        .map(|(x, y)| Point::new(x as f32, y as f32))
        .collect()
}

/// A random arc of a closed outline, `fraction` of its points long.
fn arc_of(outline: &[Point], fraction: f32, rng: &mut impl Rng) -> Vec<Point> {
    let n = outline.len();
    let len = ((n as f32 * fraction).round() as usize).clamp(2, n);
    let start = rng.random_range(0..n);
    (0..len).map(|i| outline[(start + i) % n]).collect()
}

/// The skeleton of `mask` computed at a scale where the object is a dozen
/// pixels thick (at most 256 on its longer side), as 8-connected pixel sets
/// in `mask`'s coordinates: the downsampling factor and the small skeleton.
fn coarse_skeleton(mask: &Mask, max_depth: f32) -> (usize, Mask) {
    let longer = mask.width().max(mask.height());
    let factor = ((max_depth / 6.0).floor() as usize)
        .max(longer.div_ceil(256))
        .max(1);
    let small = block_centres(mask, factor);
    (factor, skeletonize(&small))
}

/// A small-grid pixel mapped back to the centre of its block in `mask`.
fn block_centre(i: usize, small_width: usize, factor: usize, mask: &Mask) -> Point {
    let (x, y) = (i % small_width, i / small_width);
    Point::new(
        (x * factor + factor / 2).min(mask.width() - 1) as f32,
        (y * factor + factor / 2).min(mask.height() - 1) as f32,
    )
}

/// The longest path through the skeleton of `mask` ([`diameter`]); the
/// deepest pixel alone when the skeleton is empty.
fn longest_skeleton_path(mask: &Mask, max_depth: f32) -> Vec<Point> {
    let (factor, skeleton) = coarse_skeleton(mask, max_depth);
    let sw = skeleton.width();
    let Some(path) = diameter(&skeleton) else {
        return vec![deepest(mask)];
    };
    path.into_iter()
        .map(|i| block_centre(i, sw, factor, mask))
        .collect()
}

/// The skeleton's branches: its 8-connected runs between end points and
/// junctions, each ordered end to end, in `mask`'s coordinates.
fn skeleton_branches(mask: &Mask, max_depth: f32) -> Vec<Vec<Point>> {
    let (factor, skeleton) = coarse_skeleton(mask, max_depth);
    let (sw, sh) = (skeleton.width(), skeleton.height());
    // Junctions removed, what remains falls apart into the branches.
    let runs = Mask::from_fn(sw, sh, |x, y| {
        let (xi, yi) = (x as isize, y as isize);
        skeleton.get(xi, yi)
            && RING
                .iter()
                .filter(|&&(dx, dy)| skeleton.get(xi + dx, yi + dy))
                .count()
                <= 2
    });
    let mut branches = Vec::new();
    for part in components(&runs) {
        let path = diameter(&part.mask).expect("a component has a pixel");
        let pw = part.mask.width();
        branches.push(
            path.into_iter()
                .map(|i| {
                    let x = (i % pw) as isize + part.origin.0;
                    let y = (i / pw) as isize + part.origin.1;
                    block_centre(y as usize * sw + x as usize, sw, factor, mask)
                })
                .collect(),
        );
    }
    branches
}

/// The pixel indices of a longest path through the 8-connected pixels of
/// `mask`, end to end (two [`sweep`]s from its first pixel: exact on a
/// tree, a long path on a loop); `None` for an empty mask.
fn diameter(mask: &Mask) -> Option<Vec<usize>> {
    let seed = mask.as_slice().iter().position(|&v| v != 0)?;
    let (far, _) = sweep(mask, seed);
    let (end, parent) = sweep(mask, far);
    let mut path = vec![end];
    while let Some(p) = parent[*path.last().expect("non-empty")] {
        path.push(p);
    }
    Some(path)
}

/// Dijkstra over the 8-connected pixels of `mask` from `start` (steps of 1
/// and √2, in tenths): the farthest pixel and each reached pixel's parent.
fn sweep(mask: &Mask, start: usize) -> (usize, Vec<Option<usize>>) {
    let w = mask.width();
    let mut distance = vec![u32::MAX; mask.as_slice().len()];
    let mut parent = vec![None; distance.len()];
    let mut heap = BinaryHeap::new();
    distance[start] = 0;
    heap.push(Reverse((0u32, start)));
    let mut farthest = (0, start);
    while let Some(Reverse((d, i))) = heap.pop() {
        if d > distance[i] {
            continue;
        }
        farthest = farthest.max((d, i));
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for (k, &(dx, dy)) in RING.iter().enumerate() {
            if !mask.get(x + dx, y + dy) {
                continue;
            }
            let j = (y + dy) as usize * w + (x + dx) as usize;
            let nd = d + if k % 2 == 0 { 10 } else { 14 };
            if nd < distance[j] {
                distance[j] = nd;
                parent[j] = Some(i);
                heap.push(Reverse((nd, j)));
            }
        }
    }
    (farthest.1, parent)
}

/// The deepest pixel of `mask` (its centre for an empty one).
fn deepest(mask: &Mask) -> Point {
    let depth = distance_to_background(mask);
    let i = (0..depth.len())
        .max_by(|&a, &b| depth[a].total_cmp(&depth[b]))
        .unwrap_or(0);
    Point::new((i % mask.width()) as f32, (i / mask.width()) as f32)
}

/// The mean of `points` and the unit vectors of their main and cross axes
/// (principal components).
fn principal_axes(points: &[Point]) -> (Point, Point, Point) {
    let n = points.len().max(1) as f32;
    let cx = points.iter().map(|p| p.x).sum::<f32>() / n;
    let cy = points.iter().map(|p| p.y).sum::<f32>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in points {
        let (dx, dy) = (p.x - cx, p.y - cy);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let major = Point::new(angle.cos(), angle.sin());
    (Point::new(cx, cy), major, Point::new(-major.y, major.x))
}

/// `path` resampled at `spacing` along its length (its first and last
/// points kept).
fn resample(path: &[Point], spacing: f32) -> Vec<Point> {
    let Some(&first) = path.first() else {
        return Vec::new();
    };
    let mut out = vec![first];
    let mut carried = 0.0;
    for pair in path.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let length = a.distance(b);
        let mut t = spacing - carried;
        while t <= length {
            let f = t / length;
            out.push(Point::new(a.x + f * (b.x - a.x), a.y + f * (b.y - a.y)));
            t += spacing;
        }
        carried = length - (t - spacing);
    }
    let last = *path.last().expect("non-empty");
    if out.last().is_some_and(|p| p.distance(last) > 1e-3) {
        out.push(last);
    }
    out
}

/// A moving average over `2·half + 1` points (fewer at the ends, which stay put).
fn smooth(path: &[Point], half: usize) -> Vec<Point> {
    let n = path.len();
    (0..n)
        .map(|i| {
            let reach = half.min(i).min(n - 1 - i);
            let window = &path[i - reach..=i + reach];
            let k = window.len() as f32;
            Point::new(
                window.iter().map(|p| p.x).sum::<f32>() / k,
                window.iter().map(|p| p.y).sum::<f32>() / k,
            )
        })
        .collect()
}

/// The unit normal of `path` at each point (left of the direction of travel).
fn normals(path: &[Point]) -> Vec<Point> {
    let n = path.len();
    (0..n)
        .map(|i| {
            let (a, b) = (path[i.saturating_sub(2)], path[(i + 2).min(n - 1)]);
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let length = (dx * dx + dy * dy).sqrt();
            if length < 1e-6 {
                Point::new(0.0, 0.0)
            } else {
                Point::new(-dy / length, dx / length)
            }
        })
        .collect()
}

/// `path` moved sideways by `distance` along its normals.
fn offset(path: &[Point], distance: f32) -> Vec<Point> {
    path.iter()
        .zip(normals(path))
        .map(|(p, n)| Point::new(p.x + distance * n.x, p.y + distance * n.y))
        .collect()
}

/// `path` prolonged straight on by `before` pixels at its start and `after`
/// at its end, along its end directions.
fn extend(path: &[Point], before: f32, after: f32) -> Vec<Point> {
    let (Some((first, back)), Some((last, on))) = (outward(path, false), outward(path, true))
    else {
        return path.to_vec();
    };
    let start = Point::new(first.x + before * back.x, first.y + before * back.y);
    let end = Point::new(last.x + after * on.x, last.y + after * on.y);
    let mut out = resample(&[start, first], 1.0);
    out.pop();
    out.extend_from_slice(path);
    out.extend(resample(&[last, end], 1.0).into_iter().skip(1));
    out
}

/// The start (or end) point of `path` and the unit direction pointing out
/// of it there, taken over up to four points so a pixel step does not set
/// it; `None` for a path of fewer than two points.
fn outward(path: &[Point], at_end: bool) -> Option<(Point, Point)> {
    let n = path.len();
    if n < 2 {
        return None;
    }
    let (from, towards) = if at_end {
        (path[n - 1], path[n.saturating_sub(5)])
    } else {
        (path[0], path[(n - 1).min(4)])
    };
    let (dx, dy) = (from.x - towards.x, from.y - towards.y);
    let length = (dx * dx + dy * dy).sqrt().max(1e-6);
    Some((from, Point::new(dx / length, dy / length)))
}

/// `path` as a shaky hand draws it: two slow sideways sways of up to a
/// quarter of `scale` each, a tremor of about a pixel, and the whole stroke
/// rotated by up to 8° and scaled by 0.9–1.1 about its middle.
fn wobble(path: &[Point], scale: f32, rng: &mut impl Rng) -> Vec<Point> {
    if path.len() < 2 {
        return path.to_vec();
    }
    let sways: Vec<(f32, f32, f32)> = (0..2)
        .map(|_| {
            (
                rng.random_range(0.05..=0.25) * scale,
                rng.random_range(15.0..=60.0f32),
                rng.random_range(0.0..std::f32::consts::TAU),
            )
        })
        .collect();
    let tremor: Vec<f32> = path.iter().map(|_| rng.random_range(-1.0..=1.0)).collect();
    let tremor = smooth_values(&tremor, 2);
    let mut arc = 0.0;
    let mut prev = path[0];
    let swayed: Vec<Point> = path
        .iter()
        .zip(normals(path))
        .zip(&tremor)
        .map(|((&p, n), &t)| {
            arc += p.distance(prev);
            prev = p;
            let sway: f32 = sways
                .iter()
                .map(|&(a, wavelength, phase)| {
                    a * (std::f32::consts::TAU * arc / wavelength + phase).sin()
                })
                .sum();
            let d = sway + t;
            Point::new(p.x + d * n.x, p.y + d * n.y)
        })
        .collect();
    let centre = swayed[swayed.len() / 2];
    let angle = rng.random_range(-8.0f32..=8.0).to_radians();
    let stretch = rng.random_range(0.9..=1.1);
    let (sin, cos) = angle.sin_cos();
    swayed
        .into_iter()
        .map(|p| {
            let (dx, dy) = ((p.x - centre.x) * stretch, (p.y - centre.y) * stretch);
            Point::new(
                centre.x + cos * dx - sin * dy,
                centre.y + sin * dx + cos * dy,
            )
        })
        .collect()
}

/// A moving average of plain values.
fn smooth_values(values: &[f32], half: usize) -> Vec<f32> {
    let points: Vec<Point> = values.iter().map(|&v| Point::new(v, 0.0)).collect();
    smooth(&points, half).into_iter().map(|p| p.x).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A 160×90 image holding a filled ellipse.
    fn ellipse() -> Mask {
        Mask::from_fn(160, 90, |x, y| {
            ((x as f32 - 80.0) / 60.0).powi(2) + ((y as f32 - 45.0) / 28.0).powi(2) <= 1.0
        })
    }

    /// A 3-pixel-wide "Y" of vessels in a 200×200 image.
    fn branching() -> Mask {
        let near = |x: f32, y: f32, a: Point, b: Point| {
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let t = (((x - a.x) * dx + (y - a.y) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            Point::new(x, y).distance(Point::new(a.x + t * dx, a.y + t * dy)) <= 1.5
        };
        let fork = Point::new(100.0, 100.0);
        Mask::from_fn(200, 200, |x, y| {
            let (x, y) = (x as f32, y as f32);
            near(x, y, Point::new(100.0, 190.0), fork)
                || near(x, y, fork, Point::new(20.0, 20.0))
                || near(x, y, fork, Point::new(180.0, 20.0))
        })
    }

    fn run(label: &Mask, style: StrokeStyle, seed: u64) -> Scribble {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        simulate_style(label, style, &ScribbleParams::default(), &mut rng)
    }

    fn positives(s: &Scribble) -> impl Iterator<Item = &Point> {
        s.strokes
            .iter()
            .filter(|s| s.polarity == Polarity::Positive)
            .flat_map(|s| &s.points)
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for style in StrokeStyle::ALL {
            assert_eq!(style.name().parse::<StrokeStyle>(), Ok(style));
        }
        let err = "scrawl".parse::<StrokeStyle>().unwrap_err();
        assert!(err.to_string().contains("scrawl") && err.to_string().contains("zigzag"));
    }

    #[test]
    fn every_style_is_deterministic_and_draws_a_positive_stroke() {
        for label in [ellipse(), branching()] {
            for style in StrokeStyle::ALL {
                for seed in 0..4 {
                    let a = run(&label, style, seed);
                    assert_eq!(a, run(&label, style, seed), "{style} seed {seed}");
                    assert!(
                        positives(&a).next().is_some(),
                        "{style} seed {seed}: no positive"
                    );
                }
            }
        }
    }

    #[test]
    fn an_empty_label_gets_no_strokes() {
        for style in StrokeStyle::ALL {
            assert!(run(&Mask::new(30, 20), style, 0).is_empty(), "{style}");
        }
    }

    #[test]
    fn styles_that_promise_it_stay_on_the_object() {
        for label in [ellipse(), branching()] {
            for style in StrokeStyle::ALL
                .into_iter()
                .filter(|s| !s.crosses_outline())
            {
                for seed in 0..6 {
                    let s = run(&label, style, seed);
                    let outside = positives(&s).filter(|&&p| !label.is_near(p)).count();
                    assert_eq!(outside, 0, "{style} seed {seed}");
                }
            }
        }
    }

    #[test]
    fn crossing_strokes_leave_the_object_and_surround_negatives_stay_off_it() {
        let label = ellipse();
        let crossed = (0..6)
            .filter(|&seed| {
                positives(&run(&label, StrokeStyle::Crossing, seed)).any(|&p| !label.is_near(p))
            })
            .count();
        assert_eq!(crossed, 6, "every crossing stroke overshoots the ends");
        for seed in 0..6 {
            let s = run(&label, StrokeStyle::Surround, seed);
            let negatives: Vec<&Point> = s
                .strokes
                .iter()
                .filter(|s| s.polarity == Polarity::Negative)
                .flat_map(|s| &s.points)
                .collect();
            assert!(!negatives.is_empty(), "seed {seed}: no negative arc");
            for p in negatives {
                assert!(
                    !label.is_near(*p),
                    "seed {seed}: negative on the object at {p:?}"
                );
                assert!(p.x >= 0.0 && p.y >= 0.0 && p.x <= 159.0 && p.y <= 89.0);
            }
        }
    }

    /// Length of the polyline.
    fn length(points: &[Point]) -> f32 {
        points.windows(2).map(|w| w[0].distance(w[1])).sum()
    }

    #[test]
    fn centre_runs_along_the_main_axis_and_short_is_shorter() {
        let label = ellipse();
        for seed in 0..6 {
            let centre = run(&label, StrokeStyle::Centre, seed);
            assert_eq!(centre.strokes.len(), 1);
            let points = &centre.strokes[0].points;
            // The spine runs along y ≈ 45 to where the ellipse is 4 px
            // thick, x ≈ 24–136; 60–90% of it is 67–101 px.
            let l = length(points);
            assert!((60.0..=108.0).contains(&l), "seed {seed}: length {l}");
            assert!(
                points.iter().all(|p| (p.y - 45.0).abs() < 10.0),
                "seed {seed}"
            );
            let short = length(&run(&label, StrokeStyle::Short, seed).strokes[0].points);
            assert!(
                short < l && short <= 0.55 * 115.0,
                "seed {seed}: short {short} vs {l}"
            );
        }
    }

    #[test]
    fn boundary_follows_the_outline_from_inside() {
        let label = ellipse();
        let depth = distance_to_background(&label);
        for seed in 0..6 {
            let s = run(&label, StrokeStyle::Boundary, seed);
            let points: Vec<&Point> = positives(&s).collect();
            let deep = points
                .iter()
                .filter(|p| depth[p.y.round() as usize * 160 + p.x.round() as usize] > 12.0)
                .count();
            assert!(
                deep * 10 <= points.len(),
                "seed {seed}: {deep} of {} deep",
                points.len()
            );
            assert!(length(&s.strokes[0].points) > 100.0, "seed {seed}");
        }
    }

    #[test]
    fn brush_paints_a_band_wider_than_one_line() {
        let label = ellipse();
        for seed in 0..4 {
            let s = run(&label, StrokeStyle::Brush, seed);
            assert!(
                s.strokes.len() >= 3,
                "seed {seed}: {} lanes",
                s.strokes.len()
            );
            let ys = positives(&s).map(|p| p.y);
            let (lo, hi) = ys.fold((f32::MAX, f32::MIN), |(a, b), y| (a.min(y), b.max(y)));
            assert!(hi - lo >= 8.0, "seed {seed}: band {lo}–{hi}");
        }
    }

    #[test]
    fn zigzag_crosses_the_object_back_and_forth() {
        let label = ellipse();
        for seed in 0..4 {
            let s = run(&label, StrokeStyle::ZigZag, seed);
            let points: Vec<&Point> = positives(&s).collect();
            let above = points.iter().filter(|p| p.y < 35.0).count();
            let below = points.iter().filter(|p| p.y > 55.0).count();
            assert!(
                above > 0 && below > 0,
                "seed {seed}: {above} above, {below} below"
            );
        }
    }

    #[test]
    fn branches_gives_each_arm_of_a_fork_a_stroke() {
        let label = branching();
        for seed in 0..4 {
            let s = run(&label, StrokeStyle::Branches, seed);
            let arms = [(100.0, 170.0), (40.0, 40.0), (160.0, 40.0)];
            for (x, y) in arms {
                let touched = positives(&s).any(|p| p.distance(Point::new(x, y)) < 6.0);
                assert!(touched, "seed {seed}: no stroke near ({x}, {y})");
            }
        }
    }

    #[test]
    fn outline_tracing_visits_every_border_pixel_once() {
        let square = Mask::from_fn(10, 10, |x, y| (2..8).contains(&x) && (3..7).contains(&y));
        let outline = trace_outline(&square);
        assert_eq!(outline.len(), 2 * 6 + 2 * 4 - 4);
        let unique: std::collections::HashSet<(i32, i32)> =
            outline.iter().map(|p| (p.x as i32, p.y as i32)).collect();
        assert_eq!(unique.len(), outline.len());
        assert_eq!(
            trace_outline(&Mask::from_fn(5, 5, |x, y| (x, y) == (2, 2))).len(),
            1
        );
    }

    #[test]
    fn resampling_spaces_points_evenly() {
        let path = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(10.0, 5.5),
        ];
        let r = resample(&path, 1.0);
        assert_eq!(r.len(), 17);
        for pair in r.windows(2).take(15) {
            assert!((pair[0].distance(pair[1]) - 1.0).abs() < 1e-4);
        }
    }
}
