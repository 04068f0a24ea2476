//! The records the store reads and writes, as the JSON API shows them.

use rusqlite::Row;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest brush radius, in image pixels.
const MAX_RADIUS: f32 = 500.0;
/// The most points one stroke may have.
const MAX_POINTS: usize = 100_000;

/// A set of images sharing one list of labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
}

/// An image of a project and how far its annotation has got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// Database id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: i64,
    /// File name, unique in the project.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Visible strokes.
    pub strokes: u32,
    /// Labels with at least one visible stroke.
    pub labels_annotated: u32,
    /// Set when the image is a slice of a volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<SliceRef>,
    /// Where its review stands.
    pub status: ImageStatus,
}

/// Where an image's review stands: the annotator's list filters on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageStatus {
    /// Not finished (every image starts here).
    #[default]
    Todo,
    /// Finished.
    Done,
    /// Finished but needs another look.
    Review,
}

impl ImageStatus {
    /// The name stored in the database and sent in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Todo => "todo",
            ImageStatus::Done => "done",
            ImageStatus::Review => "review",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [ImageStatus::Todo, ImageStatus::Done, ImageStatus::Review]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The body of "update image".
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    /// The new review status.
    pub status: ImageStatus,
}

/// Where a slice image lies in its volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceRef {
    /// The volume.
    pub volume_id: i64,
    /// The voxel axis it is taken across: 0, 1 or 2.
    pub axis: usize,
    /// The slice index along that axis.
    pub index: usize,
}

/// What is known of a volume from its header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeMeta {
    /// Voxels along the three axes.
    pub dims: [usize; 3],
    /// Voxel size along the three axes, in mm.
    pub spacing: [f32; 3],
    /// The view each axis is sliced into: "sagittal", "coronal", "axial"
    /// (or "axis 0/1/2" when the orientation is oblique).
    pub axes: [String; 3],
    /// "CT" or "MRI", which decides how intensities become grey.
    pub modality: String,
}

/// A display window over a volume's intensities, in its own units
/// (Hounsfield units for CT): `level` is the intensity shown mid-grey,
/// `width` the span from black to white.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Windowing {
    /// The intensity at mid-grey.
    pub level: f32,
    /// The intensities from black to white; positive.
    pub width: f32,
}

impl Windowing {
    /// The window from `lo` (black) to `hi` (white).
    pub(crate) fn spanning(lo: f32, hi: f32) -> Self {
        Self {
            level: 0.5 * (lo + hi),
            width: hi - lo,
        }
    }

    /// An error unless both are finite and the width positive.
    pub fn check(self) -> Result<Self> {
        if self.level.is_finite() && self.width.is_finite() && self.width > 0.0 {
            Ok(self)
        } else {
            Err(Error::bad_request(format!(
                "a window needs a finite level and a positive finite width, got level {} width {}",
                self.level, self.width
            )))
        }
    }
}

/// A NIfTI volume of a project and how far its annotation has got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeInfo {
    /// Database id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: i64,
    /// File name, unique among the project's volumes.
    pub name: String,
    /// Dimensions, spacing, axes and modality.
    #[serde(flatten)]
    pub meta: VolumeMeta,
    /// Visible strokes over all its slices.
    pub strokes: u32,
    /// Labels with at least one visible stroke on some slice.
    pub labels_annotated: u32,
    /// Slices with at least one visible stroke.
    pub slices_annotated: u32,
    /// The display window the user chose (`null`: the default one, which
    /// the model sees through).
    pub window: Option<Windowing>,
}

/// A slice of a volume that has strokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedSlice {
    /// The voxel axis: 0, 1 or 2.
    pub axis: usize,
    /// The slice index along it.
    pub index: usize,
    /// The slice's image id.
    pub image_id: i64,
    /// Its visible strokes.
    pub strokes: u32,
    /// The id of its newest stroke action: a later edit has a larger one.
    pub edited: i64,
}

/// A label (class) of a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Database id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: i64,
    /// Display name, unique in the project.
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    /// Order in the list, ascending.
    pub position: i64,
    /// Whether the page leaves its mask and strokes off the canvas (a view
    /// setting: it is still predicted, exported and negative for others).
    pub hidden: bool,
}

/// The body of "add label".
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// Display name.
    pub name: String,
    /// `#rrggbb`; a palette colour when absent.
    #[serde(default)]
    pub color: Option<String>,
}

/// The body of "update label": the fields to change.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelPatch {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New `#rrggbb` colour.
    #[serde(default)]
    pub color: Option<String>,
    /// Hide (`true`) or show (`false`) it on the canvas.
    #[serde(default)]
    pub hidden: Option<bool>,
}

/// What a stroke does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrokeKind {
    /// On the label's object: positive for it, negative for every other label.
    Positive,
    /// A correction: not this label (negative for it alone).
    Negative,
    /// Forces the pixels under it to the label, whatever the prediction.
    Pin,
    /// Takes the label off the pixels under it, whatever the prediction
    /// (they become unlabelled unless a later pin sets them): editing the
    /// mask where the model does not follow.
    Unpin,
}

impl StrokeKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            StrokeKind::Positive => "positive",
            StrokeKind::Negative => "negative",
            StrokeKind::Pin => "pin",
            StrokeKind::Unpin => "unpin",
        }
    }

    /// Whether it edits the label map directly (a pin or an unpin) rather
    /// than prompting the model.
    pub fn is_override(self) -> bool {
        matches!(self, StrokeKind::Pin | StrokeKind::Unpin)
    }

    fn parse(s: &str) -> Option<Self> {
        [
            StrokeKind::Positive,
            StrokeKind::Negative,
            StrokeKind::Pin,
            StrokeKind::Unpin,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A point `[x, y]` in image pixel coordinates (pixel centres at integers).
pub type Point = [f32; 2];

/// A stroke as sent by a client, before it has an id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStroke {
    /// The label it is drawn for.
    pub label_id: i64,
    /// Positive, negative or pin.
    pub kind: StrokeKind,
    /// Brush radius in image pixels.
    pub radius: f32,
    /// The polyline; one point is a dot.
    pub points: Vec<Point>,
}

impl NewStroke {
    /// Checks the radius and the points.
    pub fn validate(&self) -> Result<()> {
        if !(self.radius.is_finite() && self.radius > 0.0 && self.radius <= MAX_RADIUS) {
            return Err(Error::bad_request(format!(
                "radius must be in (0, {MAX_RADIUS}], got {}",
                self.radius
            )));
        }
        if self.points.is_empty() || self.points.len() > MAX_POINTS {
            return Err(Error::bad_request(format!(
                "a stroke needs 1 to {MAX_POINTS} points, got {}",
                self.points.len()
            )));
        }
        if self.points.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::bad_request("stroke points must be finite numbers"));
        }
        Ok(())
    }
}

/// A stored stroke.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedStroke {
    /// Database id.
    pub id: i64,
    /// The label it is drawn for.
    pub label_id: i64,
    /// Positive, negative or pin.
    pub kind: StrokeKind,
    /// Brush radius in image pixels.
    pub radius: f32,
    /// The polyline.
    pub points: Vec<Point>,
}

impl From<&SavedStroke> for NewStroke {
    fn from(stroke: &SavedStroke) -> Self {
        NewStroke {
            label_id: stroke.label_id,
            kind: stroke.kind,
            radius: stroke.radius,
            points: stroke.points.clone(),
        }
    }
}

/// Whether undo and redo have anything to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Some step can be undone.
    pub can_undo: bool,
    /// Some undone step can be redone.
    pub can_redo: bool,
}

/// Checks a `#rrggbb` colour and lower-cases it.
pub(crate) fn parse_color(s: &str) -> Result<String> {
    let ok = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(Error::bad_request(format!(
            "colour must look like #1a2b3c, got {s:?}"
        )))
    }
}

pub(crate) fn image_info_row(r: &Row<'_>) -> rusqlite::Result<ImageInfo> {
    Ok(ImageInfo {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        width: r.get(3)?,
        height: r.get(4)?,
        strokes: r.get(5)?,
        labels_annotated: r.get(6)?,
        slice: match r.get::<_, Option<i64>>(7)? {
            Some(volume_id) => Some(SliceRef {
                volume_id,
                axis: r.get(8)?,
                index: r.get(9)?,
            }),
            None => None,
        },
        status: {
            let status: String = r.get(10)?;
            ImageStatus::parse(&status).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    10,
                    rusqlite::types::Type::Text,
                    format!("image status {status:?}").into(),
                )
            })?
        },
    })
}

pub(crate) fn label_row(r: &Row<'_>) -> rusqlite::Result<Label> {
    Ok(Label {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        color: r.get(3)?,
        position: r.get(4)?,
        hidden: r.get(5)?,
    })
}

pub(crate) fn stroke_row(r: &Row<'_>) -> rusqlite::Result<SavedStroke> {
    let invalid = |i: usize, msg: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, msg.into())
    };
    let kind: String = r.get(2)?;
    let points: String = r.get(4)?;
    Ok(SavedStroke {
        id: r.get(0)?,
        label_id: r.get(1)?,
        kind: StrokeKind::parse(&kind)
            .ok_or_else(|| invalid(2, format!("stroke kind {kind:?}")))?,
        radius: r.get(3)?,
        points: serde_json::from_str(&points).map_err(|e| invalid(4, e.to_string()))?,
    })
}
