//! Logs with defmt at several levels, with formatted arguments, then exits with 0 through
//! semihosting. The frames go out over defmt-rtt's RTT buffer; mcusim decodes them.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_rtt as _;
use panic_halt as _;

#[entry]
fn main() -> ! {
    defmt::info!("hello from defmt");
    let mut sum: u32 = 0;
    for i in 0..5u32 {
        sum += i * i;
        defmt::debug!("step {}: sum {}", i, sum);
    }
    defmt::warn!("sum of squares below 5 is {=u32}", sum);
    defmt::error!("an error with a float {} and a bool {}", 1.5f32, true);
    debug::exit(debug::EXIT_SUCCESS);
    loop {}
}
