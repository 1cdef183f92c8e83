//! TLS shared by every part that speaks it: PEM files read into rustls types (certificates, keys).

mod pem;

pub use pem::{read_certificates, read_private_key};
