use super::*;
use crate::schema::PeripheralModel;

#[test]
fn every_builtin_board_validates_and_is_named_as_listed() {
    for name in Board::builtin_names() {
        let board = Board::builtin(name)
            .expect("listed")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(board.name, name);
        assert!(board.console().is_some(), "{name} has a console");
        let ram = board.ram_range();
        assert!(ram.end > ram.start);
    }
}

#[test]
fn builtin_boards_cover_the_required_cores() {
    let cores: Vec<Core> = Board::builtin_names()
        .map(|n| Board::builtin(n).unwrap().unwrap().core)
        .collect();
    for core in [
        Core::CortexM0Plus,
        Core::CortexM4,
        Core::CortexM4F,
        Core::CortexM7,
        Core::CortexM33,
    ] {
        assert!(cores.contains(&core), "{core} has a built-in board");
    }
}

#[test]
fn adjacent_sram_regions_form_one_ram_range() {
    let board = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
    assert_eq!(board.ram_range(), 0x2000_0000..0x200A_0000, "640 KiB");
    let f7 = Board::builtin("stm32f746g-disco").unwrap().unwrap();
    assert_eq!(
        f7.ram_range(),
        0x2000_0000..0x2005_0000,
        "DTCM + SRAM1 + SRAM2"
    );
}

const BROKEN: &str = r#"
name = "broken"
description = "d"
source = "s"
core = "cortex-m99"
clock_hz = 0
boot_region = "flash"
ram_region = "ram"
irq_lines = 32
priority_bits = 3

[[memory]]
name = "flash"
kind = "flash"
base = 0x0800_0100
size = 0x1_0000

[[memory]]
name = "ram"
kind = "sram"
base = 0x0800_8000
size = 0x1_0000
"#;

#[test]
fn a_broken_board_reports_every_problem_with_file_and_key() {
    let err = Board::parse(BROKEN, "bad.toml").unwrap_err();
    let Error::Invalid { problems, .. } = &err else {
        panic!("expected Invalid, got {err}");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["core", "clock_hz", "memory[0].base", "memory[1].base"],
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("bad.toml: core: unknown core 'cortex-m99'"),
        "{text}"
    );
    assert!(
        text.contains("bad.toml: clock_hz: clock must be above zero"),
        "{text}"
    );
    assert!(text.contains("not a multiple of 4 KiB"), "{text}");
    assert!(text.contains("overlaps memory[0] 'flash'"), "{text}");
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let text = BROKEN.replace("clock_hz = 0", "clock_hz = 1\nclock_mhz = 5");
    let err = Board::parse(&text, "typo.toml").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Parse { .. }), "{msg}");
    assert!(
        msg.starts_with("typo.toml:7:1: unknown key `clock_mhz` (expected one of `name`"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "one line: {msg}");
}

#[test]
fn peripherals_must_sit_in_mmio_and_irqs_below_the_line_count() {
    let text = Board::builtin("mps2-an386").unwrap().unwrap().text;
    let text = text
        .replace("base = 0x4000_4000", "base = 0x2000_4000")
        .replace("irq = 1", "irq = 40");
    let err = Board::parse(&text, "p.toml").unwrap_err().to_string();
    assert!(err.contains("p.toml: peripheral[0].base: register block 0x20004000..0x20005000 does not lie inside an mmio region"), "{err}");
    assert!(
        err.contains("p.toml: peripheral[0].irq: irq 40 is not below irq_lines (32)"),
        "{err}"
    );
}

#[test]
fn resolve_names_unknown_boards_and_missing_files() {
    let err = Board::resolve("no-such-board").unwrap_err().to_string();
    assert!(err.contains("no board named 'no-such-board'"), "{err}");
    assert!(err.contains("nucleo-l4r5zi"), "{err}");
    let err = Board::resolve("/nonexistent/b.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("/nonexistent/b.toml: cannot read board file"),
        "{err}"
    );
}

#[test]
fn l1_caches_belong_to_the_m7_and_divide_into_lines() {
    let f7 = Board::builtin("stm32f746g-disco").unwrap().unwrap();
    assert_eq!(
        f7.file.l1_cache.as_ref().map(|l| l.dcache_bytes),
        Some(4096)
    );
    let on_m4 = Board::builtin("nucleo-l4r5zi")
        .unwrap()
        .unwrap()
        .text
        .replacen(
            "[[peripheral]]",
            "[l1_cache]\nicache_bytes = 4096\ndcache_bytes = 100\nline_bytes = 32\nicache_ways = 2\ndcache_ways = 4\n\n[[peripheral]]",
            1,
        );
    let err = Board::parse(&on_m4, "l1.toml").unwrap_err().to_string();
    assert!(
        err.contains("l1.toml: l1_cache: only the Cortex-M7 has L1 caches"),
        "{err}"
    );
    assert!(
        err.contains("l1.toml: l1_cache.dcache_ways: 100 bytes do not divide"),
        "{err}"
    );
}

#[test]
fn peripherals_are_typed_by_kind_with_their_own_keys() {
    let base = Board::builtin("mps2-an386").unwrap().unwrap().text;
    // A timer: a kind with no console key.
    let timer = format!(
        "{base}\n[[peripheral]]\nname = \"timer0\"\nkind = \"cmsdk-timer\"\nbase = 0x4000_0000\nsize = 0x1000\nirq = 8\n"
    );
    let board = Board::parse(&timer, "t.toml").unwrap();
    let t = board
        .peripherals()
        .iter()
        .find(|p| p.name == "timer0")
        .unwrap();
    assert_eq!(t.model, PeripheralModel::CmsdkTimer);
    assert_eq!((t.base, t.irq), (0x4000_0000, Some(8)));
    assert!(!t.console());
    // A key the model does not have, and a misspelled one, are refused by name.
    for (typo, key) in [("console = true", "console"), ("irqq = 8", "irqq")] {
        let text = timer.replace("irq = 8\n", &format!("irq = 8\n{typo}\n"));
        let err = Board::parse(&text, "t.toml").unwrap_err().to_string();
        assert!(err.contains(&format!("unknown key `{key}`")), "{err}");
        assert!(err.starts_with("t.toml:"), "{err}");
    }
    let err = Board::parse(&timer.replace("cmsdk-timer", "cmsdk-tiemr"), "t.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cmsdk-tiemr"), "{err}");
}

#[test]
fn a_dma_controller_has_one_irq_per_channel() {
    let board = Board::builtin("nucleo-l4r5zi").unwrap().unwrap();
    let dma2 = board
        .peripherals()
        .iter()
        .find(|p| p.name == "dma2")
        .unwrap();
    assert_eq!(dma2.lines(), [56, 57, 58, 59, 60, 68, 69]);
    assert!(matches!(
        dma2.model,
        PeripheralModel::Stm32Dma { channels: 7, .. }
    ));
    // A DMA's bytes cost energy on a board that has an energy model.
    let base = Board::builtin("mps2-an386").unwrap().unwrap().text.replace(
        "flash_pj_per_byte = 10.0",
        "flash_pj_per_byte = 10.0\ndma_pj_per_byte = 10.0",
    );
    let dma = |irqs: &str| {
        format!(
            "{base}\n[[peripheral]]\nname = \"dma1\"\nkind = \"stm32-dma\"\nbase = 0x4000_0000\nsize = 0x400\nirqs = {irqs}\n"
        )
    };
    assert!(Board::parse(&dma("[1, 2]"), "d.toml").is_ok());
    for (irqs, problem) in [
        ("[]", "0 channels: give one irq per channel, 1 to 8"),
        ("[1, 2, 3, 4, 5, 6, 7, 8, 9]", "9 channels"),
        ("[1, 40]", "irq 40 is not below irq_lines (32)"),
    ] {
        let err = Board::parse(&dma(irqs), "d.toml").unwrap_err().to_string();
        assert!(
            err.contains("d.toml: peripheral[1].irqs:") && err.contains(problem),
            "{irqs}: {err}"
        );
    }
}

#[test]
fn device_energy_is_required_where_the_device_is_and_every_figure_is_finite() {
    let text = include_str!("../corstone-300.toml");
    let without = text.replace("npu_pj_per_mac = 1.2\n", "");
    let err = Board::parse(&without, "npu.toml").unwrap_err().to_string();
    assert!(
        err.contains("energy.npu_pj_per_mac") && err.contains("the board has an NPU"),
        "{err}"
    );
    let nan = text.replace("sram_pj_per_byte = 5.0", "sram_pj_per_byte = nan");
    let err = Board::parse(&nan, "nan.toml").unwrap_err().to_string();
    assert!(err.contains("energy.sram_pj_per_byte"), "{err}");
    let st = include_str!("../nucleo-l4r5zi.toml").replace("dma_pj_per_byte = 10.0\n", "");
    let err = Board::parse(&st, "dma.toml").unwrap_err().to_string();
    assert!(err.contains("energy.dma_pj_per_byte"), "{err}");
}
