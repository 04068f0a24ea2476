//! The scribble graph: a minimum spanning tree over the sampled points,
//! random edge removal, and its decomposition into longest paths.
//!
//! Hand-written rather than petgraph: the graphs have a few dozen nodes and
//! a dense cost matrix, where Prim's O(n²) loop over a flat matrix is both
//! shorter and faster than building a petgraph graph of all n² edges.

use rand::Rng;

use crate::geometry::Point;
use crate::mask::Mask;

/// An undirected edge between two point indices.
pub type Edge = (usize, usize);

/// Cost of the straight segment `a → b`: its length, where the part outside
/// `mask` counts `outside_cost` times.
///
/// The segment is sampled every half pixel; each sample's nearest pixel
/// decides inside or outside.
pub fn segment_cost(mask: &Mask, a: Point, b: Point, outside_cost: f32) -> f32 {
    let length = a.distance(b);
    if length == 0.0 {
        return 0.0;
    }
    let steps = (length * 2.0).ceil() as usize;
    let outside = (0..=steps)
        .filter(|&i| {
            let t = i as f32 / steps as f32;
            let x = a.x + (b.x - a.x) * t;
            let y = a.y + (b.y - a.y) * t;
            !mask.get(x.round() as isize, y.round() as isize)
        })
        .count();
    let outside_length = length * outside as f32 / (steps + 1) as f32;
    length + (outside_cost - 1.0) * outside_length
}

/// Minimum spanning tree of a complete graph given by `cost(i, j)` (Prim).
pub fn minimum_spanning_tree(n: usize, cost: impl Fn(usize, usize) -> f32) -> Vec<Edge> {
    if n < 2 {
        return Vec::new();
    }
    let mut in_tree = vec![false; n];
    let mut best = vec![f32::INFINITY; n];
    let mut parent = vec![0usize; n];
    let mut edges = Vec::with_capacity(n - 1);
    in_tree[0] = true;
    for (j, b) in best.iter_mut().enumerate().skip(1) {
        *b = cost(0, j);
    }
    for _ in 1..n {
        let next = (0..n)
            .filter(|&j| !in_tree[j])
            .min_by(|&a, &b| best[a].total_cmp(&best[b]))
            .expect("a node is left");
        in_tree[next] = true;
        edges.push((parent[next], next));
        for j in 0..n {
            if !in_tree[j] {
                let c = cost(next, j);
                if c < best[j] {
                    best[j] = c;
                    parent[j] = next;
                }
            }
        }
    }
    edges
}

/// Removes up to `count` edges, one at a time, each drawn uniformly among
/// the edges whose two endpoints both have degree ≥ 2 at that moment, so no
/// point is ever cut off from all others. Returns how many were removed.
pub fn remove_random_edges(
    edges: &mut Vec<Edge>,
    n: usize,
    count: usize,
    rng: &mut impl Rng,
) -> usize {
    for removed in 0..count {
        let degree = degrees(edges, n);
        let removable: Vec<usize> = (0..edges.len())
            .filter(|&e| degree[edges[e].0] >= 2 && degree[edges[e].1] >= 2)
            .collect();
        if removable.is_empty() {
            return removed;
        }
        let pick = removable[rng.random_range(0..removable.len())];
        edges.swap_remove(pick);
    }
    count
}

fn degrees(edges: &[Edge], n: usize) -> Vec<usize> {
    let mut degree = vec![0; n];
    for &(a, b) in edges {
        degree[a] += 1;
        degree[b] += 1;
    }
    degree
}

/// Splits a forest into paths: repeatedly takes the longest path (by
/// Euclidean length, found by two sweeps, exact on trees) and removes its
/// edges, until no edge remains. Points that never had an edge become
/// single-point paths (drawn as dots).
pub fn longest_paths(points: &[Point], edges: &[Edge]) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        adjacency[a].push(b);
        adjacency[b].push(a);
    }
    let mut paths: Vec<Vec<usize>> = (0..n)
        .filter(|&i| adjacency[i].is_empty())
        .map(|i| vec![i])
        .collect();
    let mut remaining = edges.len();
    while remaining > 0 {
        let mut longest: Option<(f32, Vec<usize>)> = None;
        let mut seen = vec![false; n];
        for start in 0..n {
            if seen[start] || adjacency[start].is_empty() {
                continue;
            }
            let (far, _, tree) = farthest(points, &adjacency, start);
            for &v in &tree {
                seen[v] = true;
            }
            let (end, length, parent) = farthest_with_parents(points, &adjacency, far);
            if longest.as_ref().is_none_or(|(l, _)| length > *l) {
                let mut path = vec![end];
                while let Some(p) = parent[*path.last().expect("non-empty")] {
                    path.push(p);
                }
                longest = Some((length, path));
            }
        }
        let (_, path) = longest.expect("an edge remains, so a path exists");
        for pair in path.windows(2) {
            adjacency[pair[0]].retain(|&v| v != pair[1]);
            adjacency[pair[1]].retain(|&v| v != pair[0]);
            remaining -= 1;
        }
        paths.push(path);
    }
    paths
}

/// The node farthest from `start`, its distance and the nodes of its tree.
fn farthest(points: &[Point], adjacency: &[Vec<usize>], start: usize) -> (usize, f32, Vec<usize>) {
    let (end, length, parent) = farthest_with_parents(points, adjacency, start);
    let tree = (0..points.len())
        .filter(|&v| v == start || parent[v].is_some())
        .collect();
    (end, length, tree)
}

/// Depth-first sweep over a tree: the farthest node, its distance, and each
/// reached node's parent (`None` for `start` and unreached nodes).
fn farthest_with_parents(
    points: &[Point],
    adjacency: &[Vec<usize>],
    start: usize,
) -> (usize, f32, Vec<Option<usize>>) {
    let n = points.len();
    let mut parent = vec![None; n];
    let mut distance = vec![f32::NAN; n];
    distance[start] = 0.0;
    let mut stack = vec![start];
    let (mut end, mut best) = (start, 0.0);
    while let Some(v) = stack.pop() {
        if distance[v] > best {
            (end, best) = (v, distance[v]);
        }
        for &u in &adjacency[v] {
            if distance[u].is_nan() {
                distance[u] = distance[v] + points[v].distance(points[u]);
                parent[u] = Some(v);
                stack.push(u);
            }
        }
    }
    (end, best, parent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn line(n: usize) -> Vec<Point> {
        (0..n).map(|i| Point::new(i as f32 * 10.0, 0.0)).collect()
    }

    #[test]
    fn mst_of_collinear_points_is_the_chain() {
        let pts = line(5);
        let mut e = minimum_spanning_tree(5, |i, j| pts[i].distance(pts[j]));
        for edge in &mut e {
            *edge = (edge.0.min(edge.1), edge.0.max(edge.1));
        }
        e.sort();
        assert_eq!(e, vec![(0, 1), (1, 2), (2, 3), (3, 4)]);
    }

    #[test]
    fn outside_cost_prefers_the_path_inside() {
        // A U-shape: the two arm tips are close, but the gap between them is outside.
        let mask = Mask::from_fn(40, 40, |x, y| !(10..30).contains(&x) || y >= 30);
        let a = Point::new(5.0, 2.0);
        let b = Point::new(35.0, 2.0);
        let inside = segment_cost(&mask, a, Point::new(5.0, 35.0), 3.0);
        assert!((inside - 33.0).abs() < 0.5, "{inside}");
        let across = segment_cost(&mask, a, b, 3.0);
        // 30 px long, 20 of them outside: 30 + 2·20 = 70 (±sampling).
        assert!((across - 70.0).abs() < 3.0, "{across}");
    }

    #[test]
    fn removal_keeps_leaves_attached() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        // A star: no edge has two endpoints of degree ≥ 2.
        let mut star = vec![(0, 1), (0, 2), (0, 3)];
        assert_eq!(remove_random_edges(&mut star, 4, 3, &mut rng), 0);
        // A chain of 4: only the middle edge is removable.
        let mut chain = vec![(0, 1), (1, 2), (2, 3)];
        assert_eq!(remove_random_edges(&mut chain, 4, 3, &mut rng), 1);
        assert_eq!(chain.len(), 2);
        assert!(!chain.contains(&(1, 2)));
    }

    #[test]
    fn paths_cover_every_edge_once_longest_first() {
        // A T: long bar 0-1-2-3 and a short branch 1-4.
        let pts = vec![
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(20.0, 0.0),
            Point::new(30.0, 0.0),
            Point::new(10.0, 5.0),
        ];
        let edges = vec![(0, 1), (1, 2), (2, 3), (1, 4)];
        let paths = longest_paths(&pts, &edges);
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[0].len(), 4);
        let covered: usize = paths.iter().map(|p| p.len() - 1).sum();
        assert_eq!(covered, edges.len());
        let isolated = longest_paths(&pts[..1], &[]);
        assert_eq!(isolated, vec![vec![0]]);
    }
}
