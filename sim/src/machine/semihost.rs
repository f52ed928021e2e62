//! Semihosting: the BKPT 0xAB calls, served against the machine's memory and console.

use super::*;

/// A guest for semihosting: memory through unicorn, output to the console.
pub(super) struct SemihostingGuest<'u, 'a> {
    uc: &'u mut Uc<'a>,
}

impl semihosting::Guest for SemihostingGuest<'_, '_> {
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> bool {
        self.uc.mem_read(u64::from(addr), buf).is_ok()
    }
    fn write(&mut self, addr: u32, bytes: &[u8]) -> bool {
        self.uc.mem_write(u64::from(addr), bytes).is_ok()
    }
    fn stdout(&mut self, bytes: &[u8]) {
        self.uc.get_data_mut().output(Stream::Stdout, bytes);
    }
    fn stderr(&mut self, bytes: &[u8]) {
        self.uc.get_data_mut().output(Stream::Stderr, bytes);
    }
    fn cycles(&self) -> u64 {
        self.uc.get_data().clock.now().0
    }
    fn clock_hz(&self) -> u64 {
        self.uc.get_data().clock_hz
    }
    fn cmdline(&self) -> &str {
        &self.uc.get_data().cmdline
    }
    fn files(&mut self) -> Option<&mut semihosting::HostFiles> {
        self.uc.get_data_mut().host_files.as_mut()
    }
}

pub(super) fn on_bkpt(uc: &mut Uc<'_>, pc: u32) {
    // The BKPT itself completes; anything after it in the block has not run yet.
    uc.get_data_mut().refund_from(pc + 2);
    let mut insn = [0u8; 2];
    let imm = if uc.mem_read(u64::from(pc), &mut insn).is_ok() {
        insn[0]
    } else {
        0
    };
    if imm != 0xAB {
        uc.get_data_mut().fault(
            FaultKind::HardFault,
            pc,
            None,
            format!("BKPT {imm:#04x} with no debugger attached (escalates to HardFault)"),
        );
        let _ = uc.emu_stop();
        return;
    }
    let op = reg(uc, RegisterARM::R0);
    let param = reg(uc, RegisterARM::R1);
    let outcome = semihosting::call(op, param, &mut SemihostingGuest { uc });
    match outcome {
        Outcome::Return(v) => {
            set_reg(uc, RegisterARM::R0, v);
            set_reg(uc, RegisterARM::PC, (pc + 2) | 1);
        }
        Outcome::Exit(code) => {
            let st = uc.get_data_mut();
            if st.stop.is_none() {
                st.stop = Some(StopReason::Exit { code });
            }
            let _ = uc.emu_stop();
        }
        Outcome::Refused(message) => {
            uc.get_data_mut()
                .fault(FaultKind::Semihosting, pc, None, message);
            let _ = uc.emu_stop();
        }
    }
}
