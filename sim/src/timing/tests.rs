use super::*;

fn code(halfwords: &[u16]) -> (Vec<u8>, Vec<u16>) {
    let bytes: Vec<u8> = halfwords.iter().flat_map(|h| h.to_le_bytes()).collect();
    let offsets = crate::thumb::instruction_offsets(&bytes);
    (bytes, offsets)
}

fn cost(core: Core, halfwords: &[u16]) -> BlockCost {
    let (bytes, offsets) = code(halfwords);
    block_cost(&timing_for(core), 0x0800_0000, &bytes, &offsets)
}

#[test]
fn m4_load_pipelining_matches_the_trm_examples() {
    // TIMING.md (M4 TRM): LDR R0,[R1]; LDR R1,[R2] = 3 cycles.
    let c = cost(Core::CortexM4, &[0x6808, 0x6811]);
    assert_eq!(c.prefix.last(), Some(&3));
    // LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] = 4 cycles.
    let c = cost(Core::CortexM4, &[0x5948, 0x6811, 0x685A]);
    assert_eq!(c.prefix.last(), Some(&4));
    // A second load whose address is the first load's result does not pipeline.
    let c = cost(Core::CortexM4, &[0x6808, 0x6800]);
    assert_eq!(c.prefix.last(), Some(&4));
}

#[test]
fn prefix_and_stall_prefix_are_consistent() {
    // adds r1, r0, #4 ; ldr r2, [r1]: the AGU stall on M4.
    let c = cost(Core::CortexM4, &[0x1D01, 0x680A]);
    assert_eq!(&*c.prefix, &[0, 1, 4]);
    assert_eq!(&*c.stall_prefix, &[0, 0, 1]);
    for (p, s) in c.prefix.iter().zip(c.stall_prefix.iter()) {
        assert!(s <= p);
    }
}

#[test]
fn blocks_ending_in_a_branch_are_marked() {
    assert!(cost(Core::CortexM4, &[0x2001, 0xD1F7]).ends_in_branch);
    assert!(!cost(Core::CortexM4, &[0x2001, 0x2002]).ends_in_branch);
}

#[test]
fn divide_early_termination_depends_on_the_operands() {
    let m4 = timing_for(Core::CortexM4);
    assert_eq!(divide_extra(&m4, 100, 0, false), 0, "divide by zero");
    assert_eq!(divide_extra(&m4, 7, 9, false), 0, "quotient 0: 2 cycles");
    assert_eq!(
        divide_extra(&m4, u32::MAX, 1, false),
        10,
        "32-bit quotient: 12"
    );
    // |-1000| has 10 significant bits, 10 has 4: up to 7 quotient bits, 5 cycles.
    assert_eq!(divide_extra(&m4, (-1000i32) as u32, 10, true), 3);
}
