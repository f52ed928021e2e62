# Timing cases for the Cortex-M3/M4 pipeline, with M0+, M7 and M33 where their sources give
# a figure. Expectations come from the cited rule, not from the model.

# rule: M4 TRM (DDI 0439B) table 3-1: data processing, 1 cycle; M0+ TRM table 3.1: 1.
# rule: A dependent chain cannot dual-issue on M7 or M33.
# case: alu-chain
    movs r0, #1
    adds r0, #2
    eors r1, r0
# expect: cortex-m0plus=3 cortex-m3=3 cortex-m4=3 cortex-m7=3 cortex-m33=3

# rule: M33 (jnk0le RP2350): two independent 16-bit instructions dual-issue; M7 dual-issues
# rule: independent ALU pairs (LLVM ARMScheduleM7.td, issue width 2).
# case: alu-independent
    movs r0, #1
    movs r1, #2
    movs r2, #3
    movs r3, #4
# expect: cortex-m0plus=4 cortex-m3=4 cortex-m4=4 cortex-m7=2 cortex-m33=2

# rule: TIMING.md (M4 TRM): LDR R0,[R1]; LDR R1,[R2] = 3 cycles (the second load pipelines).
# rule: M0+ TRM table 3.1: loads 2 cycles, no pipelining.
# case: two-independent-loads
    ldr r0, [r1]
    ldr r1, [r2]
# expect: cortex-m0plus=4 cortex-m3=3 cortex-m4=3

# rule: jnk0le pipeline cycle test (STM32F103, STM32F407): "load pipelining happens only when
# rule: targeting the same memory block by all loads (e.g. SRAM1 vs SRAM2 (and CCM))": the
# rule: second load, in the other SRAM, takes its full 2 cycles.
# case: two-loads-two-srams
# setup: ldr r2, =0x20010100
    ldr r0, [r1]
    ldr r1, [r2]
# expect: cortex-m0plus=4 cortex-m3=4 cortex-m4=4

# rule: The same rule: a literal load reads flash, so a load from SRAM after it does not
# rule: pipeline, nor a literal load after an SRAM load.
# case: literal-then-sram-load
    ldr r0, =0x12345678
    ldr r1, [r2]
    ldr r3, =0x9abcdef0
# expect: cortex-m3=6 cortex-m4=6

# rule: The same rule, pair by pair: the first two loads reach one SRAM and pipeline, the third
# rule: reaches the other and does not (2 + 1 + 2).
# case: three-loads-one-apart
# setup: ldr r5, =0x20010100
    ldr r0, [r1]
    ldr r2, [r3]
    ldr r4, [r5]
# expect: cortex-m0plus=6 cortex-m3=5 cortex-m4=5

# rule: The same rule, followed through a post-indexed base: both loads walk the other SRAM.
# rule: (On M3, jnk0le: indexed loads do not chain at all; mcusim does not model that, so the
# rule: case claims the M4 only.)
# case: post-indexed-loads-one-memory
# setup: ldr r2, =0x20010100
# setup: ldr r3, =0x20010200
    ldr r0, [r2], #4
    ldr r1, [r3], #4
# expect: cortex-m4=3

# rule: TIMING.md (M4 TRM): LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] = 4 cycles.
# case: three-loads-trm-example
# setup: movs r5, #0
    ldr r0, [r1, r5]
    ldr r1, [r2]
    ldr r2, [r3, #4]
# expect: cortex-m0plus=6 cortex-m3=4 cortex-m4=4

# rule: M4 TRM table 3-1 note: a load pipelines with the next only if the next address does
# rule: not depend on the first load's result. M33/M7: load-to-use latency 2 (jnk0le, LLVM).
# case: dependent-loads
    ldr r0, [r1]
    ldr r2, [r0]
# expect: cortex-m0plus=4 cortex-m3=4 cortex-m4=4 cortex-m7=3 cortex-m33=3

# rule: TIMING.md: an address computed by the immediately preceding ALU instruction stalls 1.
# case: address-dependency-stall
    adds r1, #4
    ldr r0, [r1]
# expect: cortex-m3=4 cortex-m4=4 cortex-m0plus=3

# rule: TIMING.md: STR with immediate offset is effectively 1 (write buffer).
# case: two-stores
    str r0, [r1]
    str r2, [r3]
# expect: cortex-m3=2 cortex-m4=2 cortex-m0plus=4

# rule: jnk0le pipeline cycle test (STM32F103, STM32F407): a store cannot pipeline with a
# rule: following load, which adds a cycle to the store (STR 1 + 1, LDR 2); the TRM is silent.
# case: store-then-load
    str r0, [r1]
    ldr r2, [r3]
# expect: cortex-m3=4 cortex-m4=4 cortex-m0plus=4

# rule: M4 TRM: a store after a load pipelines (LDR 2, STR 1).
# case: load-then-store
    ldr r0, [r1]
    str r2, [r3]
# expect: cortex-m3=3 cortex-m4=3 cortex-m0plus=4

# rule: TIMING.md (M4 TRM): nothing pipelines after a register-offset STR (STR 2, LDR 2).
# case: register-offset-store-then-load
# setup: movs r4, #0
    str r0, [r1, r4]
    ldr r2, [r3]
# expect: cortex-m3=4 cortex-m4=4 cortex-m0plus=4

# rule: M4 TRM table 3-1 and M0+ TRM table 3.1: LDM/STM 1+N. M33 (jnk0le): N. M7 (jnk0le
# rule: STM32H7): ceil(N/2).
# case: ldm-four
    ldmia r1!, {r2, r3, r4, r5}
# expect: cortex-m0plus=5 cortex-m3=5 cortex-m4=5 cortex-m7=2 cortex-m33=4

# rule: PUSH/POP are STM/LDM on SP: 1+N (M4 TRM, M0+ TRM).
# case: push-pop
    push {r4, r5, r6, r7}
    pop {r4, r5, r6, r7}
# expect: cortex-m0plus=10 cortex-m3=10 cortex-m4=10 cortex-m33=8

# rule: TIMING.md (M4 TRM): LDRD/STRD 3. M33 (jnk0le RP2350): 2.
# case: ldrd
    ldrd r2, r3, [r1]
# expect: cortex-m3=3 cortex-m4=3 cortex-m33=2

# rule: M4 TRM table 3-1: MUL, MLA 1. M3 TRM table 18-1: MLA 2.
# case: mul-mla
    muls r0, r1, r0
    mla r2, r3, r4, r2
# expect: cortex-m3=3 cortex-m4=2

# rule: M4 TRM: SMULL 1. M3 TRM table 18-1: SMULL 3-5 (model: midpoint 4, approximation).
# case: smull
    smull r2, r3, r0, r1
# expect: cortex-m3=4 cortex-m4=1

# rule: M4 TRM table 3-1: NOP 1; M0+ TRM: 1.
# case: nops
    nop
    nop
# expect: cortex-m0plus=2 cortex-m3=2 cortex-m4=2

# rule: jnk0le pipeline cycle test (STM32F407), TIMING.md: 32-bit loads at half-word addresses
# rule: may fail to pipeline (model: they do not). Word-aligned, the second pipelines (NOP 1,
# rule: LDR 2, LDR 1).
# case: wide-loads-aligned
    nop
    nop
    ldr.w r0, [r1]
    ldr.w r2, [r3]
# expect: cortex-m3=5 cortex-m4=5

# rule: The same two loads one half-word further on: no pipelining (NOP 1, LDR 2, LDR 2).
# case: wide-loads-unaligned
    nop
    ldr.w r0, [r1]
    ldr.w r2, [r3]
# expect: cortex-m3=5 cortex-m4=5

# rule: jnk0le (STM32F407), TIMING.md: groups of three or more unaligned 32-bit instructions
# rule: cost one cycle more (NOP 1, three ADD.W 1 each, +1).
# case: unaligned-wide-run
    nop
    add.w r0, r0, #1
    add.w r1, r1, #1
    add.w r2, r2, #1
# expect: cortex-m3=5 cortex-m4=5

# rule: Aligned, the same run costs one cycle each (two NOPs 1 each, three ADD.W 1 each).
# case: aligned-wide-run
    nop
    nop
    add.w r0, r0, #1
    add.w r1, r1, #1
    add.w r2, r2, #1
# expect: cortex-m3=5 cortex-m4=5
