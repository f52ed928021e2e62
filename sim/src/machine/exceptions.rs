//! Exceptions: entry (stacking, vector), return (unstacking), and the interrupts unicorn
//! raises (SVC, BKPT, exception return, CPU exceptions).

use super::*;
use mcusim_traces::FaultState;

/// Exceptions taken one after another with not one instruction of thread mode (and no sleep)
/// between, past which the run stops as an interrupt storm: a handler that does not clear
/// what raises it (a level-sensitive line still asserted, a pending bit set again, a timer
/// faster than its handler) starves the program for good. Far above any real burst of
/// tail-chained interrupts.
pub(super) const STORM: u32 = 100_000;

/// Take the most urgent pending exception if the execution priority allows; `ret` is the
/// address execution would have continued at. True if the core now runs the handler.
pub(super) fn take_exception(uc: &mut Uc<'_>, ret: u32) -> bool {
    let priority = execution_priority(uc);
    let Some(n) = uc.get_data().scs.nvic.to_take(priority) else {
        return false;
    };
    exception_entry(uc, n, ret)
}

/// The current execution priority: the active exceptions' and PRIMASK, BASEPRI and FAULTMASK
/// (Armv7-M ARM B1.5.4).
fn execution_priority(uc: &Uc<'_>) -> i32 {
    let v6m = uc.get_data().core.is_armv6m();
    let primask = reg(uc, RegisterARM::PRIMASK) & 1 != 0;
    let (basepri, faultmask) = if v6m {
        (0, false)
    } else {
        (
            reg(uc, RegisterARM::BASEPRI) as u8,
            reg(uc, RegisterARM::FAULTMASK) & 1 != 0,
        )
    };
    uc.get_data()
        .scs
        .nvic
        .execution_priority(primask, basepri, faultmask)
}

/// The registers an exception frame holds before the return address and xPSR, in frame
/// order (Armv7-M ARM B1.5.6).
pub(super) const STACKED: [RegisterARM; 6] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R12,
    RegisterARM::LR,
];

/// Exception entry (Armv7-M ARM B1.5.6): stack the frame on the current stack, switch to
/// handler mode on the main stack, load the vector. False (with a stop) if that fails.
pub(super) fn exception_entry(uc: &mut Uc<'_>, n: u32, ret: u32) -> bool {
    let core = uc.get_data().core;
    let ipsr = reg(uc, RegisterARM::IPSR) & 0x1FF;
    let control = reg(uc, RegisterARM::CONTROL);
    let handler_mode = ipsr != 0;
    let use_psp = !handler_mode && control & 2 != 0;
    let fpca = core.has_fpu() && control & 4 != 0;
    let sp = reg(uc, RegisterARM::SP);
    let frame_size = if fpca { 0x68 } else { 0x20 };
    let unaligned = sp.wrapping_sub(frame_size) & 4 != 0;
    let frame = sp.wrapping_sub(frame_size) & !7;
    let xpsr = reg(uc, RegisterARM::XPSR);
    let stacked_xpsr = (xpsr & !(1 << 9)) | u32::from(unaligned) << 9;
    let mut words: Vec<u32> = STACKED.iter().map(|r| reg(uc, *r)).collect();
    words.push(ret & !1);
    words.push(stacked_xpsr);
    if fpca {
        for i in 0..16 {
            words.push(reg(uc, fp_reg(i)));
        }
        words.push(reg(uc, RegisterARM::FPSCR));
        words.push(0);
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let vtor = uc.get_data().scs.vtor;
    let mut vector = [0u8; 4];
    let vector_ok = uc.mem_read(u64::from(vtor + 4 * n), &mut vector).is_ok();
    let vector = u32::from_le_bytes(vector);
    if uc.mem_write(u64::from(frame), &bytes).is_err() {
        let st = uc.get_data_mut();
        let kind = if u64::from(frame) < st.ram.start {
            FaultKind::StackOverflow
        } else {
            FaultKind::Lockup
        };
        st.fault(
            kind,
            ret,
            Some(frame),
            format!("cannot stack the exception frame for exception {n} at {frame:#010x}"),
        );
        let _ = uc.emu_stop();
        return true;
    }
    if !vector_ok || vector & 1 == 0 {
        let st = uc.get_data_mut();
        st.fault(
            FaultKind::Lockup,
            ret,
            Some(vtor + 4 * n),
            format!(
                "vector of exception {n} at {:#010x} is {}",
                vtor + 4 * n,
                if vector_ok {
                    format!("{vector:#010x}, not a Thumb address")
                } else {
                    "unreadable".into()
                }
            ),
        );
        let _ = uc.emu_stop();
        return true;
    }
    if use_psp {
        set_reg(uc, RegisterARM::PSP, frame);
        // Leaving SPSEL makes the main stack current (thread mode still, so QEMU swaps).
        set_reg(uc, RegisterARM::CONTROL, control & !2 & !4);
    } else {
        set_reg(uc, RegisterARM::SP, frame);
        if fpca {
            set_reg(uc, RegisterARM::CONTROL, control & !4);
        }
    }
    set_reg(uc, RegisterARM::IPSR, n);
    // Clear the IT state; keep the Thumb bit.
    set_reg(uc, RegisterARM::EPSR, 1 << 24);
    let exc_return = 0xFFFF_FFE1
        | u32::from(!fpca) << 4
        | u32::from(!handler_mode) << 3
        | u32::from(use_psp) << 2;
    set_reg(uc, RegisterARM::LR, exc_return);
    rebuild_translation_flags(uc);
    set_reg(uc, RegisterARM::PC, vector | 1);
    let st = uc.get_data_mut();
    st.scs.nvic.set_pending(n, false);
    st.scs.nvic.set_active(n, true);
    st.exceptions += 1;
    st.event = true;
    if !handler_mode {
        st.storm = if st.instructions == st.thread_mark {
            st.storm + 1
        } else {
            0
        };
        if st.storm >= STORM {
            st.stop = Some(StopReason::Limit {
                kind: LimitKind::InterruptStorm,
                pc: Addr(vector & !1),
                limit: u64::from(STORM),
                symbol: None,
            });
            let _ = uc.emu_stop();
            return true;
        }
    }
    let latency = if st.timing_on {
        timing::exception_entry(core)
    } else {
        Cycles::ZERO
    };
    let handler_sp = if use_psp {
        reg(uc, RegisterARM::MSP)
    } else {
        frame
    };
    let st = uc.get_data_mut();
    let (clock, retired) = (st.clock.now(), st.instructions);
    let watch = st
        .calls
        .as_mut()
        .and_then(|c| c.exception(vector, ret, sp, handler_sp, clock, retired));
    let (at, instructions, breakdown, traffic) = (
        st.clock.now(),
        st.instructions,
        st.clock.breakdown(),
        st.traffic(),
    );
    st.clock.charge(Part::Exception, latency);
    // The handler's: its first block takes it.
    st.carry += latency.0;
    st.branch_from = None;
    st.current = None;
    if let Some((probe, function)) = watch {
        record_watched_hit(uc, probe, function, (at, instructions, breakdown, traffic));
    }
    true
}

pub(super) fn fp_reg(i: u32) -> RegisterARM {
    const S: [RegisterARM; 16] = [
        RegisterARM::S0,
        RegisterARM::S1,
        RegisterARM::S2,
        RegisterARM::S3,
        RegisterARM::S4,
        RegisterARM::S5,
        RegisterARM::S6,
        RegisterARM::S7,
        RegisterARM::S8,
        RegisterARM::S9,
        RegisterARM::S10,
        RegisterARM::S11,
        RegisterARM::S12,
        RegisterARM::S13,
        RegisterARM::S14,
        RegisterARM::S15,
    ];
    S[i as usize]
}

/// Exception return (Armv7-M ARM B1.5.8): a branch to an EXC_RETURN value.
pub(super) fn exception_return(uc: &mut Uc<'_>, exc_return: u32) {
    let n = reg(uc, RegisterARM::IPSR) & 0x1FF;
    let use_psp = exc_return & 4 != 0;
    let to_thread = exc_return & 8 != 0;
    let fp_frame = exc_return & 0x10 == 0;
    let frame = reg(
        uc,
        if use_psp {
            RegisterARM::PSP
        } else {
            RegisterARM::MSP
        },
    );
    let len = if fp_frame { 0x68 } else { 0x20 };
    let mut raw = vec![0u8; len];
    if n == 0 || uc.mem_read(u64::from(frame), &mut raw).is_err() {
        let st = uc.get_data_mut();
        st.fault(
            FaultKind::Lockup,
            exc_return,
            Some(frame),
            if n == 0 {
                format!("exception return ({exc_return:#010x}) from thread mode")
            } else {
                format!("cannot unstack the exception frame at {frame:#010x}")
            },
        );
        let _ = uc.emu_stop();
        return;
    }
    let word = |i: usize| u32::from_le_bytes(raw[4 * i..4 * i + 4].try_into().unwrap_or_default());
    for (i, r) in STACKED.iter().enumerate() {
        set_reg(uc, *r, word(i));
    }
    let ret = word(6);
    let xpsr = word(7);
    if fp_frame {
        for i in 0..16 {
            set_reg(uc, fp_reg(i), word(8 + i as usize));
        }
        set_reg(uc, RegisterARM::FPSCR, word(24));
    }
    let new_sp = frame + len as u32 + if xpsr & (1 << 9) != 0 { 4 } else { 0 };
    // Leave handler mode first (the stacked IPSR), then select the stack, then set it.
    set_reg(uc, RegisterARM::XPSR, xpsr);
    if !uc.get_data().core.is_armv6m() {
        // The DSP extension's GE flags (XPSR above does not write them).
        set_reg(uc, RegisterARM::XPSR_NZCVQG, xpsr);
    }
    let mut control = reg(uc, RegisterARM::CONTROL);
    if to_thread && use_psp {
        control |= 2;
    }
    if fp_frame {
        control |= 4;
    }
    set_reg(uc, RegisterARM::CONTROL, control);
    set_reg(
        uc,
        if use_psp {
            RegisterARM::PSP
        } else {
            RegisterARM::MSP
        },
        new_sp,
    );
    rebuild_translation_flags(uc);
    set_reg(uc, RegisterARM::PC, ret | 1);
    let st = uc.get_data_mut();
    st.scs.nvic.set_active(n, false);
    st.event = true;
    if to_thread {
        st.thread_mark = st.instructions;
    }
    st.branch_from = None;
    // Level-sensitive lines still asserted pend again.
    st.sample_irq_levels();
    st.current = None;
    if to_thread && st.scs.sleep_on_exit() {
        st.request = Some(Request::SleepOnExit);
        let _ = uc.emu_stop();
    }
    let st = uc.get_data_mut();
    let (clock, retired, breakdown, traffic) = (
        st.clock.now(),
        st.instructions,
        st.clock.breakdown(),
        st.traffic(),
    );
    if let Some((probe, function)) = st
        .calls
        .as_mut()
        .and_then(|c| c.exception_return(clock, retired))
    {
        record_watched_hit(uc, probe, function, (clock, retired, breakdown, traffic));
    }
}

/// QEMU's exception numbers for Arm (target/arm/cpu.h).
pub(super) mod excp {
    pub const UDEF: u32 = 1;
    pub const SWI: u32 = 2;
    pub const PREFETCH_ABORT: u32 = 3;
    pub const DATA_ABORT: u32 = 4;
    pub const BKPT: u32 = 7;
    pub const EXCEPTION_EXIT: u32 = 8;
    pub const NOCP: u32 = 17;
    pub const INVSTATE: u32 = 18;
    pub const STKOF: u32 = 19;
    pub const UNALIGNED: u32 = 22;
}

pub(super) fn on_interrupt(uc: &mut Uc<'_>, intno: u32) {
    let pc = reg(uc, RegisterARM::PC);
    match intno {
        excp::SWI => {
            // PC is past the SVC.
            uc.get_data_mut().refund_from(pc);
            let st = uc.get_data_mut();
            st.scs.nvic.set_pending(exc::SVCALL, true);
            if !take_exception(uc, pc) {
                let st = uc.get_data_mut();
                st.fault(
                    FaultKind::HardFault,
                    pc.wrapping_sub(2),
                    None,
                    "SVC executed where the SVCall priority cannot preempt (escalates to HardFault)".into(),
                );
                let _ = uc.emu_stop();
            }
        }
        excp::EXCEPTION_EXIT => exception_return(uc, pc | 1),
        excp::BKPT => on_bkpt(uc, pc),
        _ => {
            uc.get_data_mut().refund_from(pc);
            let (kind, message) = match intno {
                excp::UDEF => (FaultKind::Undefined, "undefined instruction".to_string()),
                excp::NOCP => (
                    FaultKind::Undefined,
                    "coprocessor or floating-point instruction with no FPU or the FPU disabled".into(),
                ),
                excp::INVSTATE => (
                    FaultKind::Undefined,
                    "invalid state: execution in ARM state (a branch to an address without the Thumb bit)".into(),
                ),
                excp::DATA_ABORT | excp::UNALIGNED => (
                    FaultKind::Unaligned,
                    format!("unaligned access, which {} does not allow here", uc.get_data().core),
                ),
                excp::PREFETCH_ABORT => (
                    FaultKind::Protection,
                    format!("instruction fetch from non-executable memory at {pc:#010x}"),
                ),
                excp::STKOF => (FaultKind::StackOverflow, "stack limit register (MSPLIM/PSPLIM) violated".into()),
                other => (FaultKind::Other, format!("unexpected processor exception {other}")),
            };
            uc.get_data_mut().fault(kind, pc, None, message);
            let _ = uc.emu_stop();
        }
    }
}

/// Hands the fault `stop` (at `pc`, the faulting instruction) to the firmware's own fault
/// handler, as the core would (Armv7-M ARM B1.5.14 and B3.2.15): its fault status registers
/// say what happened (CFSR, HFSR.FORCED, MMFAR or BFAR), and the fault exception is entered
/// with `pc` as the return address: MemManage, BusFault or UsageFault where SHCSR enables it,
/// HardFault otherwise. False when the firmware has no handler of its own to take it (the
/// vector is the runtime's `Default_Handler` or a branch to itself, which could only stop or
/// spin) or cannot take one (a fault in HardFault or NMI locks the core up): the run stops
/// with the fault. Approximation: the fault exception's priority against the running one is
/// not weighed beyond that (a fault in a handler of lower priority is taken).
pub(super) fn deliver_fault(uc: &mut Uc<'_>, stop: &StopReason, pc: u32) -> bool {
    let Some((cfsr, exception, mmfar, bfar)) = fault_status(stop) else {
        return false;
    };
    // A configurable fault that is disabled, or whose priority cannot preempt what runs (its
    // own handler, one of higher priority, BASEPRI), escalates to HardFault; where HardFault
    // cannot preempt either (in NMI or HardFault, or under FAULTMASK) the core locks up and
    // the run stops (Armv7-M ARM B1.5.15, B1.5.19).
    let priority = execution_priority(uc);
    let st = uc.get_data();
    let exception =
        if st.scs.fault_enabled(exception) && st.scs.nvic.group_priority(exception) < priority {
            exception
        } else {
            3
        };
    if priority <= -1 {
        return false;
    }
    let at = st.scs.vtor + 4 * exception;
    let mut vector = [0u8; 4];
    if uc.mem_read(u64::from(at), &mut vector).is_err() {
        return false;
    }
    let target = u32::from_le_bytes(vector) & !1;
    let mut first = [0u8; 2];
    let spins = uc.mem_read(u64::from(target), &mut first).is_ok() && first == [0xFE, 0xE7];
    if target == 0 || spins || st.default_handler == Some(target) {
        return false;
    }
    let state = fault_state(uc, stop);
    let st = uc.get_data_mut();
    st.scs.record_fault(cfsr, exception == 3, mmfar, bfar);
    if st.handled_fault.is_none() {
        st.handled_fault = Some(with_state(stop.clone(), state));
    }
    exception_entry(uc, exception, pc) && uc.get_data().stop.is_none()
}

/// What the fault `stop` sets (Armv7-M ARM B1.5.14, B3.2.15): CFSR's bits, the configurable
/// exception it is (MemManage 4, BusFault 5, UsageFault 6), and MMFAR or BFAR; `None` for a
/// stop no fault exception stands for.
pub(super) fn fault_status(stop: &StopReason) -> Option<(u32, u32, Option<u32>, Option<u32>)> {
    let StopReason::Fault {
        kind, pc, address, ..
    } = stop
    else {
        return None;
    };
    let fetch = address.is_some_and(|a| a == *pc);
    Some(match kind {
        FaultKind::Unmapped if fetch => (1 << 8, 5, None, None),
        FaultKind::Unmapped => (1 << 9 | 1 << 15, 5, None, address.map(|a| a.0)),
        FaultKind::Protection if fetch => (1 << 0, 4, None, None),
        FaultKind::Protection => (1 << 9 | 1 << 15, 5, None, address.map(|a| a.0)),
        FaultKind::Unaligned => (1 << 24, 6, None, None),
        FaultKind::Undefined => (1 << 16, 6, None, None),
        _ => return None,
    })
}

/// The core's registers now and the fault status `stop` sets, for the stop reason (the
/// Armv6-M cores have no fault status registers: zero).
pub(super) fn fault_state(uc: &Uc<'_>, stop: &StopReason) -> Option<Box<FaultState>> {
    if !matches!(stop, StopReason::Fault { .. }) {
        return None;
    }
    let st = uc.get_data();
    let (cfsr, hfsr, mmfar, bfar) = match fault_status(stop) {
        Some((cfsr, exception, mmfar, bfar)) if !st.core.is_armv6m() => {
            let forced = !st.scs.fault_enabled(exception);
            (cfsr, u32::from(forced) << 30, mmfar, bfar)
        }
        _ => (0, 0, None, None),
    };
    let r = |x| Addr(reg(uc, x));
    Some(Box::new(FaultState {
        r0: r(RegisterARM::R0),
        r1: r(RegisterARM::R1),
        r2: r(RegisterARM::R2),
        r3: r(RegisterARM::R3),
        r12: r(RegisterARM::R12),
        lr: r(RegisterARM::LR),
        pc: r(RegisterARM::PC),
        xpsr: r(RegisterARM::XPSR),
        sp: r(RegisterARM::SP),
        cfsr,
        hfsr,
        mmfar: mmfar.map(Addr),
        bfar: bfar.map(Addr),
    }))
}

/// `stop` carrying `state`.
pub(super) fn with_state(stop: StopReason, new: Option<Box<FaultState>>) -> StopReason {
    match stop {
        StopReason::Fault {
            kind,
            pc,
            address,
            message,
            symbol,
            ..
        } => StopReason::Fault {
            kind,
            pc,
            address,
            message,
            symbol,
            state: new,
        },
        other => other,
    }
}
