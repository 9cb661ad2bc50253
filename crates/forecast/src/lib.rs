//! Anticipating needs: forecasts of indicator series (`ts`), population projection
//! (`projection`) and microsimulation of benefit rules (`microsim`).
//!
//! The algorithms know nothing of the warehouse or of files; the binary feeds them series,
//! register tables and household microdata, and sends what leaves the lab through the
//! disclosure gate.

pub mod microsim;
pub mod projection;
pub mod ts;
