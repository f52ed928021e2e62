//! The views drawn on ratatui's test backend, and the whole app driven by scripted keys.

use super::*;
use mcusim_profiler::group;
use mcusim_profiler::profile::{
    BoardInfo, EnergyParts, FirmwareInfo, FunctionRow, HotBlock, Layer, Memory, MemoryTraffic,
    Roofline, Totals,
};
use mcusim_traces::{Breakdown, Cycles, StopReason};
use ratatui::backend::TestBackend;

/// A profile of three layers whose numbers the views must show as they are.
fn profile() -> Profile {
    let layer = |index: u32, name: &str, op: &str, start: u64, cycles: u64, macs: u64| Layer {
        index,
        name: name.into(),
        kernel: None,
        symbol: None,
        op: op.into(),
        start_cycle: Cycles(start),
        cycles: Cycles(cycles),
        instructions: cycles * 3 / 4,
        macs,
        cycles_per_mac: (macs > 0).then(|| cycles as f64 / macs as f64),
        share: cycles as f64 / 1_000_000.0,
        breakdown: Breakdown {
            execute: Cycles(cycles * 8 / 10),
            branch: Cycles(cycles / 10),
            memory: Cycles(cycles - cycles * 8 / 10 - cycles / 10),
            ..Breakdown::default()
        },
        traffic: MemoryTraffic {
            sram_read_bytes: cycles,
            sram_write_bytes: cycles / 4,
            flash_read_bytes: macs / 8,
            mmio_bytes: 0,
        },
        energy_uj: Some(cycles as f64 / 3000.0),
        energy: Some(EnergyParts {
            core_uj: cycles as f64 / 4000.0,
            flash_uj: cycles as f64 / 12000.0,
            sram_uj: 0.0,
            sleep_uj: 0.0,
            devices_uj: 0.0,
        }),
        stack_peak_bytes: Some(400 + index),
        hot_functions: vec![mcusim_profiler::profile::FunctionCycles {
            name: format!("kernel_{index}"),
            cycles: cycles / 2,
        }],
        hot_blocks: vec![],
        devices: vec![],
        engine: None,
        time_us: cycles as f64 / 120.0,
        shape: None,
    };
    let layers = vec![
        layer(0, "conv_1/out", "CONV_2D", 1000, 600_000, 300_000),
        layer(
            1,
            "depthwise_2/out",
            "DEPTHWISE_CONV_2D",
            601_000,
            250_000,
            30_000,
        ),
        layer(
            2,
            "dense_3/out",
            "FULLY_CONNECTED",
            851_000,
            140_000,
            70_000,
        ),
    ];
    Profile {
        schema: mcusim_profiler::PROFILE_SCHEMA.into(),
        mcusim_version: "0.1.0".into(),
        board: BoardInfo {
            name: "nucleo-l4r5zi".into(),
            core: "cortex-m4f".into(),
            clock_hz: 120_000_000,
            hash: "0".into(),
        },
        firmware: FirmwareInfo {
            file: "model.elf".into(),
            hash: "1".into(),
            compiler: None,
        },
        arguments: vec![],
        stop: StopReason::Exit { code: 0 },
        totals: Totals {
            cycles: Cycles(1_000_000),
            instructions: 750_000,
            time_us: 1e6 / 120.0,
            macs: 400_000,
            cycles_per_mac: Some(2.5),
            outside_layers_cycles: Cycles(10_000),
            before_layers_cycles: Cycles(1_000),
            after_layers_cycles: Cycles(9_000),
            breakdown: Breakdown {
                execute: Cycles(1_000_000),
                ..Breakdown::default()
            },
            traffic: MemoryTraffic::default(),
            energy_uj: Some(333.5),
            energy: Some(EnergyParts {
                core_uj: 333.5,
                flash_uj: 0.0,
                sram_uj: 0.0,
                sleep_uj: 0.0,
                devices_uj: 0.0,
            }),
        },
        memory: Memory {
            static_ram_bytes: 20_000,
            stack_peak_bytes: Some(1_200),
            heap_peak_bytes: None,
            peak_sram_bytes: 21_200,
            flash_bytes: 48_000,
            flash_code_bytes: 16_000,
            flash_data_bytes: 32_000,
            flash_sections: vec![(".text".into(), 40_000), (".data".into(), 8_000)],
            arena_bytes: Some(19_776),
            arena_touched_bytes: Some(19_000),
            top_flash_symbols: vec![("weights_0".into(), 4096), ("weights_1".into(), 576)],
            timeline: vec![(Cycles(1000), 20_100), (Cycles(601_000), 21_200)],
            plan: None,
        },
        energy_model: String::new(),
        roofline: Roofline {
            peak_macs_per_cycle: 2.0,
            sram_bytes_per_cycle: 4.0,
            flash_bytes_per_cycle: 1.3,
            source: String::new(),
        },
        attribution: "markers".into(),
        layers,
        devices: vec![],
        activity: vec![],
        stream: None,
        functions: vec![FunctionRow {
            name: "mat_mult_dsp".into(),
            symbol: None,
            source: None,
            cycles: 500_000,
            inclusive_cycles: Some(500_000),
            calls: Some(315),
            instructions: 400_000,
            share: 0.5,
        }],
        call_tree: vec![],
        code: vec![mcusim_profiler::profile::AnnotatedFunction {
            name: "mat_mult_dsp".into(),
            start: 0x0800_1000,
            instructions: vec![
                mcusim_profiler::profile::AnnotatedInstruction {
                    address: 0x0800_1000,
                    bytes: "2de9f041".into(),
                    text: "push.w {r4, r5, r6, r7, r8, lr}".into(),
                    executions: 315,
                    cycles: 2205,
                    source: Some("./mnn/src/convolution/mnn_conv_s8_opt.c:101".into()),
                    source_text: Some("static void mat_mult_dsp(const int8_t *a)".into()),
                },
                mcusim_profiler::profile::AnnotatedInstruction {
                    address: 0x0800_1004,
                    bytes: "23fb0200".into(),
                    text: "smlad r0, r3, r2, r0".into(),
                    executions: 74_592,
                    cycles: 74_592,
                    source: None,
                    source_text: None,
                },
            ],
        }],
        hot_blocks: vec![HotBlock {
            address: 0x0800_1000,
            location: "mat_mult_dsp+0xec".into(),
            source: None,
            executions: 74_592,
            instructions: 2_536_128,
            cycles: 3_282_048,
        }],
    }
}

fn regions() -> Vec<Region> {
    vec![
        Region {
            name: "flash".into(),
            kind: "flash".into(),
            base: 0x0800_0000,
            size: 2 << 20,
        },
        Region {
            name: "sram".into(),
            kind: "sram".into(),
            base: 0x2000_0000,
            size: 640 << 10,
        },
    ]
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(app: &mut App, script: &str) {
    let mut events = ScriptedEvents::from_script(script);
    while let Some(k) = events.next_key().unwrap() {
        app.key(k);
    }
}

#[test]
fn every_view_draws_at_80x24_and_200x60_with_the_profile_numbers() {
    for (w, h) in [(80, 24), (200, 60)] {
        let mut app = App::new(profile(), Some(profile()), regions());
        let s = screen(&app, w, h);
        assert!(s.contains("conv_1/out"), "{s}");
        assert!(s.contains("600,000"), "{s}");
        assert!(s.contains("60.0%"), "{s}");
        assert!(s.contains("2.00"), "c/MAC of conv_1: {s}");
        for (n, expect) in [
            ('2', "SRAM in use"),
            ('3', "weights_0"),
            ('4', "mat_mult_dsp+0xec"),
            ('5', "smlad r0, r3, r2, r0"),
            ('6', "baseline"),
        ] {
            key(&mut app, &n.to_string());
            let s = screen(&app, w, h);
            assert!(s.contains(expect), "view {n} at {w}x{h}: {s}");
        }
        key(&mut app, "3");
        let s = screen(&app, w, h);
        assert!(s.contains("48,000 B") || s.contains("46 KiB"), "{s}");
        assert!(s.contains("arena 19 KiB planned, 18 KiB written"), "{s}");
    }
}

#[test]
fn layers_sort_filter_and_open_their_detail() {
    let mut app = App::new(profile(), None, regions());
    // Sorted by cycles, descending: conv first; reversed: dense first.
    key(&mut app, "s");
    assert_eq!(app.sort, SortKey::Cycles);
    assert_eq!(app.layer_rows(), vec![0, 1, 2]);
    key(&mut app, "r");
    assert_eq!(app.layer_rows(), vec![2, 1, 0]);
    // Cycles per MAC: depthwise (8.33) leads when descending.
    key(&mut app, "rs");
    assert_eq!(app.sort, SortKey::CyclesPerMac);
    assert_eq!(app.layer_rows()[0], 1);
    // The detail of the selected layer shows its breakdown and traffic.
    key(&mut app, "j\n");
    assert!(app.detail);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Layer detail"), "{s}");
    assert!(s.contains("480,000"), "conv_1's execute cycles: {s}");
    assert!(s.contains("kernel_0 50%"), "conv_1's hot function: {s}");
    key(&mut app, "\x1b");
    assert!(!app.detail);
    // A filter keeps the matching rows.
    key(&mut app, "/dense\n");
    assert_eq!(app.layer_rows(), vec![2]);
    key(&mut app, "\x1b");
    assert_eq!(app.layer_rows().len(), 3);
}

#[test]
fn the_whole_app_runs_on_scripted_keys_and_never_panics() {
    let mut app = App::new(profile(), None, regions());
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    // Every view, moves past both ends, zoom and pan, help, then quit.
    let mut events = ScriptedEvents::from_script(
        "?xjjjjjkkkkkkG\n\x1b\t\t++++hhhhllll----\tjjj\t\tGg/zz\x1b123456q",
    );
    run_app(&mut t, &mut app, &mut events).unwrap();
    assert!(app.quit);
    // Tiny terminals draw without panicking.
    for (w, h) in [(1, 1), (20, 5), (40, 10)] {
        let mut app = App::new(profile(), Some(profile()), regions());
        for v in "123456".chars() {
            key(&mut app, &v.to_string());
            let _ = screen(&app, w, h);
        }
        key(&mut app, "1\n?");
        let _ = screen(&app, w, h);
    }
}

#[test]
fn a_function_opens_its_annotated_code_at_the_hottest_instruction() {
    let mut app = App::new(profile(), None, regions());
    key(&mut app, "4\n");
    assert_eq!(app.view, View::Code);
    // Row 0 is the source line, then its two instructions: the SMLAD's is row 2.
    assert_eq!(app.selected, 2, "the SMLAD is the costliest line");
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("mnn_conv_s8_opt.c:101  s"),
        "the source line above its instructions: {s}"
    );
    assert!(s.contains("Code: mat_mult_dsp (1/1)"), "{s}");
    assert!(s.contains("74,592"), "{s}");
    assert!(s.contains("97.1%"), "74,592 of 76,797 cycles: {s}");
    key(&mut app, "np");
    assert_eq!(app.code_function, 0);
}

/// A click on a tab opens that view wherever the tab bar draws it; the wheel moves the
/// selection; other mouse events do nothing.
#[test]
fn the_mouse_opens_tabs_and_scrolls() {
    let mut app = App::new(profile(), Some(profile()), regions());
    let bar = screen(&app, 200, 24).lines().next().unwrap().to_owned();
    let mouse = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    for (i, view) in View::ALL.iter().enumerate() {
        let label = format!("{} {}", i + 1, view.title());
        let at = bar.find(&label).expect("the tab is drawn") as u16;
        for column in [at, at + label.len() as u16 - 1] {
            let k = mouse_key(mouse(MouseEventKind::Down(MouseButton::Left), column, 0));
            app.key(k.expect("a click on a tab"));
            assert_eq!(app.view, *view, "click at column {column} of {bar:?}");
        }
    }
    let divider = bar.find('|').unwrap() as u16;
    assert_eq!(View::tab_at(divider), None, "the divider is no tab");
    assert!(mouse_key(mouse(MouseEventKind::Down(MouseButton::Left), 3, 5)).is_none());
    key(&mut app, "1");
    assert_eq!(app.selected, 0);
    app.key(mouse_key(mouse(MouseEventKind::ScrollDown, 10, 10)).unwrap());
    assert_eq!(app.selected, 1);
    app.key(mouse_key(mouse(MouseEventKind::ScrollUp, 10, 10)).unwrap());
    assert_eq!(app.selected, 0);
    assert!(mouse_key(mouse(MouseEventKind::Moved, 10, 10)).is_none());
}

/// The help overlay lists every key with its whole description at 80x24.
#[test]
fn the_help_fits_at_80x24() {
    let mut app = App::new(profile(), None, regions());
    key(&mut app, "?");
    let s = screen(&app, 80, 24);
    for text in [
        "layer detail; function's code",
        "next, previous function (Code)",
        "click a tab, wheel to move",
        "quit",
    ] {
        assert!(s.contains(text), "{text:?} in {s}");
    }
}

/// Opened by its key or tab, the code view also starts at the hottest instruction.
#[test]
fn the_code_view_opens_at_the_hottest_instruction() {
    let mut app = App::new(profile(), None, regions());
    key(&mut app, "5");
    assert_eq!(app.view, View::Code);
    let f = &app.profile.code[0];
    let hot = f.instructions.iter().map(|i| i.cycles).max().unwrap();
    let (at, source_row) = crate::tui::code_rows(f)[app.selected];
    assert!(!source_row, "an instruction is selected, not a source line");
    assert_eq!(f.instructions[at].cycles, hot);
    assert!(
        hot > f.instructions[0].cycles,
        "the test profile's hottest line is not the first"
    );
}

/// Long names and large numbers: nothing is cut silently at 80x24 or at 200x50. Figures
/// appear whole, names whole or abbreviated in the middle (with `…`), the status line fits.
#[test]
fn the_views_never_cut_figures_or_names_silently() {
    let mut p = profile();
    for (i, l) in p.layers.iter_mut().enumerate() {
        l.name = format!("functional_1/activation_{i}/Relu;functional_1/conv2d_{i}/BiasAdd");
        l.cycles = Cycles(1_099_023_456 / (i as u64 + 1));
    }
    p.functions[0].name =
        "tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*) [depthwise_conv.cpp]"
            .into();
    p.functions[0].cycles = 1_234_567_890;
    for (w, h) in [(80, 24), (200, 50)] {
        let mut app = App::new(p.clone(), Some(p.clone()), regions());
        let s = screen(&app, w, h);
        for l in &p.layers {
            assert!(
                s.contains(&group(l.cycles.0)),
                "{w}x{h}: {} cut: {s}",
                group(l.cycles.0)
            );
            let row = s.lines().find(|r| r.contains(&group(l.cycles.0))).unwrap();
            assert!(row.contains(&l.name) || row.contains('…'), "{row}");
            assert!(row.contains("functional_1/act"), "{row}");
        }
        let status = s.lines().last().unwrap();
        assert!(status.chars().count() <= usize::from(w), "{status}");
        assert!(
            ["q quit", "? help", "uJ"]
                .iter()
                .any(|e| status.ends_with(e))
                || status.contains('…'),
            "{status}"
        );
        key(&mut app, "4");
        let s = screen(&app, w, h);
        assert!(s.contains("1,234,567,890"), "{w}x{h}: {s}");
        assert!(s.contains("tflite::(anonym"), "{s}");
        assert!(
            s.contains("depthwise_conv.cpp]"),
            "the end of the name is kept: {s}"
        );
    }
}

#[test]
fn a_terminal_below_80x24_gets_a_notice() {
    let app = App::new(profile(), None, regions());
    let s = screen(&app, 60, 20);
    assert!(s.contains("terminal too small: 60x20"), "{s}");
    assert!(s.contains("80x24"), "{s}");
}

#[test]
fn timeline_zoom_keeps_the_selected_layer_and_the_sram_line_in_view() {
    let mut app = App::new(profile(), None, regions());
    // The last layer, then zoom in as far as it goes.
    key(&mut app, "2jj++++++");
    let s = screen(&app, 80, 24);
    assert!(s.contains("layer 2 dense_3/out"), "{s}");
    let l = &app.profile.layers[2];
    let ms = |c: u64| c as f64 / 120_000.0;
    let title = s
        .lines()
        .find(|r| r.contains("Timeline ") && r.contains(".."))
        .unwrap();
    let range: Vec<f64> = title
        .split_whitespace()
        .find(|w| w.contains(".."))
        .unwrap()
        .split("..")
        .map(|v| v.parse().unwrap())
        .collect();
    let mid = ms(l.start_cycle.0 + l.cycles.0 / 2);
    assert!(range[0] <= mid && mid <= range[1], "{title} vs {mid}");
    // The SRAM line is drawn across the zoomed window (braille dots in the chart).
    let chart: String = s
        .lines()
        .skip_while(|r| !r.contains("SRAM in use"))
        .take(10)
        .collect();
    assert!(
        chart
            .chars()
            .any(|c| ('\u{2801}'..='\u{28FF}').contains(&c)),
        "{s}"
    );
}

#[test]
fn an_npu_boards_layers_show_their_engine_and_the_detail_the_npus_work() {
    let mut p = profile();
    for l in &mut p.layers {
        l.engine = Some("cpu".into());
    }
    p.layers[0].engine = Some("npu".into());
    p.layers[0].devices = vec![mcusim_profiler::profile::DeviceBusy {
        device: "npu".into(),
        busy_cycles: Cycles(500_000),
        busy_share: 500_000.0 / 600_000.0,
        bytes: 40_960,
        macs: 300_000,
        work: Some("conv (sram)".into()),
        mac_utilisation: Some(300_000.0 / (500_000.0 * 128.0)),
    }];
    let mut app = App::new(p, None, regions());
    for w in [80, 200] {
        let s = screen(&app, w, 24);
        assert!(s.contains("engine"), "the column at {w}: {s}");
        assert!(s.contains("npu 0% sram"), "conv_1's engine at {w}: {s}");
        assert!(s.contains("cpu"), "{s}");
    }
    key(&mut app, "\n");
    let s = screen(&app, 80, 30);
    assert!(s.contains("devices (engine: npu)"), "{s}");
    assert!(s.contains("300,000 MACs at 0% of peak, conv (sram)"), "{s}");
}
