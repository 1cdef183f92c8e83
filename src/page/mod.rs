//! The status page: a pure model of what the history says ([`model`], from `happened`), rendered as
//! server-side HTML with inline SVG ([`pages`], [`svg`], [`badge`]; one escaping function in [`html`]), served
//! by the status listener of `run` ([`serve`]) and written as one file by `report --html`.
//!
//! Depends on `happened` (the one read path), `config` (what a probe is) and the store only through
//! `happened`; nothing here writes.

pub mod badge;
pub mod config;
pub mod encoding;
pub mod html;
pub mod model;
pub mod pages;
pub mod serve;
pub mod svg;

#[cfg(test)]
mod burst_tests;
#[cfg(test)]
mod location_tests;
#[cfg(test)]
mod model_tests;

pub use config::PageConfig;
pub use model::{Page, ProbeInfo, build};
