//! From a `.tflite` model to firmware: reading and checking the model
//! ([`tflite::Model::parse`]), TFLite's quantisation arithmetic done ahead of time ([`quant`]),
//! lowering each operator to an `mnn` kernel call ([`lower`]), placing layers on the
//! CPU or the NPU ([`place`]) and `.npy` tensors ([`npy`]).
//!
//! This crate depends on nothing else of mcusim's: it reads models and writes C.

pub mod codegen;
pub mod interp;
pub mod lower;
pub mod npy;
pub mod ops;
pub mod place;
pub mod plan;
pub mod quant;
pub mod synth;
pub mod tflite;
