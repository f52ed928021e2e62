//! The same ELFs on QEMU's `mps2-an386` and on mcusim's board of that name: same output, same
//! exit code. QEMU runs with `-icount shift=0` (deterministic) and both the UART and
//! semihosting console on its standard output.

use crate::support::{firmware, mcusim, run_json};
use std::process::Command;
use std::time::Duration;

struct QemuRun {
    code: i32,
    stdout: String,
    stderr: String,
}

fn qemu(elf: &std::path::Path) -> QemuRun {
    let mut child = Command::new("qemu-system-arm")
        .args([
            "-M",
            "mps2-an386",
            "-display",
            "none",
            "-monitor",
            "none",
            "-chardev",
            "stdio,id=con,mux=on",
            "-serial",
            "chardev:con",
            "-semihosting-config",
            "enable=on,target=native,chardev=con",
            "-icount",
            "shift=0",
            "-kernel",
        ])
        .arg(elf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("qemu-system-arm (Debian package qemu-system-arm) runs");
    // A firmware that never exits must not hang the test suite.
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("qemu did not finish {} within 60 s", elf.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    QemuRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn mcusim_and_qemu_agree_on_output_and_exit_code() {
    for name in ["hello", "exceptions", "exit_code"] {
        let elf = firmware("mps2-an386", name, &[]);
        let q = qemu(&elf);
        let (m, report) = run_json("mps2-an386", &elf, &["-q"]);
        assert_eq!(m.stdout, q.stdout, "{name}: stdout differs");
        assert_eq!(m.stderr, q.stderr, "{name}: stderr differs");
        assert_eq!(report["stop"]["reason"], "exit", "{name}");
        assert_eq!(report["stop"]["code"], q.code, "{name}: exit code differs");
        assert_eq!(m.status, i32::from(q.code != 0), "{name}");
        assert!(!q.stdout.is_empty(), "{name}: QEMU printed nothing");
    }
}

#[test]
fn the_qemu_comparison_can_fail() {
    // Guard against a comparison that passes vacuously: two different firmwares differ.
    let hello = qemu(&firmware("mps2-an386", "hello", &[]));
    let run = mcusim([
        "run",
        "-q",
        "--board",
        "mps2-an386",
        firmware("mps2-an386", "exit_code", &[]).to_str().unwrap(),
    ]);
    assert_ne!(hello.stdout, run.stdout);
}

/// A device added the way every device is (its file in `sim/src/devices/`, a variant of the
/// board schema's peripheral enum, one line in `devices::build`): the CMSDK APB timer, on a
/// board file that adds it to mps2-an386 where QEMU's machine has it. Firmware driving its
/// interrupt from WFI sees the same on both.
#[test]
fn a_device_added_to_a_board_works_as_qemu_has_it() {
    let elf = firmware("mps2-an386", "timer", &[]);
    let q = qemu(&elf);
    assert_eq!(q.code, 0, "{}{}", q.stdout, q.stderr);
    let text = mcusim_boards::Board::builtin("mps2-an386")
        .unwrap()
        .unwrap()
        .text;
    let board = elf.with_extension("board.toml");
    std::fs::write(
        &board,
        format!(
            "{text}\n[[peripheral]]\nname = \"timer0\"\nkind = \"cmsdk-timer\"\nbase = 0x4000_0000\nsize = 0x1000\nirq = 8\n"
        ),
    )
    .unwrap();
    let (m, report) = run_json(board.to_str().unwrap(), &elf, &["-q"]);
    assert_eq!(m.stdout, q.stdout);
    assert!(
        m.stdout.contains(
            "timer: 5 interrupts, value in range while running, holds when stopped, reload 2500"
        ),
        "{}",
        m.stdout
    );
    assert_eq!(report["stop"]["code"], 0);
    // Five periods of 2,501 cycles, mostly asleep.
    let sleep = report["totals"]["sleep_cycles"].as_u64().unwrap();
    assert!(sleep > 4 * 2_501, "{report}");
    // Without the timer in the board file the same firmware faults on its registers.
    let (m, report) = run_json("mps2-an386", &elf, &["-q"]);
    assert_eq!(m.status, 1);
    assert_eq!(report["stop"]["kind"], "unmapped");
}
