//! Integration tests over the real datasets in `../shared/data` (or `$SCRIBSEG_DATA`).

mod util;

mod coco;
mod datasets;
mod leaks;
