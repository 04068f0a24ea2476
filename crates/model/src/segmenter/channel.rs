//! What the network is told besides the photo: the interaction channel of a label's strokes
//! (its own +1, everyone else's −1) and the baselines' prompts.

use scribseg_sim::{
    draw_stroke, BoxPrompt, ExtremePoints, Plane, Point, Polarity, Stroke, Window, DRAW_RADIUS,
};

use crate::input::INPUT_SIZE;

/// A prompt of the paper's two baselines, given instead of strokes to a
/// network trained on it.
#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
    /// The object's bounding box, drawn as its outline.
    Box(BoxPrompt),
    /// The object's four extreme points, drawn as Gaussians.
    Extremes(ExtremePoints),
}

impl Prompt {
    /// The points the crop is placed around.
    pub(super) fn points(&self) -> Vec<Point> {
        match self {
            Prompt::Box(b) => vec![b.min, b.max],
            Prompt::Extremes(e) => e.points.to_vec(),
        }
    }
}

/// The fourth channel for label `k` in `window`: its positive strokes +1,
/// every other label's positive strokes and its own negative strokes −1.
pub(super) fn interaction_channel(labels: &[Vec<Stroke>], k: usize, window: &Window) -> Plane {
    let transform = window.transform(INPUT_SIZE, INPUT_SIZE);
    let mut channel = Plane::new(INPUT_SIZE, INPUT_SIZE);
    // Negatives first, so the label's own positive strokes win where they cross.
    for pass in [Polarity::Negative, Polarity::Positive] {
        for (j, strokes) in labels.iter().enumerate() {
            for s in strokes {
                let polarity = match (j == k, s.polarity) {
                    (true, p) => p,
                    (false, Polarity::Positive) => Polarity::Negative,
                    (false, Polarity::Negative) => continue,
                };
                if polarity == pass {
                    let stroke = Stroke {
                        points: s.points.clone(),
                        polarity,
                    };
                    draw_stroke(&mut channel, &stroke, transform, DRAW_RADIUS, None);
                }
            }
        }
    }
    channel
}
