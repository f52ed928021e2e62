//! Prints the command line mcusim passes (the arguments after the ELF, or after `cargo run
//! --`), then exits with 0 through semihosting; with the argument `panic` it panics instead, and
//! panic-halt's `loop {}` is what mcusim must stop.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln, nr};
use panic_halt as _;

#[entry]
fn main() -> ! {
    let mut buf = [0u8; 256];
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SYS_GET_CMDLINE: {buffer, length}; the length comes back as the line's.
    let ok = unsafe { cortex_m_semihosting::syscall1(nr::GET_CMDLINE, block.as_mut_ptr() as usize) };
    let line = if ok == 0 {
        core::str::from_utf8(&buf[..block[1]]).unwrap_or("?")
    } else {
        "?"
    };
    hprintln!("cmdline: {}", line);
    if line.split(' ').any(|a| a == "panic") {
        panic!("asked to");
    }
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}
