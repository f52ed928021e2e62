//! `mcusim boards`.

use crate::support::mcusim;

#[test]
fn boards_lists_every_builtin_board() {
    let run = mcusim(["boards"]);
    assert_eq!(run.status, 0);
    for (name, core, mhz) in [
        ("nucleo-l4r5zi", "cortex-m4f", "120 MHz"),
        ("stm32f746g-disco", "cortex-m7", "216 MHz"),
        ("nucleo-u575zi", "cortex-m33", "160 MHz"),
        ("nucleo-g0b1re", "cortex-m0plus", "64 MHz"),
        ("mps2-an386", "cortex-m4", "25 MHz"),
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} listed:\n{}", run.stdout));
        assert!(line.contains(core) && line.contains(mhz), "{line}");
    }
}

#[test]
fn boards_show_prints_the_board_file() {
    let run = mcusim(["boards", "show", "nucleo-l4r5zi"]);
    assert_eq!(run.status, 0);
    assert!(
        run.stdout.contains("clock_hz = 120_000_000"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("wait_states = 5"), "{}", run.stdout);
    let parsed = mcusim_boards::Board::parse(&run.stdout, "shown").unwrap();
    assert_eq!(parsed.name, "nucleo-l4r5zi");
    let run = mcusim(["boards", "show", "nope"]);
    assert_eq!(run.status, 2);
}
