# Taken and not-taken branches, calls and returns.

# rule: M4 TRM table 3-1: B taken 1+P, P from 1 to 3; a direct branch's target is fetched
# rule: early, P = 1 (model). M0+ TRM table 3.1: B taken 2. M33 (jnk0le): taken branch 2.
# case: branch-taken
    b 3f
    nop
3:
# expect: cortex-m0plus=2 cortex-m3=2 cortex-m4=2 cortex-m33=2

# rule: M4 TRM: a conditional branch not taken is 1. M0+ TRM: 1.
# case: branch-not-taken
    cmp r0, r1
    beq 3f
3:
# expect: cortex-m0plus=2 cortex-m3=2 cortex-m4=2

# rule: jnk0le (STM32F407): a branch to an unaligned 32-bit instruction costs one more.
# case: branch-to-unaligned-wide
    b 3f
    .balign 4
    nop
3:
    add.w r0, r0, #1
# expect: cortex-m3=4 cortex-m4=4

# rule: M0+ TRM table 3.1: BL 3, BX 2, B 2. M4 TRM: BL, BX, B taken 1+P each; BX's target
# rule: comes from a register and cannot be fetched early, P = 2 (model), direct ones P = 1.
# case: call-and-return
    bl 4f
    b 5f
4:
    bx lr
5:
# expect: cortex-m0plus=7 cortex-m3=7 cortex-m4=7

# rule: M4 TRM: POP including PC 1+N+P, an indirect branch (P = 2). M0+ TRM: PUSH 1+N,
# rule: POP with PC 3+N, BL 3, B 2.
# case: push-pop-pc
    bl 4f
    b 5f
4:
    push {r4, lr}
    pop {r4, pc}
5:
# expect: cortex-m0plus=13 cortex-m3=12 cortex-m4=12

# rule: TIMING.md (M4 TRM): TBB at least 6 (2 load + 1 add + 3 refill).
# case: tbb
# setup: movs r0, #0
    tbb [pc, r0]
    .byte 1, 1
3:
# expect: cortex-m3=6 cortex-m4=6

# rule: M4 TRM: IT is 1 but folds onto a preceding 16-bit instruction.
# case: it-folded
    cmp r0, r0
    it eq
    moveq r1, #1
# expect: cortex-m3=2 cortex-m4=2
