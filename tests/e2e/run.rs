//! `mcusim run` on every built-in board: output, exceptions, the cycle counter, exit codes,
//! faults, limits and determinism.

use crate::support::{boards, firmware, function_range, mcusim, run_json};

#[test]
fn hello_prints_on_every_path_and_exits_zero_on_every_board() {
    for board in boards() {
        let elf = firmware(&board, "hello", &[]);
        let (run, report) = run_json(&board, &elf, &[]);
        assert_eq!(run.status, 0, "{board}: {}", run.stderr);
        assert_eq!(
            run.stdout,
            format!(
                "hello from {board} over semihosting\nhello from {board} over the UART, 2 + 3 = 5\n!\nsemihosting SYS_WRITE to stdout\n"
            ),
            "{board}"
        );
        assert!(
            run.stderr.starts_with("a line for stderr\n"),
            "{board}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("mcusim: exit with code 0"),
            "{}",
            run.stderr
        );
        assert_eq!(report["schema"], "mcusim-run/1");
        assert_eq!(report["board"]["name"], board.as_str());
        assert_eq!(report["stop"]["reason"], "exit");
        assert_eq!(report["stop"]["code"], 0);
        assert_eq!(report["firmware"]["file"], "hello.elf");
        let instructions = report["totals"]["instructions"].as_u64().unwrap();
        let cycles = report["totals"]["cycles"].as_u64().unwrap();
        assert!(instructions > 100, "{board}: {instructions}");
        // Dual issue (M7, M33) can make cycles fewer than instructions, never below half.
        assert!(cycles >= instructions / 2, "{board}");
        let b = &report["totals"]["breakdown"];
        let parts: u64 = ["execute", "branch", "stall", "memory", "exception", "sleep"]
            .iter()
            .map(|k| b[k].as_u64().unwrap())
            .sum();
        assert_eq!(parts, cycles, "{board}: the breakdown sums to the total");
    }
}

/// SEGGER RTT (`tests/firmware/rtt.c`: SEGGER's control block layout, blocking mode, buffers
/// far smaller than what is written): every byte arrives, in order, channel 0 as it is and the
/// other channel's lines under its name, and the run does not wait on a full buffer.
#[test]
fn rtt_up_channels_are_drained_as_the_firmware_writes_them() {
    let letters: String = (0..299)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let want =
        format!("hello over RTT\n[Log] a log line\n{letters}\n[Log] second log line\ndone\n");
    for board in ["nucleo-l4r5zi", "nucleo-g0b1re", "mps2-an386"] {
        let elf = firmware(board, "rtt", &[]);
        let (run, report) = run_json(board, &elf, &[]);
        assert_eq!(run.status, 0, "{board}: {}", run.stderr);
        assert_eq!(run.stdout, want, "{board}");
        // Drained at each store, the firmware never spun on a full buffer: no more than a few
        // hundred instructions per byte written.
        let instructions = report["totals"]["instructions"].as_u64().unwrap();
        assert!(
            instructions < 100 * want.len() as u64,
            "{board}: {instructions}"
        );
    }
}

#[test]
fn exceptions_work_on_every_board() {
    for board in boards() {
        let elf = firmware(&board, "exceptions", &[]);
        let (run, report) = run_json(&board, &elf, &[]);
        assert_eq!(run.status, 0, "{board}:\n{}{}", run.stdout, run.stderr);
        assert!(!run.stdout.contains("FAILED"), "{board}:\n{}", run.stdout);
        for check in [
            "svc: ok",
            "pendsv waits for svc, then runs: ok",
            "irq nests inside pendsv: ok",
            "systick wakes wfi three times: ok",
            "systick wakes wfe: ok",
            "primask defers an irq: ok",
            "uart transmit interrupt: ok",
            "svc from thread mode on the process stack: ok",
            "system reset: ok",
            "exceptions: 0 failed",
        ] {
            assert!(
                run.stdout.contains(check),
                "{board}: missing '{check}':\n{}",
                run.stdout
            );
        }
        // Six SysTick periods of 1000 cycles were spent waiting in WFI and WFE.
        let sleep = report["totals"]["sleep_cycles"].as_u64().unwrap();
        assert!(
            (3000..=6000).contains(&sleep),
            "{board}: slept {sleep} cycles"
        );
        assert!(
            report["totals"]["exceptions"].as_u64().unwrap() >= 8,
            "{board}"
        );
    }
}

#[test]
fn the_cycle_counter_reads_the_cycle_count_at_the_reading_instruction() {
    for board in boards() {
        let elf = firmware(&board, "dwt", &[]);
        let run = mcusim(["run", "-q", "--board", &board, elf.to_str().unwrap()]);
        assert_eq!(run.status, 0, "{board}: {}", run.stderr);
        // Between two reads of the counter lie the first read and a run of NOPs, all in one
        // block, so only time taken at the exact reading instruction gives these. A load
        // issues in 2 cycles on M0+/M3/M4 (TRM tables), 1 on M7 and M33 (LDR latency 2, issue
        // 1: LLVM ARMScheduleM7.td, jnk0le RP2350); a NOP in 1.
        let core = mcusim_boards::Board::resolve(&board).unwrap().core;
        let load = if matches!(
            core,
            mcusim_boards::Core::CortexM7 | mcusim_boards::Core::CortexM33
        ) {
            1
        } else {
            2
        };
        if board == "nucleo-g0b1re" {
            assert!(run.stdout.contains("no cycle counter\n"), "{}", run.stdout);
        } else {
            let line = format!("cyccnt delta {}\n", load + 50);
            assert!(run.stdout.contains(&line), "{board}: {}", run.stdout);
            assert!(
                run.stdout.contains("cyccnt nonzero 1\n"),
                "{board}: {}",
                run.stdout
            );
        }
        let line = format!("systick delta {}\n", load + 20);
        assert!(run.stdout.contains(&line), "{board}: {}", run.stdout);
        assert!(
            run.stdout.ends_with("itm port 0\n"),
            "{board}: {}",
            run.stdout
        );
        let board_file = mcusim_boards::Board::resolve(&board).unwrap();
        let cpuid = format!("cpuid {:08x}\n", board_file.core.cpuid());
        assert!(run.stdout.starts_with(&cpuid), "{board}: {}", run.stdout);
        // SYS_CLOCK and SYS_TIME read the same simulated clock as CYCCNT.
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("cycles "))
            .unwrap();
        let nums: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
        let (cycles, centis, seconds) = (nums[0], nums[1], nums[2]);
        assert!(centis >= 1, "{board}: {line}");
        assert_eq!(seconds, 0, "{board}: {line}");
        if cycles > 0 {
            // CYCCNT was reset to 0 a few hundred cycles after reset.
            let from_cyccnt = cycles * 100 / board_file.clock_hz();
            assert!(centis.abs_diff(from_cyccnt) <= 1, "{board}: {line}");
        }
    }
}

#[test]
fn a_non_zero_exit_code_is_reported_and_gives_status_1() {
    let elf = firmware("nucleo-l4r5zi", "exit_code", &[]);
    let (run, report) = run_json("nucleo-l4r5zi", &elf, &[]);
    assert_eq!(run.status, 1);
    assert_eq!(report["stop"]["reason"], "exit");
    assert_eq!(report["stop"]["code"], 3);
    assert!(run.stderr.contains("exit code     3"), "{}", run.stderr);
}

/// Every fault kind stops the run with status 1 and a stop reason carrying the PC of the
/// faulting instruction.
#[test]
fn faults_stop_the_run_with_the_pc() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (board, define, kind, function holding the PC)
        ("nucleo-l4r5zi", "FAULT_UNMAPPED_READ", "unmapped", "main"),
        ("nucleo-u575zi", "FAULT_UNMAPPED_WRITE", "unmapped", "main"),
        ("nucleo-g0b1re", "FAULT_FLASH_WRITE", "protection", "main"),
        ("stm32f746g-disco", "FAULT_UNDEFINED", "undefined", "main"),
        ("mps2-an386", "FAULT_UNDEFINED", "undefined", "main"),
        ("nucleo-g0b1re", "FAULT_UNALIGNED", "unaligned", "main"),
        ("nucleo-l4r5zi", "FAULT_UNALIGNED", "unaligned", "main"),
        ("nucleo-l4r5zi", "FAULT_UNALIGNED_LDRD", "unaligned", "main"),
        (
            "stm32f746g-disco",
            "FAULT_UNALIGNED_LDM",
            "unaligned",
            "main",
        ),
        ("nucleo-u575zi", "FAULT_UNALIGNED_LDRD", "unaligned", "main"),
        (
            "nucleo-l4r5zi",
            "FAULT_UNALIGNED_LDRD_LATE",
            "unaligned",
            "main",
        ),
        (
            "nucleo-l4r5zi",
            "FAULT_STACK_OVERFLOW",
            "stack_overflow",
            "deep",
        ),
        (
            "nucleo-g0b1re",
            "FAULT_STACK_OVERFLOW",
            "stack_overflow",
            "deep",
        ),
        ("nucleo-u575zi", "FAULT_BKPT", "hard_fault", "main"),
        ("mps2-an386", "FAULT_SEMIHOSTING", "semihosting", "main"),
        ("nucleo-l4r5zi", "FAULT_BAD_VECTOR", "lockup", "main"),
        ("nucleo-g0b1re", "FAULT_BAD_VECTOR", "lockup", "main"),
        // The PC is the peripheral address the firmware branched to (LPUART1's base).
        (
            "nucleo-l4r5zi",
            "FAULT_EXEC_NONEXEC",
            "protection",
            "0x40008000",
        ),
    ];
    for (board, define, kind, function) in cases {
        let elf = firmware(board, "fault", &[define]);
        let (run, report) = run_json(board, &elf, &[]);
        let what = format!("{board} {define}: {}", run.stderr);
        assert_eq!(run.status, 1, "{what}");
        assert!(run.stdout.starts_with("about to fault\n"), "{what}");
        assert!(!run.stdout.contains("no fault"), "{what}");
        assert_eq!(report["stop"]["reason"], "fault", "{what}");
        assert_eq!(report["stop"]["kind"], *kind, "{what}");
        let pc = report["stop"]["pc"].as_u64().unwrap();
        if let Some(hex) = function.strip_prefix("0x") {
            assert_eq!(pc, u64::from_str_radix(hex, 16).unwrap(), "{what}");
        } else {
            let range = function_range(&elf, function);
            assert!(
                range.contains(&pc),
                "{what}: pc {pc:#x} outside {function} {range:x?}"
            );
        }
        assert!(run.stderr.contains(&format!("at pc {pc:#010x}")), "{what}");
    }
}

#[test]
fn instruction_and_cycle_limits_stop_a_runaway_loop_exactly() {
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_LOOP"]);
    let (run, report) = run_json("nucleo-l4r5zi", &elf, &["--max-instructions", "100003"]);
    assert_eq!(run.status, 1);
    assert_eq!(report["stop"]["reason"], "limit");
    assert_eq!(report["stop"]["kind"], "instructions");
    assert_eq!(report["totals"]["instructions"], 100_003);
    let main = function_range(&elf, "main");
    assert!(main.contains(&report["stop"]["pc"].as_u64().unwrap()));

    let (run, report) = run_json("nucleo-l4r5zi", &elf, &["--max-cycles", "54321"]);
    assert_eq!(run.status, 1);
    assert_eq!(report["stop"]["kind"], "cycles");
    let cycles = report["totals"]["cycles"].as_u64().unwrap();
    assert!((54_000..=54_321).contains(&cycles), "{cycles}");
}

#[test]
fn quiet_runs_still_say_why_they_failed() {
    let elf = firmware("nucleo-l4r5zi", "fault", &["FAULT_UNMAPPED_READ"]);
    let run = mcusim([
        "run",
        "-q",
        "--board",
        "nucleo-l4r5zi",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(run.status, 1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("mcusim: unmapped fault at pc 0x08")
            && lines[0].ends_with("read of unmapped address 0x60000000"),
        "{}",
        lines[0]
    );
    let elf = firmware("nucleo-l4r5zi", "hello", &[]);
    let run = mcusim([
        "run",
        "-q",
        "--board",
        "nucleo-l4r5zi",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(run.stderr, "a line for stderr\n");
}

#[test]
fn sleeping_with_nothing_to_wake_the_core_stops() {
    for board in ["nucleo-g0b1re", "stm32f746g-disco"] {
        let elf = firmware(board, "runaway", &["RUNAWAY_SLEEP"]);
        let (run, report) = run_json(board, &elf, &[]);
        assert_eq!(run.status, 1, "{}", run.stderr);
        assert_eq!(report["stop"]["reason"], "limit");
        assert_eq!(report["stop"]["kind"], "sleep_forever");
        assert!(
            run.stderr
                .contains("no interrupt enabled that could wake it"),
            "{}",
            run.stderr
        );
    }
}

/// A `while (1);` and a wait for a flag nothing will set (interrupts off) stop at once as
/// stuck, naming the function, the same way every time; a loop interrupts still reach is not
/// stuck and runs into the instruction limit.
#[test]
fn a_core_that_can_never_leave_its_loop_stops_as_stuck() {
    for board in ["nucleo-g0b1re", "nucleo-l4r5zi", "nucleo-u575zi"] {
        for variant in ["RUNAWAY_SPIN", "RUNAWAY_POLL"] {
            let elf = firmware(board, "runaway", &[variant]);
            let (run, report) = run_json(board, &elf, &[]);
            assert_eq!(run.status, 1, "{board} {variant}: {}", run.stderr);
            assert_eq!(report["stop"]["kind"], "stuck", "{board} {variant}");
            let symbol = report["stop"]["symbol"].as_str().unwrap();
            assert!(symbol.starts_with("main+0x"), "{symbol}");
            assert!(
                run.stderr.contains("core is stuck at pc 0x") && run.stderr.contains(symbol),
                "{}",
                run.stderr
            );
            // Found within a few million instructions, deterministically.
            let n = report["totals"]["instructions"].as_u64().unwrap();
            assert!(n < 5_000_000, "{board} {variant}: {n}");
            let (_, again) = run_json(board, &elf, &[]);
            assert_eq!(report, again);
        }
    }
    let elf = firmware("nucleo-l4r5zi", "runaway", &["RUNAWAY_SPIN_TICKING"]);
    let (run, report) = run_json("nucleo-l4r5zi", &elf, &["--max-instructions", "3000000"]);
    assert_eq!(run.status, 1);
    assert_eq!(report["stop"]["kind"], "instructions", "{}", run.stderr);
    assert!(run.stderr.contains("(main+0x"), "{}", run.stderr);
}

#[test]
fn runs_are_deterministic_byte_for_byte() {
    let elf = firmware("stm32f746g-disco", "exceptions", &[]);
    let a = run_json("stm32f746g-disco", &elf, &[]);
    let b = run_json("stm32f746g-disco", &elf, &[]);
    assert_eq!(a.0.stdout, b.0.stdout);
    assert_eq!(a.1, b.1);
    let json = |r: &serde_json::Value| serde_json::to_string(r).unwrap();
    assert_eq!(json(&a.1), json(&b.1));
}

/// Flash wait states and the accelerator (nucleo-l4r5zi: 5 wait states, ART with prefetch and
/// a 1 KiB instruction cache): a hot loop runs near zero-wait-state, straight-line code larger
/// than the cache pays for its misses, and without the accelerator every fetch pays WS+1.
#[test]
fn flash_wait_states_and_the_accelerator() {
    let memory_share = |board: &str, elf: &std::path::Path| {
        let (run, report) = run_json(board, elf, &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        let cycles = report["totals"]["cycles"].as_u64().unwrap() as f64;
        let memory = report["totals"]["breakdown"]["memory"].as_u64().unwrap() as f64;
        (memory / cycles, cycles)
    };
    let hot = firmware("nucleo-l4r5zi", "loops", &["LOOPS_HOT"]);
    let cold = firmware("nucleo-l4r5zi", "loops", &["LOOPS_COLD"]);
    let (hot_share, hot_cycles) = memory_share("nucleo-l4r5zi", &hot);
    assert!(hot_share < 0.01, "hot loop waits {:.1}%", hot_share * 100.0);
    let (cold_share, _) = memory_share("nucleo-l4r5zi", &cold);
    assert!(
        cold_share > 0.1,
        "cold code waits only {:.1}%",
        cold_share * 100.0
    );

    // The same board without its accelerator.
    let text = mcusim_boards::Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text;
    let start = text.find("[flash_accelerator]").unwrap();
    let end = text[start..].find("\n\n").unwrap() + start;
    let bare = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("l4r5-no-art.toml");
    std::fs::write(&bare, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (bare_share, bare_cycles) = memory_share(bare.to_str().unwrap(), &hot);
    // Every 8-byte fetch unit costs WS+1 = 6 cycles: the loop spends most of its time waiting.
    assert!(
        bare_share > 0.5,
        "no accelerator waits only {:.1}%",
        bare_share * 100.0
    );
    assert!(
        bare_cycles > 2.0 * hot_cycles,
        "{bare_cycles} vs {hot_cycles}"
    );
}

/// Data read from flash pays wait states (a model whose weights stay in flash); the same data
/// read from RAM does not.
#[test]
fn data_reads_from_flash_pay_wait_states() {
    let memory = |define: &str| {
        let elf = firmware("nucleo-l4r5zi", "loops", &[define]);
        let (run, report) = run_json("nucleo-l4r5zi", &elf, &[]);
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert!(run.stdout.starts_with("result "), "{}", run.stdout);
        (
            run.stdout,
            report["totals"]["breakdown"]["memory"].as_u64().unwrap(),
        )
    };
    let (flash_out, flash) = memory("LOOPS_TABLE_FLASH");
    let (ram_out, ram) = memory("LOOPS_TABLE_RAM");
    assert_eq!(flash_out, ram_out, "same result either way");
    // Two passes over 16 KiB in flash: 1024 data-cache line misses of WS+1 = 6 cycles each.
    // The RAM variant reads the table from flash once, to copy it.
    assert!(flash >= 6144, "flash variant waited {flash}");
    assert!(flash >= ram + 2500, "flash {flash} vs ram {ram}");
}

/// Loads that read flash are charged from their learned address pattern once learned; the
/// exact mode (`--exact-flash`, a hook on every read) is the reference. A streaming table and a
/// filter re-read from the data cache must agree closely.
#[test]
fn learned_flash_loads_agree_with_exact_charging() {
    for defines in [
        &["LOOPS_TABLE_FLASH", "PASSES=20"][..],
        &["LOOPS_FILTER_FLASH"][..],
    ] {
        let elf = firmware("nucleo-l4r5zi", "loops", defines);
        let (fast_run, fast) = run_json("nucleo-l4r5zi", &elf, &[]);
        let (exact_run, exact) = run_json("nucleo-l4r5zi", &elf, &["--exact-flash"]);
        assert_eq!(fast_run.stdout, exact_run.stdout);
        let memory = |r: &serde_json::Value| r["totals"]["breakdown"]["memory"].as_u64().unwrap();
        let cycles = |r: &serde_json::Value| r["totals"]["cycles"].as_u64().unwrap();
        let (m_fast, m_exact) = (memory(&fast), memory(&exact));
        assert!(
            m_exact > 500,
            "{defines:?}: the reads from flash cost ({m_exact})"
        );
        let tolerance = (m_exact / 50).max(200);
        assert!(
            m_fast.abs_diff(m_exact) <= tolerance,
            "{defines:?}: learned {m_fast} vs exact {m_exact} memory cycles"
        );
        assert_eq!(
            cycles(&fast) - m_fast,
            cycles(&exact) - m_exact,
            "{defines:?}: only the memory part may differ"
        );
    }
}

/// Progress reports (the TUI's live view) come about every N instructions, change no count,
/// and can stop the run.
#[test]
fn progress_reports_change_nothing_and_can_cancel_the_run() {
    use mcusim_sim::{CaptureConsole, Firmware, Limits, Machine};
    use mcusim_traces::{LimitKind, StopReason};
    let board = mcusim_boards::Board::resolve("nucleo-l4r5zi").unwrap();
    let elf = firmware("nucleo-l4r5zi", "dwt", &[]);
    let run = |every: Option<u64>, cancel_after: usize| {
        let console = CaptureConsole::default();
        let out = console.stdout.clone();
        let mut m = Machine::new(&board, Firmware::load(&elf).unwrap(), Box::new(console)).unwrap();
        let mut reports = Vec::new();
        let limits = Limits {
            max_instructions: None,
            max_cycles: None,
            timeout: None,
        };
        let result = match every {
            Some(n) => m.run_with_progress(limits, n, &mut |p| {
                reports.push(p.instructions);
                reports.len() < cancel_after
            }),
            None => m.run(limits),
        };
        let printed = out.borrow().clone();
        (result, reports, printed)
    };
    let (plain, _, plain_out) = run(None, 0);
    let (watched, reports, watched_out) = run(Some(100_000), usize::MAX);
    assert_eq!(plain.stop, StopReason::Exit { code: 0 });
    assert_eq!(
        (plain.instructions, plain.cycles, plain.breakdown),
        (watched.instructions, watched.cycles, watched.breakdown)
    );
    assert_eq!(
        plain_out, watched_out,
        "the firmware reads DWT: same values"
    );
    assert!(
        reports.len() as u64 >= plain.instructions / 100_000 - 1,
        "{}",
        reports.len()
    );
    assert!(reports.windows(2).all(|w| w[1] >= w[0] + 100_000));
    let (cancelled, reports, _) = run(Some(100_000), 3);
    assert_eq!(reports.len(), 3);
    match cancelled.stop {
        StopReason::Limit {
            kind: LimitKind::Cancelled,
            limit,
            ..
        } => assert_eq!(limit, reports[2]),
        other => panic!("{other:?}"),
    }
}
