//! Chunk encodings. Today: the Gorilla XOR chunk for float samples.

mod bstream;
pub mod xor;

pub use xor::{XorAppender, XorIterator, SAMPLES_PER_CHUNK};
