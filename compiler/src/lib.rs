//! From a `.tflite` model to firmware. Today: reading and checking the model
//! ([`tflite::Model::parse`]); memory planning, code generation and the build come next.
//!
//! This crate depends on nothing else of mcusim's: it reads models and writes C.

pub mod tflite;
