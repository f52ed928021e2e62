//! The mnn kernels inside mcusim: the C self-check (every operator, optimised variants against
//! the reference, on pseudo-random cases) built for each board's core and run by the binary
//! gives no mismatch and the same output bytes as the same check compiled for the host.

use crate::support::{boards, mcusim, selfcheck_firmware};

#[test]
fn kernels_give_the_same_bytes_on_every_core_as_on_the_host() {
    let host = mcusim_kernels::selfcheck(20261122, 140);
    assert_eq!(host.mismatches, 0, "host: {host:?}");
    let want = format!(
        "mnn selfcheck: hash {:08x} cases 140 mismatches 0 first_bad -1",
        host.hash
    );
    for board in boards() {
        let elf = selfcheck_firmware(&board);
        let run = mcusim(
            ["run", "--board", &board, "-q"]
                .iter()
                .map(|s| s.to_string())
                .chain([elf.display().to_string()]),
        );
        assert_eq!(run.status, 0, "{board}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout.trim_end(), want, "{board}");
    }
}
