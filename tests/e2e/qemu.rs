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
