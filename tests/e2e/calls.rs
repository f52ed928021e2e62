//! The shadow call stack follows every way a function returns (`tests/firmware/calls.c`):
//! the profile's call counts equal the firmware's own, the call tree stays shallow and each
//! node within its caller, and each pattern's kernel-named function is one layer.

use crate::support::{firmware, profile_on};
use std::collections::BTreeMap;

#[test]
fn every_return_pattern_is_followed() {
    for board in ["nucleo-l4r5zi", "stm32f746g-disco", "nucleo-u575zi"] {
        let elf = firmware(board, "calls", &[]);
        let (run, p) = profile_on(&elf, board, &elf.with_extension("profile.json"));
        // "calls leaf N ticks T sum S"
        let words: Vec<&str> = run.stdout.split_whitespace().collect();
        let count = |key: &str| -> u64 {
            let at = words.iter().position(|w| *w == key).unwrap();
            words[at + 1].parse().unwrap()
        };
        let (leaf, ticks) = (count("leaf"), count("ticks"));
        assert!(
            ticks > 50,
            "{board}: SysTick should fire often: {}",
            run.stdout
        );
        let calls: BTreeMap<&str, u64> = p["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap(), f["calls"].as_u64().unwrap()))
            .collect();
        assert_eq!(calls["leaf"], leaf, "{board}: {calls:?}");
        assert_eq!(calls["SysTick_Handler"], ticks, "{board}");
        for (function, n) in [
            ("cond_call", 100),
            ("ldr_pc_return", 50),
            ("tail_call", 50),
            ("bx_reloaded", 50),
            ("case_table", 50),
            ("skip_next", 50),
            ("longjmp", 5),
        ] {
            assert_eq!(calls[function], n, "{board}: {function}");
        }
        let tree = p["call_tree"].as_array().unwrap();
        assert_eq!(tree[0]["cycles"], p["totals"]["cycles"], "{board}");
        for node in tree {
            if let Some(parent) = node["parent"].as_u64() {
                let parent = &tree[parent as usize];
                assert!(
                    node["cycles"].as_u64() <= parent["cycles"].as_u64(),
                    "{board}: {node} inside {parent}"
                );
            }
        }
        let depth = |mut i: usize| {
            let mut d = 0;
            while let Some(parent) = tree[i]["parent"].as_u64() {
                i = parent as usize;
                d += 1;
            }
            d
        };
        let deepest = (0..tree.len()).map(depth).max().unwrap();
        assert!(
            deepest <= 12,
            "{board}: a call tree {deepest} deep lost returns"
        );
        let layers: Vec<&str> = p["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            layers,
            [
                "arm_calls_cond_s8",
                "arm_calls_ldr_pc_s8",
                "arm_calls_tail_s8",
                "arm_calls_bx_s8",
                "arm_calls_case_s8",
                "arm_calls_longjmp_s8"
            ],
            "{board}"
        );
    }
}
