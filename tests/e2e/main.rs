//! End-to-end tests of the `mcusim` binary: real firmware built with arm-none-eabi-gcc from
//! `tests/firmware/`, run by the real binary, checked on its output, JSON report and exit
//! status; and the same ELFs under QEMU where the two can be compared.

mod support;

mod attribution;
mod bad_input;
mod boards_cmd;
mod cache;
mod calls;
mod check;
mod cpp;
mod dma;
mod energy;
mod fit;
mod hostile;
mod kernels;
mod models;
mod npu;
mod qemu;
mod run;
mod runner;
mod stream;
mod tui;
mod usability;
