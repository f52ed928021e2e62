# Dual issue on the M7 and the M33, and more Armv6-M figures. M7 rules: LLVM
# ARMScheduleM7.td (issue width 2, load and multiply latency 2) and jnk0le's STM32H7
# measurements (one memory access per pair, stores never pair, MACs never pair). M33 rules:
# jnk0le's RP2350 measurements (only two 16-bit instructions pair, load-to-use 2).

# rule: M7: an ALU instruction pairs with an independent load.
# rule: M33: a load and an ALU instruction do not pair (only two 16-bit ALU instructions do).
# case: alu-with-load
    adds r0, #1
    ldr r2, [r3]
# expect: cortex-m7=1 cortex-m33=2 cortex-m4=3

# rule: M7 (jnk0le, STM32H7): two loads dual-issue only to different banks (even and odd
# rule: words); r1 and r3 hold addresses of even words, so these do not pair.
# case: load-with-load
    ldr r0, [r1]
    ldr r2, [r3]
# expect: cortex-m7=2 cortex-m33=2

# rule: M7 (jnk0le, STM32H7): the same two loads, the second to an odd word: they pair.
# case: loads-in-two-banks
    ldr r0, [r1]
    ldr r2, [r3, #4]
# expect: cortex-m7=1 cortex-m33=2

# rule: M7: of three loads alternating banks, only one pair issues together: the third
# rule: waits for the next cycle (one memory pair per cycle), 1 + 1.
# case: three-loads-two-banks
    ldr r0, [r1]
    ldr r2, [r3, #4]
    ldr r4, [r5]
# expect: cortex-m7=2

# rule: M7: two loads walking two arrays in step, odd and even words (post-indexed bases,
# rule: followed from block entry): they pair.
# case: post-indexed-loads-two-banks
# setup: adds r3, #4
    ldr r0, [r1], #4
    ldr r2, [r3], #4
# expect: cortex-m7=1

# rule: M7: a store never issues second in a pair.
# case: alu-then-store
    adds r0, #1
    str r2, [r3]
# expect: cortex-m7=2 cortex-m33=2 cortex-m4=2

# rule: M7: a store may issue first, with an ALU instruction second.
# case: store-then-alu
    str r2, [r3]
    adds r0, #1
# expect: cortex-m7=1 cortex-m4=2

# rule: M7: multiplies never pair with each other.
# case: two-muls
    muls r0, r1, r0
    muls r2, r3, r2
# expect: cortex-m7=2 cortex-m4=2 cortex-m0plus=2

# rule: M7: a multiply's result is ready two cycles later (LLVM): a dependent add waits one.
# case: mul-use
    muls r0, r1, r0
    adds r0, #1
# expect: cortex-m7=3 cortex-m4=2

# rule: M33: 32-bit instructions do not dual-issue; M7 pairs independent 32-bit ALU ones.
# case: wide-alu-pair
    add.w r0, r0, #1
    add.w r1, r1, #1
# expect: cortex-m7=1 cortex-m33=2 cortex-m4=2

# rule: M7 and M33: using a load's result in the next instruction waits one cycle (latency 2).
# case: load-use
    ldr r0, [r1]
    adds r0, #1
# expect: cortex-m7=3 cortex-m33=3 cortex-m4=3

# rule: M7 and M33: an independent instruction between a load and its use hides the latency;
# rule: the use cannot pair with that instruction, since the value arrives a cycle too late.
# case: load-use-hidden
    ldr r0, [r1]
    adds r2, #1
    adds r0, #1
# expect: cortex-m7=2 cortex-m33=3 cortex-m4=4

# rule: M7 (jnk0le): LDRD and LDM issue alone; LDM of N registers ceil(N/2) cycles.
# case: ldrd-ldm
    ldrd r4, r5, [r1]
    ldmia r2!, {r4, r5, r6}
# expect: cortex-m7=4 cortex-m33=5 cortex-m4=7

# rule: M0+ TRM table 3.1: MULS 1 (single-cycle multiplier), ADDS 1, LDR 2, STR 2.
# case: m0plus-mix
    muls r0, r1, r0
    adds r0, #1
    ldr r2, [r3]
    str r2, [r4]
# expect: cortex-m0plus=6 cortex-m4=5

# rule: M0+ TRM table 3.1: STM 1+N, LDM 1+N.
# case: m0plus-stm-ldm
    stmia r1!, {r4, r5}
    ldmia r2!, {r4, r5, r6}
# expect: cortex-m0plus=7 cortex-m4=7
