# Divides (early termination from the operands) and the FPv4-SP unit.

# rule: M4 TRM table 3-1: SDIV/UDIV 2-12, early termination; a zero quotient takes the minimum.
# case: udiv-minimum
# setup: movs r0, #7
# setup: movs r1, #9
    udiv r2, r0, r1
# expect: cortex-m3=2 cortex-m4=2 cortex-m33=2

# rule: M4 TRM table 3-1: SDIV/UDIV up to 12 cycles; a full 32-bit quotient takes the maximum.
# case: udiv-maximum
# setup: mvn r0, #0
# setup: movs r1, #1
    udiv r2, r0, r1
# expect: cortex-m3=12 cortex-m4=12 cortex-m33=12

# rule: M4 TRM sec. 7.2.3 (FPv4-SP): VADD 1, VMLA 3, VDIV 14.
# case: fpu
    vadd.f32 s0, s1, s2
    vmla.f32 s3, s4, s5
    vdiv.f32 s6, s7, s8
# expect: cortex-m4f=18

# rule: M4 TRM sec. 7.2.3: VLDR 2, VLDM 1+N.
# case: fpu-loads
    vldr s0, [r1]
    vldmia r2, {s1-s4}
# expect: cortex-m4f=7
