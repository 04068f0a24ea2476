//! Small mask helpers this crate needs beyond `scribseg_sim::Mask`.

use scribseg_sim::Mask;

/// Pixels set in either mask (same size required).
pub(crate) fn union(a: &Mask, b: &Mask) -> Mask {
    assert_eq!(
        (a.width(), a.height()),
        (b.width(), b.height()),
        "mask sizes differ"
    );
    let data = a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(&x, &y)| x | y)
        .collect();
    Mask::from_vec(a.width(), a.height(), data).expect("same length as both inputs")
}

/// The mask of pixels whose value satisfies `keep`, over a row-major raster.
pub(crate) fn select(
    width: usize,
    height: usize,
    values: &[u8],
    keep: impl Fn(u8) -> bool,
) -> Mask {
    let data = values.iter().map(|&v| u8::from(keep(v))).collect();
    Mask::from_vec(width, height, data).expect("raster length is width × height")
}
