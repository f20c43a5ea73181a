//! deepcuts: content-based music recommendation after van den Oord, Dieleman and Schrauwen
//! (NIPS 2013). Every stage is a library function first; the CLI and the GUI call the same
//! functions. See ARCHITECTURE.md for the map of modules.

pub mod analysis;
pub mod app;
pub mod audio;
pub mod baseline;
pub mod bench;
pub mod cf;
pub mod cli;
pub mod coldstart;
pub mod convnet;
pub mod demo;
pub mod dsp;
pub mod features;
pub mod gpu;
pub mod io;
pub mod pipeline;
pub mod predict;
pub mod project;
pub mod track_issue;
pub mod usage;
