//! Integration tests of the simulator (one test binary): corrective scribbles,
//! and properties of the scribble simulator over generated shapes.

mod corrective;
mod properties;
mod shapes;
