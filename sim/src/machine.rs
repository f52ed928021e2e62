//! The machine: unicorn set up as the board's Cortex-M, the hooks that keep time, and the run
//! loop that turns everything the firmware does into a [`StopReason`].
//!
//! Hot path: one block hook. It looks the block up in a cache (its instruction offsets and
//! cost are computed once, when unicorn first reports it), charges its cycles, and checks two
//! numbers: the time of the next peripheral event and whether any exception is pending. All
//! other hooks fire only on rare events: MMIO accesses, semihosting, SVC, exception return,
//! faults.

use crate::calls::{CallTracker, Exit};
use crate::firmware::Firmware;
use crate::nvic::exc;
use crate::peripherals::{self, Peripheral};
use crate::scs::{PpbAction, Scs};
use crate::semihosting::{self, Outcome};
use crate::{Error, thumb, timing};
use mcusim_boards::{Board, Core, RegionKind};
use mcusim_traces::{
    Addr, CallNode, Cycles, FaultKind, LimitKind, ProbeHit, ProbeId, StopReason, Traffic,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use unicorn_engine::unicorn_const::{HookType, MemType};
use unicorn_engine::{Arch, Mode, Prot, RegisterARM, Unicorn, uc_error};

/// Where firmware output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// UART, ITM and semihosting standard output.
    Stdout,
    /// Semihosting standard error.
    Stderr,
}

/// A sink for the firmware's console output.
pub trait Console {
    /// Forward bytes the firmware wrote.
    fn write(&mut self, stream: Stream, bytes: &[u8]);
    /// Deliver anything buffered (called when a run stops).
    fn flush(&mut self) {}
}

/// Forwards firmware output to this process's stdout and stderr. Standard output is
/// line-buffered and flushed before anything goes to standard error, so the two keep their
/// order on a terminal.
#[derive(Debug, Default)]
pub struct StdConsole;

impl Console for StdConsole {
    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        // A closed pipe (`mcusim run ... | head`) must not stop the simulation.
        let _ = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(bytes),
            Stream::Stderr => std::io::stdout()
                .flush()
                .and_then(|()| std::io::stderr().lock().write_all(bytes)),
        };
    }

    fn flush(&mut self) {
        let _ = std::io::stdout().flush();
    }
}

/// Keeps firmware output in memory (for tests and for callers that post-process it).
#[derive(Debug, Default, Clone)]
pub struct CaptureConsole {
    /// Everything written to standard output.
    pub stdout: Rc<RefCell<Vec<u8>>>,
    /// Everything written to standard error.
    pub stderr: Rc<RefCell<Vec<u8>>>,
}

impl Console for CaptureConsole {
    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Stdout => self.stdout.borrow_mut().extend_from_slice(bytes),
            Stream::Stderr => self.stderr.borrow_mut().extend_from_slice(bytes),
        }
    }
}

/// Limits that stop a runaway firmware.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Stop after exactly this many instructions.
    pub max_instructions: Option<u64>,
    /// Stop once this many cycles have passed (at the first instruction that would cross it).
    pub max_cycles: Option<u64>,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// Why the run ended.
    pub stop: StopReason,
    /// Instructions executed to completion.
    pub instructions: u64,
    /// Cycles from reset to the stop, sleep included.
    pub cycles: Cycles,
    /// Cycles spent asleep in WFI/WFE.
    pub sleep_cycles: Cycles,
    /// Where the cycles went; the parts sum to `cycles`.
    pub breakdown: timing::Breakdown,
    /// Exceptions taken.
    pub exceptions: u64,
    /// System resets requested through AIRCR.
    pub resets: u64,
}

/// A block of code as unicorn translates it, with its cost.
struct Block {
    /// Instructions, cycles and stall cycles of the whole block (the hot path reads these).
    n: u32,
    total: u32,
    stall: u32,
    /// Whether instruction fetch, literal or learned loads cost flash wait states.
    extras: bool,
    /// Loads of this block (their addresses, in program order) whose flash reads are charged
    /// from a learned pattern, kept in `State::learned`.
    learned: Vec<u32>,
    /// It holds an instruction whose hook is parked: put back before the block runs.
    parked: bool,
    start: u32,
    /// The block's bytes (for decoding the instruction that made an MMIO access).
    code: Box<[u8]>,
    /// Offset of each instruction from `start`.
    offsets: Box<[u16]>,
    /// The probe at the block's start address, if any.
    probe: Option<ProbeId>,
    /// Alignment checks of its LDM/STM/LDRD/STRD done at block entry (see `AlignCheck`).
    align: Vec<AlignCheck>,
    /// `prefix[i]`: cycles before instruction `i`; `prefix[n]`: the whole block.
    prefix: Box<[u32]>,
    /// The stall part of `prefix`.
    stall_prefix: Box<[u32]>,
    /// Whether the block ends in an instruction that may branch.
    ends_in_branch: bool,
    /// Pipeline refill if it does.
    refill: u32,
    /// Whether its first instruction is 32-bit at a half-word address (slower refill).
    first_wide_unaligned: bool,
    /// How it ends, for the call tracker (`Exit::Plain` unless calls are followed).
    exit: Exit,
    /// Every cycle charged to it so far: issue cycles and stalls, what its instructions add
    /// mid-block (divides, peripheral waits), sleep after it, the refill and fetch waits of
    /// the block it branches to, and the entry of an exception whose handler starts with it.
    /// Blocks' cycles sum to the clock.
    cycles: u64,
    /// Whether it ends in a branch back to its own start (a loop of one block).
    self_loop: bool,
    /// Bytes its loads read and its stores write (`timing::data_bytes`).
    read_bytes: u32,
    write_bytes: u32,
    /// Instruction fetch from flash, if the block lies there and timing is on.
    fetch: Option<timing::BlockFetch>,
    /// The bytes its literal (PC-relative) loads read from flash, when timing is on.
    literals: Box<[std::ops::Range<u32>]>,
    executions: u64,
}

/// An instruction that must access a word-aligned address (LDM/STM/LDRD/STRD on Armv7-M and
/// Armv8-M), checked when its block starts rather than by a hook of its own: each address
/// register's value at the instruction is its value at block entry plus a constant (followed
/// through the block by `thumb::base_update`). A check that fails gets the instruction its own
/// hook and restarts the block, so the fault is raised at the exact instruction.
struct AlignCheck {
    at: u32,
    insn: Box<[u8]>,
    /// (register, offset from its value at block entry).
    regs: Vec<(u16, i32)>,
}

impl Block {
    fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Number of instructions that start below `addr`.
    fn count_below(&self, addr: u32) -> usize {
        let off = addr.wrapping_sub(self.start);
        self.offsets.partition_point(|o| u32::from(*o) < off)
    }
}

/// A board peripheral placed in the address space.
struct Mapped {
    kind: mcusim_boards::PeripheralKind,
    /// Wait states of an access, from the board's mmio region holding it.
    wait: u64,
    base: u32,
    end: u32,
    irq: Option<u32>,
    model: Box<dyn Peripheral>,
}

/// What [`Machine::run_with_progress`] calls.
type ProgressReport<'r> = &'r mut dyn FnMut(&Progress<'_>) -> bool;

/// A run in progress, as [`Machine::run_with_progress`] reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress<'a> {
    pub instructions: u64,
    pub cycles: Cycles,
    /// Every probe hit so far.
    pub hits: &'a [ProbeHit],
}

/// Something the hooks ask the run loop to do once unicorn has returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    /// Run exactly this many more instructions, then stop on the given limit.
    FinalStretch(u64, LimitKind),
    /// A limit is reached exactly at this point.
    LimitNow(LimitKind),
    /// AIRCR.SYSRESETREQ.
    Reset,
    /// SCR.SLEEPONEXIT on return to thread mode.
    SleepOnExit,
    /// Remove the hooks of the watched loads in `State::retire`.
    RetireFlashSites,
    /// Report progress (`Machine::run_with_progress`).
    Progress,
    /// Park the per-instruction hooks that have been idle since the last sweep.
    Sweep,
}

/// A load instruction whose data reads are charged flash wait states by a hook of its own,
/// until its address pattern is learned (then its blocks charge it; see `timing::stride`).
struct FlashSite {
    hook: Option<unicorn_engine::UcHookId>,
    /// The instruction's bytes, to hook it again.
    insn: Box<[u8]>,
    ram_reads: u32,
    flash_reads: u32,
    /// Flash addresses read since watching (re)started, and the bytes per read.
    samples: Vec<u32>,
    len: u32,
    /// How many samples to learn from: doubles while no pattern fits or a prediction fails.
    window: usize,
    /// Executions a learned pattern is trusted before it is checked: doubles while the checks
    /// pass.
    trust: u32,
    /// The prediction that ran until the load was watched again, to check its next read.
    predicted: Option<timing::stride::Predictor>,
    /// Reads that agreed with `predicted` since the load was watched again.
    agreed: u32,
    /// The instruction count at its last watched read (or when it was hooked).
    last_hit: u64,
    /// Its hook was removed for running idle (see `Request::Sweep`); a block holding it puts
    /// it back before running.
    parked: bool,
}

/// An instruction with a code hook of its own for an operand check (see `hook_narrow_checks`).
struct Narrow {
    /// `None` while parked (see `Request::Sweep`).
    hook: Option<unicorn_engine::UcHookId>,
    /// A divide (early termination) rather than an alignment check.
    divide: bool,
    insn: Box<[u8]>,
    /// The instruction count at its last callback (or when it was hooked).
    last_hit: u64,
}

/// Per-instruction hooks idle this many instructions are removed until their code runs again:
/// unicorn walks its whole list of code hooks on every hooked instruction, so hooks on code
/// that ran once (start-up, a layer's set-up) would slow down every other.
const SWEEP: u64 = 1 << 20;

/// How often the run loop checks whether the core is stuck (`Machine::stuck`): two checks
/// agreeing stop a `while (1);` after about two million instructions.
const STUCK_EVERY: u64 = 1 << 20;

/// What a stuck check saw at a block boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StuckWatch {
    key: u64,
    /// r0-r12, SP, LR, PC, xPSR.
    regs: [u32; 17],
    executions: u64,
    instructions: u64,
    exceptions: u64,
    mmio_bytes: u64,
}

/// A learned flash load: the blocks holding it charge its reads from the predicted pattern
/// (one predictor per load, however many translated blocks hold it).
struct LearnedLoad {
    predictor: timing::stride::Predictor,
    executions: u32,
    /// After this many executions the load is watched again and the prediction checked.
    check_after: u32,
}

/// Flash reads a watched load is first observed for before its pattern is learned.
const LEARN_SAMPLES: usize = 48;

/// The most samples a pattern is learned from.
const LEARN_SAMPLES_MAX: usize = 1024;

/// Reads a learned pattern must predict right when checked, to be trusted again.
const CHECK_READS: u32 = 8;

/// The longest a learned pattern runs unchecked.
const TRUST_MAX: u32 = 65536;

/// Entries of the direct-mapped table of recently executed blocks (a power of two).
const RECENT_BLOCKS: usize = 1024;

/// After this many reads of RAM and none of flash, a watched load stops being watched.
const FLASH_SITE_PROBATION: u32 = 64;

/// A memory fault noticed by the unmapped/protection hook, for the stop reason.
#[derive(Debug, Clone, Copy)]
struct MemFault {
    access: MemType,
    address: u32,
}

/// Everything the hooks share: unicorn's per-instance data.
struct State {
    core: Core,
    clock_hz: u64,
    ram: std::ops::Range<u64>,
    boot_vtor: u32,

    clock: Cycles,
    /// `clock`, split by cause; always sums to `clock`.
    breakdown: timing::Breakdown,
    instructions: u64,
    /// The core's cycle table, and whether the cycle model is on (off: one cycle per
    /// instruction, the functional reference).
    timing: timing::CoreTiming,
    timing_on: bool,
    /// Set while the last block charged ends in a branch: its fall-through address and the
    /// refill a taken branch costs. The next block pays the refill unless it starts there.
    branch_from: Option<(u32, u32)>,
    /// Flash wait states and accelerator, if the board's flash has wait states.
    flash: Option<timing::FlashFetch>,
    /// Load instructions watched for reads from flash (see `hook_narrow_checks`), by address.
    flash_sites: FxHashMap<u32, FlashSite>,
    /// Watched loads found to read only RAM or whose pattern was learned: the run loop
    /// removes their hooks.
    retire: Vec<u32>,
    /// Patterns learned since the run loop last ran, to hand to the blocks holding the load.
    learned_new: Vec<(u32, timing::stride::Predictor)>,
    /// Loads charged from their learned pattern, by address.
    learned: FxHashMap<u32, LearnedLoad>,
    /// Charge every flash data read through its hook (no learning): the exact reference.
    exact_flash: bool,
    exceptions: u64,
    resets: u64,

    blocks: Vec<Block>,
    block_index: FxHashMap<u64, u32>,
    /// Data moved by loads and stores (flash reads are counted by `flash`).
    traffic: Traffic,
    /// The shadow call stack, when calls are followed (`Machine::track_calls`).
    calls: Option<Box<CallTracker>>,
    /// Probed function addresses (Thumb bit clear) and what was recorded at their entry.
    probes: FxHashMap<u32, ProbeId>,
    /// Probe identities handed out so far.
    probe_ids: u16,
    probe_hits: Vec<ProbeHit>,
    /// With `snapshot_blocks`: every block's executions and cycles at each probe hit, by
    /// block id.
    snapshot_blocks: bool,
    block_snapshots: Vec<Vec<(u64, u64)>>,
    /// The clock up to which cycles are charged to blocks (`Block::cycles`), the block they
    /// went to last, and cycles owed to the next block to start (an exception's entry).
    accounted: u64,
    last_block: Option<u32>,
    carry: u64,
    /// The stack region watched at probe hits (`lo..hi`) and its fill byte (see
    /// `Machine::watch_stack`).
    stack_watch: Option<(u32, u32, u8)>,
    /// The command line SYS_GET_CMDLINE gives (`Machine::set_args`).
    cmdline: String,
    /// Where the firmware keeps its heap's highest break, if it says: the stack scan starts
    /// above it.
    heap_peak_at: Option<u32>,
    /// Memory filled when a probed function is entered: (probe, address, length, byte).
    entry_fills: Vec<(ProbeId, u32, u32, u8)>,
    /// Recently executed blocks by a hash of their address: (key, index), key 0 for none.
    recent: Box<[(u64, u32)]>,
    /// Instructions carrying a hook of their own for an operand check (see
    /// `hook_narrow_checks`).
    narrow: FxHashMap<u32, Narrow>,
    /// Instructions whose hooks (operand check or watched load) are parked.
    parked: rustc_hash::FxHashSet<u32>,
    /// The instruction count at which idle hooks are next parked, and the interval.
    /// The next instruction count at which the run loop does its housekeeping: the earlier
    /// of the next hook sweep and the next stuck check.
    next_sweep: u64,
    next_hook_sweep: u64,
    sweep_every: u64,
    next_stuck_check: u64,
    /// The block about to run when housekeeping was asked for (its cache key).
    sweep_key: u64,
    /// What the last stuck check saw, to compare with the next.
    stuck: Option<StuckWatch>,
    /// The block being executed, the clock at its entry, and how far MMIO matching got.
    current: Option<u32>,
    current_entry: Cycles,
    /// The instruction of the current block that made the last MMIO access, and its address.
    mmio_last: Option<(usize, u32)>,

    /// No instruction may start once `instructions` reaches this (u64::MAX: no limit).
    instruction_budget: u64,
    cycle_budget: u64,
    /// The next instruction count at which to report progress (u64::MAX: never).
    progress_at: u64,
    final_stretch: bool,

    /// Earliest time a peripheral or SysTick needs servicing (u64::MAX: none).
    next_event: Cycles,
    scs: Scs,
    peripherals: Vec<Mapped>,
    console: Box<dyn Console>,
    /// The WFE event register.
    event: bool,

    stop: Option<StopReason>,
    request: Option<Request>,
    mem_fault: Option<MemFault>,
}

impl State {
    /// Records a probe hit, with every block's execution count so far when asked
    /// (`Machine::snapshot_blocks`).
    fn record_hit(&mut self, hit: ProbeHit) {
        if self.snapshot_blocks {
            let counts = self
                .blocks
                .iter()
                .map(|b| (b.executions, b.cycles))
                .collect();
            self.block_snapshots.push(counts);
        }
        self.probe_hits.push(hit);
    }

    /// Data moved so far.
    fn traffic(&self) -> Traffic {
        Traffic {
            flash_read_bytes: self.flash.as_ref().map_or(0, |f| f.data_bytes),
            ..self.traffic
        }
    }

    fn refund_from(&mut self, addr: u32) {
        let Some(b) = self.current else { return };
        let block = &self.blocks[b as usize];
        let done = block.count_below(addr);
        let n = block.len();
        if done < n {
            self.instructions -= (n - done) as u64;
            let cost = block.prefix[n] - block.prefix[done];
            let stall = block.stall_prefix[n] - block.stall_prefix[done];
            self.clock = self.clock - Cycles(u64::from(cost));
            self.blocks[b as usize].cycles = self.blocks[b as usize]
                .cycles
                .saturating_sub(u64::from(cost));
            self.accounted = self.accounted.saturating_sub(u64::from(cost));
            self.breakdown.stall = self.breakdown.stall - Cycles(u64::from(stall));
            self.breakdown.execute = self.breakdown.execute - Cycles(u64::from(cost - stall));
            // The block did not reach its branch.
            self.branch_from = None;
        }
        self.current = None;
    }

    /// The hint instruction that ends the current block, if the block ends exactly at `pc`.
    fn hint_ending_block_at(&self, pc: u32) -> Option<thumb::Hint> {
        let block = &self.blocks[self.current? as usize];
        (block.start.wrapping_add(block.code.len() as u32) == pc)
            .then(|| thumb::hint_before(&block.code))
            .flatten()
    }

    /// A narrow hook at `pc` ran: it is not idle (see `Request::Sweep`).
    fn narrow_hit(&mut self, pc: u32) {
        let now = self.instructions;
        if let Some(n) = self.narrow.get_mut(&pc) {
            n.last_hit = now;
        }
    }

    fn recompute_next_event(&mut self) {
        let mut next = self.scs.systick.next_event().unwrap_or(Cycles(u64::MAX));
        for p in &self.peripherals {
            if let Some(t) = p.model.next_event() {
                next = next.min(t);
            }
        }
        self.next_event = next;
    }

    /// Bring SysTick and the peripherals up to the clock; pend what they raise.
    fn service_events(&mut self) {
        let now = self.clock;
        if self.scs.systick.advance(now) {
            self.scs.nvic.set_pending(exc::SYSTICK, true);
        }
        for p in &mut self.peripherals {
            p.model.advance(now);
        }
        self.peripherals_changed();
    }

    /// The peripheral whose register block holds `addr`, brought up to `now`. The access's
    /// wait states (the mmio region's, from the board file) are charged as memory time.
    fn peripheral_at(&mut self, addr: u32, now: Cycles) -> Option<&mut Mapped> {
        let p = self
            .peripherals
            .iter_mut()
            .find(|p| (p.base..p.end).contains(&addr))?;
        p.model.advance(now);
        if self.timing_on {
            self.clock += Cycles(p.wait);
            self.breakdown.memory += Cycles(p.wait);
        }
        Some(p)
    }

    /// After a peripheral access: interrupt lines and the next event may have changed.
    fn peripherals_changed(&mut self) {
        self.sample_irq_levels();
        self.recompute_next_event();
    }

    /// Pend the IRQ of every peripheral whose interrupt output is asserted.
    fn sample_irq_levels(&mut self) {
        for p in &self.peripherals {
            if let Some(irq) = p.irq
                && p.model.irq_level()
            {
                self.scs.nvic.set_pending(exc::IRQ0 + irq, true);
            }
        }
    }

    fn output(&mut self, stream: Stream, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.console.write(stream, bytes);
        }
    }

    fn fault(&mut self, kind: FaultKind, pc: u32, address: Option<u32>, message: String) {
        if self.stop.is_none() {
            self.stop = Some(StopReason::Fault {
                kind,
                pc: Addr(pc),
                address: address.map(Addr),
                message,
                symbol: None,
            });
        }
    }
}

type Uc<'a> = Unicorn<'a, State>;

/// Never hit: Thumb PCs are even.
const NO_UNTIL: u64 = 0xFFFF_FFFF;

fn reg(uc: &Uc<'_>, r: RegisterARM) -> u32 {
    uc.reg_read(r).unwrap_or(0) as u32
}

fn set_reg(uc: &mut Uc<'_>, r: RegisterARM, v: u32) {
    // Writes to the registers used here cannot fail on an Arm instance.
    let _ = uc.reg_write(r, u64::from(v));
}

/// Make QEMU recompute its cached translation flags after IPSR or CONTROL changed behind its
/// back. Without this, code in a handler is translated as thread-mode code and a branch to an
/// EXC_RETURN value is not an exception return. unicorn rebuilds the flags after a write of
/// the NZCV flags (`uc_reg_write` of `APSR_NZCV`); writing back their current value changes
/// nothing else.
fn rebuild_translation_flags(uc: &mut Uc<'_>) {
    let nzcv = reg(uc, RegisterARM::XPSR) & 0xF000_0000;
    set_reg(uc, RegisterARM::APSR_NZCV, nzcv);
}

const GPR: [RegisterARM; 16] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R4,
    RegisterARM::R5,
    RegisterARM::R6,
    RegisterARM::R7,
    RegisterARM::R8,
    RegisterARM::R9,
    RegisterARM::R10,
    RegisterARM::R11,
    RegisterARM::R12,
    RegisterARM::SP,
    RegisterARM::LR,
    RegisterARM::PC,
];

fn cpu_model(core: Core) -> i32 {
    // unicorn's `uc_cpu_arm` numbering (include/unicorn/arm.h): M0 = 7, M3, M4, M7, M33.
    // unicorn has no Cortex-M0+ model; its Cortex-M0 runs the same Armv6-M instruction set.
    match core {
        Core::CortexM0Plus => 7,
        Core::CortexM3 => 8,
        Core::CortexM4 | Core::CortexM4F => 9,
        Core::CortexM7 => 10,
        Core::CortexM33 => 11,
    }
}

/// A simulated board with firmware loaded, ready to run.
pub struct Machine {
    uc: Uc<'static>,
    firmware: Firmware,
    entry: u32,
    initial_sp: u32,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("firmware", &self.firmware.name)
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// Build the board's machine and load the firmware into it.
    pub fn new(
        board: &Board,
        firmware: Firmware,
        console: Box<dyn Console>,
    ) -> Result<Machine, Error> {
        firmware.check_fits(board)?;
        let boot = board.boot_region().base as u32;
        let vt_err = |message: String| Error::VectorTable {
            path: firmware.path.clone(),
            message,
        };
        let (Some(initial_sp), Some(entry)) = (firmware.word_at(boot), firmware.word_at(boot + 4))
        else {
            return Err(vt_err(format!(
                "no vector table at {boot:#010x}, the base of boot region '{}' of board '{}'",
                board.file.boot_region, board.name
            )));
        };
        if entry & 1 == 0 {
            return Err(vt_err(format!(
                "reset vector {entry:#010x} lacks the Thumb bit (Cortex-M executes only Thumb code)"
            )));
        }
        if !board
            .region_at(u64::from(entry & !1))
            .is_some_and(|r| r.kind.executable())
        {
            return Err(vt_err(format!(
                "reset vector {entry:#010x} points outside executable memory"
            )));
        }
        if !board
            .region_at(u64::from(initial_sp.wrapping_sub(4)))
            .is_some_and(|r| matches!(r.kind, RegionKind::Sram | RegionKind::Tcm))
        {
            return Err(vt_err(format!(
                "initial stack pointer {initial_sp:#010x} is not at or inside RAM"
            )));
        }

        let peripherals = board
            .peripherals()
            .iter()
            .map(|p| Mapped {
                kind: p.kind,
                wait: board
                    .region_at(p.base)
                    .map_or(0, |r| u64::from(r.wait_states)),
                base: p.base as u32,
                end: p.end() as u32,
                irq: p.irq,
                model: peripherals::build(p.kind),
            })
            .collect();
        let state = State {
            core: board.core,
            clock_hz: board.clock_hz(),
            ram: board.ram_range(),
            boot_vtor: boot,
            clock: Cycles::ZERO,
            instructions: 0,
            breakdown: timing::Breakdown::default(),
            timing: timing::timing_for(board.core),
            timing_on: true,
            branch_from: None,
            flash: timing::FlashFetch::for_board(board),
            flash_sites: FxHashMap::default(),
            retire: Vec::new(),
            learned_new: Vec::new(),
            learned: FxHashMap::default(),
            exact_flash: false,
            exceptions: 0,
            resets: 0,
            blocks: Vec::new(),
            block_index: FxHashMap::default(),
            probes: FxHashMap::default(),
            probe_ids: 0,
            traffic: Traffic::default(),
            calls: None,
            probe_hits: Vec::new(),
            snapshot_blocks: false,
            block_snapshots: Vec::new(),
            accounted: 0,
            last_block: None,
            carry: 0,
            stack_watch: None,
            cmdline: String::new(),
            heap_peak_at: None,
            entry_fills: Vec::new(),
            recent: vec![(0, 0); RECENT_BLOCKS].into_boxed_slice(),
            narrow: FxHashMap::default(),
            parked: Default::default(),
            next_sweep: SWEEP.min(STUCK_EVERY),
            next_hook_sweep: SWEEP,
            sweep_every: SWEEP,
            next_stuck_check: STUCK_EVERY,
            sweep_key: 0,
            stuck: None,
            current: None,
            current_entry: Cycles::ZERO,
            mmio_last: None,
            instruction_budget: u64::MAX,
            progress_at: u64::MAX,
            cycle_budget: u64::MAX,
            final_stretch: false,
            next_event: Cycles(u64::MAX),
            scs: Scs::new(
                board.core,
                board.file.irq_lines,
                board.file.priority_bits,
                boot,
            ),
            peripherals,
            console,
            event: false,
            stop: None,
            request: None,
            mem_fault: None,
        };

        let setup = |e: uc_error| Error::Emulator(format!("{e:?}"));
        // Thumb without UC_MODE_MCLASS: unicorn 2.1 forces the Cortex-M33 model whenever
        // MCLASS is given; the model chosen below makes the CPU M-profile.
        let mut uc = Unicorn::new_with_data(Arch::ARM, Mode::THUMB, state).map_err(setup)?;
        uc.ctl_set_cpu_model(cpu_model(board.core)).map_err(setup)?;

        for r in board.regions() {
            let prot = match r.kind {
                RegionKind::Flash => Prot::READ | Prot::EXEC,
                RegionKind::Sram | RegionKind::Tcm => Prot::ALL,
                RegionKind::Mmio => continue,
            };
            uc.mem_map(r.base, r.size, prot).map_err(setup)?;
        }
        for seg in &firmware.segments {
            uc.mem_write(u64::from(seg.addr), &seg.data)
                .map_err(setup)?;
        }
        map_ppb(&mut uc).map_err(setup)?;
        map_peripherals(&mut uc, board).map_err(setup)?;
        install_hooks(&mut uc).map_err(setup)?;

        let mut machine = Machine {
            uc,
            firmware,
            entry,
            initial_sp,
        };
        machine.reset_core();
        Ok(machine)
    }

    /// The firmware's command line for SYS_GET_CMDLINE: its file name, then `args`, separated
    /// by spaces (as QEMU's semihosting gives it; an argument with a space is quoted).
    pub fn set_args(&mut self, args: &[String]) {
        let mut line = self.firmware.name.clone();
        for a in args {
            line.push(' ');
            if a.is_empty() || a.contains([' ', '"']) {
                line.push('"');
                line.push_str(&a.replace('"', "\\\""));
                line.push('"');
            } else {
                line.push_str(a);
            }
        }
        self.uc.get_data_mut().cmdline = line;
    }

    /// Turn the cycle model off (one cycle per instruction, no stalls, refills or latencies:
    /// the functional reference) or back on. Takes effect for code not yet run.
    pub fn set_timing(&mut self, on: bool) {
        self.uc.get_data_mut().timing_on = on;
    }

    /// Charge every flash data read through a hook of its own, never from a learned address
    /// pattern: slower, and the reference the learned charging is tested against.
    pub fn set_exact_flash(&mut self, exact: bool) {
        self.uc.get_data_mut().exact_flash = exact;
    }

    /// How often per-instruction hooks idle since the previous sweep are parked (removed until
    /// their code runs again; counts are the same either way): every `every` instructions
    /// (default 2^20), or never with `None`.
    pub fn set_hook_sweep(&mut self, every: Option<u64>) {
        let st = self.uc.get_data_mut();
        st.sweep_every = every.unwrap_or(u64::MAX).max(1);
        st.next_hook_sweep = st.instructions.saturating_add(st.sweep_every);
        st.next_sweep = st.next_hook_sweep.min(st.next_stuck_check);
    }

    /// Records every entry into the function at `addr` (the Thumb bit is ignored) with the clock
    /// and r0 (see [`Machine::probe_hits`]). Probes must be added before the run.
    pub fn add_probe(&mut self, addr: u32) -> ProbeId {
        let st = self.uc.get_data_mut();
        let next = ProbeId(st.probe_ids);
        let id = *st.probes.entry(addr & !1).or_insert(next);
        if id == next {
            st.probe_ids += 1;
        }
        id
    }

    /// Follows calls and returns through a shadow call stack (BL/BLX, the return to the
    /// address after them, exception entry and return) into a call tree
    /// ([`Machine::call_tree`]), and records a probe hit when a call to one of the `watched`
    /// functions begins and when it returns, for the outermost such call only: the firmware's
    /// top-level kernel calls, without markers. Returns the (call, return) probe identities,
    /// whose hits carry the function's address as `arg0`. Call before the run.
    pub fn track_calls(&mut self, watched: &[u32]) -> (ProbeId, ProbeId) {
        let entry = self.entry;
        let functions = &self.firmware.symbols;
        let st = self.uc.get_data_mut();
        let (call, ret) = (ProbeId(st.probe_ids), ProbeId(st.probe_ids + 1));
        st.probe_ids += 2;
        let watched: FxHashSet<u32> = watched.iter().map(|a| a & !1).collect();
        let functions = functions
            .iter()
            .filter(|s| s.is_function)
            .map(|s| s.addr)
            .collect();
        st.calls = Some(Box::new(CallTracker::new(
            entry, watched, functions, call, ret,
        )));
        (call, ret)
    }

    /// The call tree so far (empty unless [`Machine::track_calls`] was called): node 0 is the
    /// code run from reset; calls still open count up to now.
    pub fn call_tree(&self) -> Vec<CallNode> {
        let st = self.uc.get_data();
        st.calls
            .as_ref()
            .map_or_else(Vec::new, |c| c.tree(st.clock, st.instructions))
    }

    /// Data moved by loads and stores so far.
    pub fn traffic(&self) -> Traffic {
        self.uc.get_data().traffic()
    }

    /// Watches the stack region `lo..hi` (below the initial stack pointer): fills it with `fill`
    /// now, and at every probe hit reports the lowest address written since the previous hit
    /// ([`ProbeHit::stack_low`]) and fills the free part again. Call before the run.
    ///
    /// The heap grows up from `lo` when the firmware has one: `heap_peak_at` is the address of
    /// the word where the firmware keeps its heap's highest break (mcusim's runtime:
    /// `mcusim_heap_peak`), and the scan starts above it.
    pub fn watch_stack(&mut self, lo: u32, hi: u32, fill: u8, heap_peak_at: Option<u32>) {
        if hi > lo && self.write_memory(lo, &vec![fill; (hi - lo) as usize]) {
            let st = self.uc.get_data_mut();
            st.stack_watch = Some((lo, hi, fill));
            st.heap_peak_at = heap_peak_at;
        }
    }

    /// Fills `len` bytes at `addr` with `byte` each time the function at `entry` is entered
    /// (the entry becomes a probe): memory that start-up code clears can be marked after it,
    /// to find later which bytes the run wrote. Call before the run.
    pub fn fill_on_entry(&mut self, entry: u32, addr: u32, len: u32, byte: u8) -> ProbeId {
        let probe = self.add_probe(entry);
        self.uc
            .get_data_mut()
            .entry_fills
            .push((probe, addr, len, byte));
        probe
    }

    /// The word at `addr`, if mapped.
    pub fn read_u32(&self, addr: u32) -> Option<u32> {
        let b = self.read_memory(addr, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The lowest address of the watched stack region written so far (the whole run's stack
    /// peak), or `None` without a watch.
    pub fn stack_low_water(&self) -> Option<u32> {
        let (lo, hi, fill) = stack_region(&self.uc)?;
        let now = lowest_written(&self.uc, lo, hi, fill)?;
        // Probe hits refill the free part: the lowest of their readings and this one.
        let low = self
            .uc
            .get_data()
            .probe_hits
            .iter()
            .filter_map(|h| h.stack_low)
            .min();
        Some(low.map_or(now, |l| l.min(now)))
    }

    /// Records, at every probe hit, the execution count and the cycles (`BlockCount::cycles`)
    /// of every block seen so far (indexed by
    /// [`mcusim_traces::BlockCount::id`]; blocks first seen later are missing from earlier
    /// snapshots, their count there being 0): what ran between two hits, block by block. Costs
    /// one pass over the blocks per hit. Call before the run.
    pub fn snapshot_blocks(&mut self, on: bool) {
        self.uc.get_data_mut().snapshot_blocks = on;
    }

    /// The snapshots of [`Machine::snapshot_blocks`], one per probe hit, in order: each
    /// block's (executions, cycles) at the hit, by block id.
    pub fn block_snapshots(&self) -> &[Vec<(u64, u64)>] {
        &self.uc.get_data().block_snapshots
    }

    /// Every probed function entry so far, in order.
    pub fn probe_hits(&self) -> &[ProbeHit] {
        &self.uc.get_data().probe_hits
    }

    /// Reads guest memory (any mapped region), or `None` if part of it is unmapped.
    pub fn read_memory(&self, addr: u32, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; len];
        self.uc.mem_read(u64::from(addr), &mut buf).ok()?;
        Some(buf)
    }

    /// Writes guest memory (flash included, as a programmer would), before or between runs.
    /// False if part of it is unmapped.
    pub fn write_memory(&mut self, addr: u32, bytes: &[u8]) -> bool {
        self.uc.mem_write(u64::from(addr), bytes).is_ok()
    }

    /// The loaded firmware.
    pub fn firmware(&self) -> &Firmware {
        &self.firmware
    }

    /// The reset handler's address (with the Thumb bit).
    pub fn entry(&self) -> u32 {
        self.entry
    }

    /// Put the core in its reset state: SP and PC from the vector table at the boot address.
    fn reset_core(&mut self) {
        let uc = &mut self.uc;
        let vtor = uc.get_data().boot_vtor;
        let mut vt = [0u8; 8];
        let (sp, pc) = if uc.mem_read(u64::from(vtor), &mut vt).is_ok() {
            (
                u32::from_le_bytes(vt[..4].try_into().unwrap_or_default()),
                u32::from_le_bytes(vt[4..].try_into().unwrap_or_default()),
            )
        } else {
            (self.initial_sp, self.entry)
        };
        for r in &GPR[..13] {
            set_reg(uc, *r, 0);
        }
        set_reg(uc, RegisterARM::CONTROL, 0);
        set_reg(uc, RegisterARM::IPSR, 0);
        set_reg(uc, RegisterARM::PRIMASK, 0);
        if !uc.get_data().core.is_armv6m() {
            set_reg(uc, RegisterARM::BASEPRI, 0);
            set_reg(uc, RegisterARM::FAULTMASK, 0);
        }
        set_reg(uc, RegisterARM::MSP, sp & !3);
        set_reg(uc, RegisterARM::PSP, 0);
        set_reg(uc, RegisterARM::LR, 0xFFFF_FFFF);
        rebuild_translation_flags(uc);
        set_reg(uc, RegisterARM::PC, pc | 1);
        let st = uc.get_data_mut();
        st.scs.reset();
        st.current = None;
        st.event = false;
        st.recompute_next_event();
    }

    /// Run until the firmware exits, faults, or reaches a limit.
    pub fn run(&mut self, limits: Limits) -> RunResult {
        self.run_inner(limits, None)
    }

    /// Runs as [`Machine::run`] does, calling `report` about every `every` instructions (at a
    /// block boundary, outside the emulation) with the run so far; when it returns false the
    /// run stops with [`LimitKind::Cancelled`]. Reporting does not change any count.
    pub fn run_with_progress(
        &mut self,
        limits: Limits,
        every: u64,
        report: &mut dyn FnMut(&Progress<'_>) -> bool,
    ) -> RunResult {
        self.run_inner(limits, Some((every.max(1), report)))
    }

    fn run_inner(
        &mut self,
        limits: Limits,
        mut progress: Option<(u64, ProgressReport<'_>)>,
    ) -> RunResult {
        if let Some((every, _)) = &progress {
            let st = self.uc.get_data_mut();
            st.progress_at = st.instructions.saturating_add(*every);
        }
        {
            let st = self.uc.get_data_mut();
            st.instruction_budget = limits.max_instructions.unwrap_or(u64::MAX);
            st.cycle_budget = limits.max_cycles.unwrap_or(u64::MAX);
        }
        let mut count = 0usize;
        let mut stretch: Option<LimitKind> = None;
        let mut idle_returns = 0u32;
        let stop = loop {
            let pc = reg(&self.uc, RegisterARM::PC);
            let before = self.uc.get_data().instructions;
            let result = self.uc.emu_start(u64::from(pc | 1), NO_UNTIL, 0, count);
            count = 0;
            let pc = reg(&self.uc, RegisterARM::PC);
            let st = self.uc.get_data_mut();
            if let Some(stop) = st.stop.take() {
                break stop;
            }
            if let Err(e) = result {
                let st = self.uc.get_data_mut();
                // WFE and YIELD reach unicorn as a "stop interrupt" it reports as an invalid
                // instruction, with the PC already past the hint (a real undefined instruction
                // leaves the PC on itself, inside the block).
                if e == uc_error::INSN_INVALID
                    && let Some(hint) = st.hint_ending_block_at(pc)
                {
                    st.current = None;
                    if hint == thumb::Hint::Wfe
                        && let Some(stop) = sleep(st, hint, pc)
                    {
                        break stop;
                    }
                    continue;
                }
                let sp = reg(&self.uc, RegisterARM::SP);
                let st = self.uc.get_data_mut();
                st.refund_from(pc);
                break classify_error(st, e, pc, sp);
            }
            if let Some(kind) = stretch {
                st.refund_from(pc);
                break limit_stop(st, kind, pc);
            }
            match st.request.take() {
                Some(Request::LimitNow(kind)) => break limit_stop(st, kind, pc),
                Some(Request::FinalStretch(n, kind)) => {
                    // Run the last few instructions counted by unicorn, then stop.
                    stretch = Some(kind);
                    st.final_stretch = true;
                    count = n as usize;
                    // unicorn counts instructions with a code hook that only blocks translated
                    // from now on carry; the run ends after this, so flushing costs nothing.
                    let _ = self.uc.ctl_flush_tb();
                    continue;
                }
                Some(Request::Reset) => {
                    st.refund_from(pc);
                    st.resets += 1;
                    for p in &mut st.peripherals {
                        // Peripherals come back in their reset state.
                        p.model = peripherals::build(p.kind);
                    }
                    self.reset_core();
                    continue;
                }
                Some(Request::RetireFlashSites) => {
                    let hooks: Vec<_> = std::mem::take(&mut st.retire)
                        .into_iter()
                        .filter_map(|pc| {
                            let site = st.flash_sites.get_mut(&pc)?;
                            Some((pc, site.hook.take()?))
                        })
                        .collect();
                    for (pc, predictor) in std::mem::take(&mut st.learned_new) {
                        let check_after = st.flash_sites.get(&pc).map_or(TRUST_MAX, |s| s.trust);
                        st.learned.insert(
                            pc,
                            LearnedLoad {
                                predictor,
                                executions: 0,
                                check_after,
                            },
                        );
                        for block in &mut st.blocks {
                            let end = block.start + block.code.len() as u32;
                            if (block.start..end).contains(&pc) {
                                // In program order: the data cache sees the reads in the
                                // order the block makes them.
                                if let Err(at) = block.learned.binary_search(&pc) {
                                    block.learned.insert(at, pc);
                                }
                                block.extras = true;
                            }
                        }
                    }
                    for (pc, hook) in hooks {
                        let _ = self.uc.remove_hook(hook);
                        let _ = self.uc.ctl_remove_cache(u64::from(pc), u64::from(pc) + 4);
                    }
                    continue;
                }
                Some(Request::Sweep) => {
                    let now = st.instructions;
                    if now >= st.next_hook_sweep {
                        st.next_hook_sweep = now.saturating_add(st.sweep_every);
                        self.park_idle_hooks();
                    }
                    let st = self.uc.get_data_mut();
                    if now >= st.next_stuck_check {
                        st.next_stuck_check = now.saturating_add(STUCK_EVERY);
                        if let Some(stop) = self.stuck(pc) {
                            break stop;
                        }
                    }
                    let st = self.uc.get_data_mut();
                    st.next_sweep = st.next_hook_sweep.min(st.next_stuck_check);
                    continue;
                }
                Some(Request::Progress) => {
                    let Some((every, report)) = progress.as_mut() else {
                        st.progress_at = u64::MAX;
                        continue;
                    };
                    st.progress_at = st.instructions.saturating_add(*every);
                    let now = Progress {
                        instructions: st.instructions,
                        cycles: st.clock,
                        hits: &st.probe_hits,
                    };
                    if !report(&now) {
                        break StopReason::Limit {
                            kind: LimitKind::Cancelled,
                            pc: Addr(pc),
                            limit: st.instructions,
                            symbol: None,
                        };
                    }
                    continue;
                }
                Some(Request::SleepOnExit) => {
                    if let Some(stop) = sleep(st, thumb::Hint::Wfi, pc) {
                        break stop;
                    }
                    continue;
                }
                None => {}
            }
            // unicorn returns after WFI/WFE (and when a counted run ends).
            st.refund_from(pc);
            let mut tail = [0u8; 4];
            let kind = if pc >= 4 && self.uc.mem_read(u64::from(pc - 4), &mut tail).is_ok() {
                thumb::hint_before(&tail)
            } else {
                let mut t2 = [0u8; 2];
                self.uc
                    .mem_read(u64::from(pc.wrapping_sub(2)), &mut t2)
                    .ok()
                    .and_then(|()| thumb::hint_before(&t2))
            };
            let st = self.uc.get_data_mut();
            if let Some(kind) = kind {
                idle_returns = 0;
                if let Some(stop) = sleep(st, kind, pc) {
                    break stop;
                }
                continue;
            }
            // Any other return without progress, twice in a row, would loop forever.
            if st.instructions == before {
                idle_returns += 1;
                if idle_returns > 2 {
                    break StopReason::Fault {
                        kind: FaultKind::Other,
                        pc: Addr(pc),
                        address: None,
                        message: "the emulator stopped without progress".into(),
                        symbol: None,
                    };
                }
            } else {
                idle_returns = 0;
            }
        };
        self.uc.get_data_mut().console.flush();
        let mut stop = stop;
        if let Some(pc) = stop.pc() {
            stop.set_symbol(
                self.firmware
                    .function_at(pc.0)
                    .map(|f| format!("{}+{:#x}", mcusim_traces::demangle(&f.name), pc.0 - f.addr)),
            );
        }
        let st = self.uc.get_data();
        RunResult {
            stop,
            instructions: st.instructions,
            cycles: st.clock,
            sleep_cycles: st.breakdown.sleep,
            breakdown: st.breakdown,
            exceptions: st.exceptions,
            resets: st.resets,
        }
    }

    /// Parks the per-instruction hooks idle since the previous sweep (see
    /// [`Machine::set_hook_sweep`]).
    fn park_idle_hooks(&mut self) {
        let st = self.uc.get_data_mut();
        let idle_since = st.instructions.saturating_sub(st.sweep_every);
        let mut hooks = Vec::new();
        for (&pc, n) in &mut st.narrow {
            if n.last_hit < idle_since
                && let Some(h) = n.hook.take()
            {
                hooks.push((pc, h));
            }
        }
        for (&pc, site) in &mut st.flash_sites {
            if site.last_hit < idle_since
                && let Some(h) = site.hook.take()
            {
                site.parked = true;
                hooks.push((pc, h));
            }
        }
        if hooks.is_empty() {
            return;
        }
        st.parked.extend(hooks.iter().map(|&(pc, _)| pc));
        for block in &mut st.blocks {
            block.parked = holds_any(block, &st.parked);
        }
        for (pc, hook) in hooks {
            let _ = self.uc.remove_hook(hook);
            let _ = self.uc.ctl_remove_cache(u64::from(pc), u64::from(pc) + 4);
        }
    }

    /// Whether the core is stuck (see [`LimitKind::Stuck`]): the block about to run loops to
    /// itself, stores nothing, and since the last check only it ran, with the same registers
    /// at its start, no peripheral access and no exception, while no interrupt is pending or
    /// can ever become so. Checked every `STUCK_EVERY` instructions at a block boundary.
    fn stuck(&mut self, pc: u32) -> Option<StopReason> {
        let st = self.uc.get_data();
        let key = st.sweep_key;
        let b = *st.block_index.get(&key)?;
        let block = &st.blocks[b as usize];
        if !block.self_loop || block.write_bytes > 0 {
            self.uc.get_data_mut().stuck = None;
            return None;
        }
        let (n, executions) = (u64::from(block.n), block.executions);
        // A loop whose registers come back the same, which stores nothing and sees no
        // interrupt, can never leave.
        let mut regs = [0u32; 17];
        for (i, r) in GPR.iter().chain([&RegisterARM::XPSR]).enumerate() {
            regs[i] = reg(&self.uc, *r);
        }
        let st = self.uc.get_data_mut();
        let now = StuckWatch {
            key,
            regs,
            executions,
            instructions: st.instructions,
            exceptions: st.exceptions,
            mmio_bytes: st.traffic.mmio_read_bytes + st.traffic.mmio_write_bytes,
        };
        let before = st.stuck.replace(now.clone())?;
        let only_this_block = now.executions.saturating_sub(before.executions) * n
            == now.instructions - before.instructions;
        let nothing_can_interrupt =
            st.scs.nvic.highest_pending().is_none() && st.next_event.0 == u64::MAX;
        (before.key == now.key
            && before.regs == now.regs
            && before.exceptions == now.exceptions
            && before.mmio_bytes == now.mmio_bytes
            && only_this_block
            && nothing_can_interrupt)
            .then(|| limit_stop(st, LimitKind::Stuck, pc))
    }

    /// Every translated block so far, as (start address, its code, executions), sorted by
    /// address: the execution counts per basic block that hot-loop views are built from.
    /// Every executed block's start, length in bytes, instructions, executions and the issue
    /// cycles one execution costs (the block cost table's: without refills, waits and stalls
    /// that depend on what ran before), sorted by address. Blocks unicorn split or re-translated
    /// appear once per variant.
    pub fn block_profile(&self) -> Vec<mcusim_traces::BlockCount> {
        let st = self.uc.get_data();
        // What the clock gained after the last block's cost (its extras, a final sleep).
        let tail = st.clock.0.saturating_sub(st.accounted + st.carry);
        let mut v: Vec<mcusim_traces::BlockCount> = st
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| b.executions > 0)
            .map(|(id, b)| mcusim_traces::BlockCount {
                id: id as u32,
                start: b.start,
                bytes: b.code.len() as u32,
                instructions: b.n,
                executions: b.executions,
                cycles: b.cycles
                    + if st.last_block == Some(id as u32) {
                        tail
                    } else {
                        0
                    },
                cycles_each: u64::from(b.total),
                insn_cycles: b.prefix.windows(2).map(|w| w[1] - w[0]).collect(),
                insn_offsets: b.offsets.to_vec(),
            })
            .collect();
        v.sort_unstable_by_key(|b| (b.start, b.bytes));
        v
    }

    pub fn blocks(&self) -> Vec<(u32, Vec<u8>, u64)> {
        let mut v: Vec<_> = self
            .uc
            .get_data()
            .blocks
            .iter()
            .map(|b| (b.start, b.code.to_vec(), b.executions))
            .collect();
        v.sort_unstable();
        v
    }
}

fn limit_stop(st: &State, kind: LimitKind, pc: u32) -> StopReason {
    let limit = match kind {
        LimitKind::Instructions => st.instruction_budget,
        LimitKind::Cycles => st.cycle_budget,
        LimitKind::SleepForever | LimitKind::Stuck => 0,
        LimitKind::Cancelled => st.instructions,
    };
    StopReason::Limit {
        kind,
        pc: Addr(pc),
        limit,
        symbol: None,
    }
}

/// WFI/WFE: jump the clock to the next event, counting the time as sleep.
fn sleep(st: &mut State, kind: thumb::Hint, pc: u32) -> Option<StopReason> {
    if kind == thumb::Hint::Wfe && std::mem::take(&mut st.event) {
        return None;
    }
    loop {
        // A pending enabled exception wakes the core even while PRIMASK masks it
        // (Armv7-M ARM B1.5.19).
        if st.scs.nvic.highest_pending().is_some() {
            return None;
        }
        if st.next_event.0 == u64::MAX {
            return Some(StopReason::Limit {
                kind: LimitKind::SleepForever,
                pc: Addr(pc),
                limit: 0,
                symbol: None,
            });
        }
        let wake = st.next_event.max(st.clock);
        if wake.0 > st.cycle_budget {
            let slept = Cycles(st.cycle_budget.saturating_sub(st.clock.0));
            st.breakdown.sleep += slept;
            st.clock += slept;
            return Some(limit_stop(st, LimitKind::Cycles, pc));
        }
        st.breakdown.sleep += wake - st.clock;
        st.clock = wake;
        st.service_events();
        if kind == thumb::Hint::Wfe && std::mem::take(&mut st.event) {
            return None;
        }
    }
}

fn classify_error(st: &mut State, e: uc_error, pc: u32, sp: u32) -> StopReason {
    let fault = st.mem_fault.take();
    let (kind, address, message) = match (e, fault) {
        (uc_error::INSN_INVALID, _) => (
            FaultKind::Undefined,
            None,
            format!("undefined or unsupported instruction for {}", st.core),
        ),
        (_, Some(f)) => {
            let what = match f.access {
                MemType::READ | MemType::READ_UNMAPPED | MemType::READ_PROT => "read",
                MemType::WRITE | MemType::WRITE_UNMAPPED | MemType::WRITE_PROT => "write",
                _ => "instruction fetch",
            };
            let below_ram = u64::from(f.address) < st.ram.start
                && u64::from(f.address) + 0x1000 >= st.ram.start
                && u64::from(sp) <= st.ram.start + 0x40;
            match f.access {
                MemType::WRITE_UNMAPPED if below_ram => (
                    FaultKind::StackOverflow,
                    Some(f.address),
                    format!(
                        "write at {:#010x}, below the lowest RAM address {:#010x} (sp {sp:#010x})",
                        f.address, st.ram.start
                    ),
                ),
                MemType::READ_UNMAPPED | MemType::WRITE_UNMAPPED | MemType::FETCH_UNMAPPED => (
                    FaultKind::Unmapped,
                    Some(f.address),
                    format!("{what} of unmapped address {:#010x}", f.address),
                ),
                MemType::WRITE_PROT => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!("write to read-only memory at {:#010x}", f.address),
                ),
                MemType::FETCH_PROT => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!(
                        "instruction fetch from non-executable memory at {:#010x}",
                        f.address
                    ),
                ),
                _ => (
                    FaultKind::Protection,
                    Some(f.address),
                    format!("{what} not permitted at {:#010x}", f.address),
                ),
            }
        }
        (uc_error::FETCH_UNMAPPED, None) => (
            FaultKind::Unmapped,
            Some(pc),
            format!("instruction fetch from unmapped address {pc:#010x}"),
        ),
        (other, None) => (FaultKind::Other, None, format!("emulator error {other:?}")),
    };
    StopReason::Fault {
        kind,
        pc: Addr(pc),
        address: address.map(Addr),
        message,
        symbol: None,
    }
}

fn map_ppb(uc: &mut Uc<'_>) -> Result<(), uc_error> {
    let base = 0xE000_0000u32;
    uc.mmio_map(
        u64::from(base),
        0x10_0000,
        Some(move |uc: &mut Uc<'_>, off: u64, size: usize| {
            let addr = base + off as u32;
            let now = access_time(uc, addr);
            uc.get_data_mut().traffic.mmio_read_bytes += size as u64;
            let ipsr = reg(uc, RegisterARM::IPSR);
            let st = uc.get_data_mut();
            let v = st.scs.read(addr, size, now, ipsr);
            st.recompute_next_event();
            u64::from(v)
        }),
        Some(move |uc: &mut Uc<'_>, off: u64, size: usize, value: u64| {
            let addr = base + off as u32;
            let now = access_time(uc, addr);
            uc.get_data_mut().traffic.mmio_write_bytes += size as u64;
            let st = uc.get_data_mut();
            match st.scs.write(addr, size, value as u32, now) {
                Some(PpbAction::Itm { bytes, len, .. }) => {
                    st.output(Stream::Stdout, &bytes[..usize::from(len)]);
                }
                Some(PpbAction::SystemReset) => {
                    st.request = Some(Request::Reset);
                    let _ = uc.emu_stop();
                    return;
                }
                None => {}
            }
            st.recompute_next_event();
        }),
    )
}

/// Map the board's peripherals, one MMIO range per run of 4 KiB pages they occupy. Addresses
/// in those pages outside any register block read as zero and ignore writes (reserved space);
/// everything else in an `mmio` region is unmapped and faults.
fn map_peripherals(uc: &mut Uc<'_>, board: &Board) -> Result<(), uc_error> {
    let page = |a: u64| a & !0xFFF;
    let mut pages: Vec<(u64, u64)> = Vec::new();
    let mut blocks: Vec<_> = board
        .peripherals()
        .iter()
        .map(|p| (page(p.base), page(p.end() + 0xFFF)))
        .collect();
    blocks.sort_unstable();
    for (start, end) in blocks {
        match pages.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => pages.push((start, end)),
        }
    }
    for (start, end) in pages {
        let base = start as u32;
        uc.mmio_map(
            start,
            end - start,
            Some(move |uc: &mut Uc<'_>, off: u64, size: usize| {
                let addr = base + off as u32;
                let now = access_time(uc, addr);
                uc.get_data_mut().traffic.mmio_read_bytes += size as u64;
                let st = uc.get_data_mut();
                let Some(p) = st.peripheral_at(addr, now) else {
                    return 0;
                };
                let v = p.model.read(addr - p.base, size, now);
                st.peripherals_changed();
                u64::from(v)
            }),
            Some(move |uc: &mut Uc<'_>, off: u64, size: usize, value: u64| {
                let addr = base + off as u32;
                let now = access_time(uc, addr);
                uc.get_data_mut().traffic.mmio_write_bytes += size as u64;
                let st = uc.get_data_mut();
                let mut out = Vec::new();
                let Some(p) = st.peripheral_at(addr, now) else {
                    return;
                };
                p.model
                    .write(addr - p.base, size, value as u32, now, &mut out);
                st.output(Stream::Stdout, &out);
                st.peripherals_changed();
            }),
        )?;
    }
    Ok(())
}

/// The simulated time of an MMIO access made by the current block: the clock at block entry
/// plus the cost of the instructions before the one that made it. unicorn does not keep the
/// PC up to date inside a block, so the instruction is found by decoding the block's loads and
/// stores and matching their addresses, computed from the register file, against `addr`.
/// Falls back to block entry if no instruction matches.
fn access_time(uc: &mut Uc<'_>, addr: u32) -> Cycles {
    let found = {
        let st = uc.get_data();
        let Some(b) = st.current else { return st.clock };
        let block = &st.blocks[b as usize];
        let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
        let span = |i: usize| {
            let off = usize::from(block.offsets[i]);
            thumb::data_access(&block.code[off..block.code.len().min(off + 4)], regs)
        };
        // An LDM/LDRD makes several accesses at rising addresses: a continuation belongs to the
        // instruction that made the previous one. Otherwise the access comes from a later one.
        let continuation = st
            .mmio_last
            .filter(|&(i, prev)| addr > prev && span(i).is_some_and(|r| r.contains(&addr)))
            .map(|(i, _)| i);
        let first = st.mmio_last.map_or(0, |(i, _)| i + 1);
        continuation
            .or_else(|| (first..block.len()).find(|&i| span(i).is_some_and(|r| r.contains(&addr))))
            .map(|i| {
                // A stall (address dependency, load-use) happens before the access.
                let stall = block.stall_prefix[i + 1] - block.stall_prefix[i];
                (
                    i,
                    st.current_entry + Cycles(u64::from(block.prefix[i] + stall)),
                )
            })
    };
    let st = uc.get_data_mut();
    match found {
        Some((i, t)) => {
            st.mmio_last = Some((i, addr));
            t
        }
        None => st.current_entry,
    }
}

fn install_hooks(uc: &mut Uc<'_>) -> Result<(), uc_error> {
    uc.add_block_hook(1, 0, on_block)?;
    uc.add_intr_hook(on_interrupt)?;
    uc.add_mem_hook(
        HookType::MEM_UNMAPPED | HookType::MEM_PROT,
        1,
        0,
        |uc: &mut Uc<'_>, access: MemType, address: u64, _size: usize, _value: i64| {
            uc.get_data_mut().mem_fault = Some(MemFault {
                access,
                address: address as u32,
            });
            false
        },
    )?;
    Ok(())
}

/// The hot path: once per executed block.
fn on_block(uc: &mut Uc<'_>, addr: u64, size: u32) {
    let st = uc.get_data_mut();
    if st.instructions >= st.progress_at && !st.final_stretch {
        // Back to the run loop before this block runs, which reports and comes back here.
        st.request = Some(Request::Progress);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if !st.retire.is_empty() {
        // Hooks cannot be removed from inside the emulation: stop before this block, let the
        // run loop remove them, and come back here.
        st.request = Some(Request::RetireFlashSites);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if st.instructions >= st.next_sweep && !st.final_stretch {
        st.request = Some(Request::Sweep);
        st.sweep_key = addr << 32 | u64::from(size);
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    if st.clock >= st.next_event {
        st.service_events();
    }
    if st.scs.nvic.any_pending() && take_exception(uc, addr as u32) {
        return;
    }
    let st = uc.get_data_mut();
    let key = addr << 32 | u64::from(size);
    // A small direct-mapped table in front of the hash map: a hot loop's blocks hit it.
    let slot = ((addr >> 1) ^ (addr >> 11)) as usize & (RECENT_BLOCKS - 1);
    let recent = st.recent[slot];
    let b = match (recent.0 == key)
        .then_some(recent.1)
        .or_else(|| st.block_index.get(&key).copied())
    {
        Some(b) => {
            st.recent[slot] = (key, b);
            b
        }
        None => {
            let code = uc.mem_read_as_vec(addr, size as usize).unwrap_or_default();
            let offsets = thumb::instruction_offsets(&code);
            let mut align = Vec::new();
            if hook_narrow_checks(uc, addr as u32, &code, &offsets, &mut align) {
                // The block is translated again with the checks; it has not run yet.
                return;
            }
            let st = uc.get_data_mut();
            let cost = if st.timing_on {
                timing::block_cost(&st.timing, addr as u32, &code, &offsets)
            } else {
                timing::functional_cost(offsets.len())
            };
            let (fetch, literals) = match &st.flash {
                Some(flash) if st.timing_on => (
                    flash.block(addr as u32, &offsets, &cost.prefix),
                    offsets
                        .iter()
                        .filter_map(|&o| {
                            let o = usize::from(o);
                            thumb::literal_access(
                                &code[o..code.len().min(o + 4)],
                                addr as u32 + o as u32,
                            )
                        })
                        .filter(|span| flash.contains(span.start))
                        .collect(),
                ),
                _ => (None, Box::default()),
            };
            let n = offsets.len() as u32;
            // Loads already learned in another block holding them (a branch into the middle of
            // a block translates a new one).
            let learned: Vec<u32> = if st.learned.is_empty() {
                Vec::new()
            } else {
                offsets
                    .iter()
                    .map(|&o| addr as u32 + u32::from(o))
                    .filter(|pc| st.learned.contains_key(pc))
                    .collect()
            };
            let (read_bytes, write_bytes) = timing::data_bytes(&code, &offsets);
            let self_loop = offsets.last().and_then(|&o| {
                thumb::branch_target(&code[usize::from(o)..], addr as u32 + u32::from(o))
            }) == Some(addr as u32);
            let exit = match (offsets.last(), &st.calls) {
                (Some(&o), Some(calls)) => calls.classify(
                    &code[usize::from(o)..],
                    addr as u32 + u32::from(o),
                    addr as u32 + size,
                ),
                _ => Exit::Plain,
            };
            st.blocks.push(Block {
                n,
                total: cost.prefix[offsets.len()],
                stall: cost.stall_prefix[offsets.len()],
                extras: fetch.is_some() || !literals.is_empty() || !learned.is_empty(),
                learned,
                parked: false,
                fetch,
                literals,
                start: addr as u32,
                probe: st.probes.get(&(addr as u32)).copied(),
                align,
                code: code.into_boxed_slice(),
                offsets: offsets.into_boxed_slice(),
                prefix: cost.prefix,
                stall_prefix: cost.stall_prefix,
                ends_in_branch: cost.ends_in_branch,
                refill: cost.refill,
                first_wide_unaligned: cost.first_wide_unaligned,
                exit,
                self_loop,
                read_bytes,
                write_bytes,
                executions: 0,
                cycles: 0,
            });
            if let Some(block) = st.blocks.last_mut() {
                block.parked = holds_any(block, &st.parked);
            }
            let b = (st.blocks.len() - 1) as u32;
            st.block_index.insert(key, b);
            b
        }
    };
    let st = uc.get_data_mut();
    if st.final_stretch && st.instructions >= st.instruction_budget {
        // Safety net: the counted run must not go past the budget.
        let _ = uc.emu_stop();
        return;
    }
    if st.blocks[b as usize].parked {
        unpark(uc, b);
        return;
    }
    if !st.blocks[b as usize].align.is_empty() && misaligned_access_ahead(uc, b) {
        return;
    }
    let st = uc.get_data_mut();
    if st.blocks[b as usize].learned.iter().any(|pc| {
        st.learned
            .get(pc)
            .is_some_and(|l| l.executions >= l.check_after)
    }) {
        rewatch_learned_loads(uc, b);
        return;
    }
    // The stack pointer, for the call tracker at a call's entry or an unexpected return.
    let sp = match &uc.get_data().calls {
        Some(calls) if calls.needs_sp(addr as u32) => reg(uc, RegisterARM::SP),
        _ => 0,
    };
    // A probed function's entry: its first argument, read only for these rare blocks.
    let probe = uc.get_data().blocks[b as usize].probe;
    let (arg0, stack_low) = match probe {
        Some(p) => {
            // Fills asked for at this entry (`Machine::fill_on_entry`); idempotent, so a block
            // restarted after this point fills again harmlessly.
            let fills: Vec<(u32, u32, u8)> = uc
                .get_data()
                .entry_fills
                .iter()
                .filter(|f| f.0 == p)
                .map(|f| (f.1, f.2, f.3))
                .collect();
            for (addr, len, byte) in fills {
                let _ = uc.mem_write(u64::from(addr), &vec![byte; len as usize]);
            }
            (
                uc.reg_read(RegisterARM::R0).unwrap_or(0) as u32,
                stack_low_water(uc),
            )
        }
        None => (0, None),
    };
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let n = u64::from(block.n);
    let cost = u64::from(block.total);
    let stall = u64::from(block.stall);
    let ends_in_branch = block.ends_in_branch.then_some(block.refill);
    // A taken branch into this block: the pipeline refills (dynamic, so charged here).
    let refill = match st.branch_from {
        Some((fall_through, refill)) if fall_through != addr as u32 => u64::from(
            refill
                + if block.first_wide_unaligned {
                    st.timing.refill_unaligned_wide
                } else {
                    0
                },
        ),
        _ => 0,
    };
    // Instruction fetch waits, taken as happening when the block starts. Computed before the
    // limit check so a cycle limit includes them (a block stopped by the limit has already
    // filled the cache; when it then runs, its fetch is cheaper by that much).
    let wait = match &mut st.flash {
        Some(flash) if block.extras => {
            let fetch = block.fetch.as_mut().map_or(0, |f| flash.charge(f));
            let data: u32 = block
                .literals
                .iter()
                .map(|span| flash.data_read(span.clone()))
                .sum();
            let mut learned = 0;
            for pc in &block.learned {
                if let Some(l) = st.learned.get_mut(pc) {
                    l.executions += 1;
                    learned += flash.data_read(l.predictor.next_span());
                }
            }
            u64::from(fetch + data + learned)
        }
        _ => 0,
    };
    if !st.final_stretch
        && (st.instructions + n > st.instruction_budget
            || st.clock.0 + refill + wait + cost > st.cycle_budget)
    {
        let by_instr = st.instruction_budget.saturating_sub(st.instructions);
        let left = st.cycle_budget.saturating_sub(st.clock.0 + refill + wait);
        let by_cycles = block.prefix.partition_point(|p| u64::from(*p) <= left) as u64 - 1;
        let (k, kind) = if by_instr <= by_cycles {
            (by_instr, LimitKind::Instructions)
        } else {
            (by_cycles, LimitKind::Cycles)
        };
        st.request = Some(if k == 0 {
            Request::LimitNow(kind)
        } else {
            Request::FinalStretch(k, kind)
        });
        st.current = None;
        let _ = uc.emu_stop();
        return;
    }
    block.executions += 1;
    let (exit, read_bytes, write_bytes) = (block.exit, block.read_bytes, block.write_bytes);
    // What the clock gained since the last block's cost is that block's (its mid-block
    // extras, a sleep after it), and so are this block's refill and fetch waits: the branch
    // into it pays them, and the layer and call boundaries, taken after them, then fall where
    // the blocks' cycles do. An exception entry's cycles are the handler's, this block's.
    let gap = st.clock.0.saturating_sub(st.accounted + st.carry);
    let carry = std::mem::take(&mut st.carry);
    match st.last_block {
        Some(prev) if carry == 0 => st.blocks[prev as usize].cycles += gap + refill + wait,
        Some(prev) => {
            st.blocks[prev as usize].cycles += gap;
            st.blocks[b as usize].cycles += carry + refill + wait;
        }
        None => st.blocks[b as usize].cycles += gap + carry + refill + wait,
    }
    st.branch_from = ends_in_branch.map(|refill| (addr as u32 + size, refill));
    st.clock += Cycles(refill + wait);
    st.breakdown.branch += Cycles(refill);
    st.breakdown.memory += Cycles(wait);
    st.current = Some(b);
    st.current_entry = st.clock;
    st.mmio_last = None;
    let traffic = Traffic {
        flash_read_bytes: st.flash.as_ref().map_or(0, |f| f.data_bytes),
        ..st.traffic
    };
    if let Some(probe) = probe {
        let hit = ProbeHit {
            probe,
            cycle: st.clock,
            instructions: st.instructions,
            arg0,
            breakdown: st.breakdown,
            stack_low,
            traffic,
        };
        st.record_hit(hit);
    }
    let watch = match &mut st.calls {
        Some(calls) => {
            let event = calls.block(addr as u32, st.clock, st.instructions, sp);
            calls.pending = exit;
            event
        }
        None => None,
    };
    let (at, instructions, breakdown) = (st.clock, st.instructions, st.breakdown);
    st.clock += Cycles(cost);
    st.breakdown.execute += Cycles(cost - stall);
    st.breakdown.stall += Cycles(stall);
    st.instructions += n;
    st.traffic.read_bytes += u64::from(read_bytes);
    st.traffic.write_bytes += u64::from(write_bytes);
    if let Some((probe, function)) = watch {
        // Rare (a top-level kernel call or its return): the stack reading can wait until here.
        record_watched_hit(uc, probe, function, (at, instructions, breakdown, traffic));
    }
    // The block's cost, after any hit at its start was recorded.
    let st = uc.get_data_mut();
    st.blocks[b as usize].cycles += cost;
    st.accounted = st.clock.0;
    st.last_block = Some(b);
}

/// Instructions whose cost or behaviour depends on operands the block hook cannot see get a
/// code hook of their own, added the first time their block is seen (the block's translation
/// is dropped and the block restarted, so only these instructions pay a callback):
/// - LDM/STM/LDRD/STRD on Armv7-M and Armv8-M, which fault when unaligned and which unicorn
///   (QEMU 5) does not check (Armv6-M needs nothing: QEMU faults every unaligned access there);
/// - SDIV/UDIV, whose early termination depends on the operands (`timing::divide_extra`).
///
/// True if the block was restarted.
fn hook_narrow_checks(
    uc: &mut Uc<'_>,
    start: u32,
    code: &[u8],
    offsets: &[u16],
    checks: &mut Vec<AlignCheck>,
) -> bool {
    let (v6m, timing_on, flash_data) = {
        let st = uc.get_data();
        (
            st.core.is_armv6m(),
            st.timing_on,
            st.timing_on && st.flash.is_some(),
        )
    };
    let mut added = false;
    // Each register's value as its value at block entry plus a constant, while that holds.
    let mut known: [Option<i32>; 16] = [Some(0); 16];
    for &off in offsets {
        let off = usize::from(off);
        let insn: Box<[u8]> = code[off..code.len().min(off + 4)].into();
        let at = start + off as u32;
        let decoded = timing::decode::decode(&insn);
        let before = known;
        let update = thumb::base_update(&insn);
        for (r, k) in known.iter_mut().enumerate() {
            if decoded.writes & (1 << r) != 0 {
                *k = match (update, *k) {
                    (Some((ur, delta)), Some(v)) if usize::from(ur) == r => {
                        Some(v.wrapping_add(delta))
                    }
                    _ => None,
                };
            }
        }
        if flash_data && may_read_flash(&insn) && !uc.get_data().flash_sites.contains_key(&at) {
            let hook = watch_flash_load(uc, at, &insn);
            let last_hit = uc.get_data().instructions;
            added |= hook.is_some();
            uc.get_data_mut().flash_sites.insert(
                at,
                FlashSite {
                    hook,
                    insn: insn.clone(),
                    ram_reads: 0,
                    flash_reads: 0,
                    samples: Vec::new(),
                    len: 0,
                    window: LEARN_SAMPLES,
                    trust: 8 * LEARN_SAMPLES as u32,
                    predicted: None,
                    agreed: 0,
                    last_hit,
                    parked: false,
                },
            );
        }
        if v6m {
            continue;
        }
        let align = thumb::requires_word_alignment(&insn);
        let divide = timing_on && decoded.class == timing::decode::Class::Div;
        if align && !uc.get_data().narrow.contains_key(&at) {
            let regs: Option<Vec<(u16, i32)>> = (0..16u16)
                .filter(|r| decoded.addr & (1 << r) != 0)
                .map(|r| before[usize::from(r)].map(|k| (r, k)))
                .collect();
            if let Some(regs) = regs.filter(|regs| !regs.is_empty()) {
                checks.push(AlignCheck { at, insn, regs });
                continue;
            }
        }
        if !(align || divide) || uc.get_data().narrow.contains_key(&at) {
            continue;
        }
        let hook = add_narrow_hook(uc, at, !align, insn.clone());
        added |= hook.is_some();
        let last_hit = uc.get_data().instructions;
        uc.get_data_mut().narrow.insert(
            at,
            Narrow {
                hook,
                divide: !align,
                insn,
                last_hit,
            },
        );
    }
    if added {
        let end = u64::from(start) + code.len() as u64;
        let _ = uc.ctl_remove_cache(u64::from(start), end);
        set_reg(uc, RegisterARM::PC, start | 1);
    }
    added
}

/// Whether a load may read flash data through a register: single, doubleword and multiple
/// loads whose base is not the SP (the stack is in RAM) or the PC (literal loads are costed
/// statically).
fn may_read_flash(insn: &[u8]) -> bool {
    use timing::decode::Class;
    let d = timing::decode::decode(insn);
    matches!(
        d.class,
        Class::Load | Class::LoadDouble | Class::LoadMultiple(_)
    ) && d.addr & (1 << 13 | 1 << 15) == 0
        && d.addr != 0
}

/// Hook one load so its flash reads are charged (and its pattern learned).
fn watch_flash_load(uc: &mut Uc<'_>, at: u32, insn: &[u8]) -> Option<unicorn_engine::UcHookId> {
    let watched: Box<[u8]> = insn.into();
    uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
        charge_flash_load(uc, pc as u32, &watched);
    })
    .ok()
}

/// A block's learned loads have run long enough on their prediction: watch them again for a
/// while (their pattern may have changed), restarting the block with the hooks in place.
fn rewatch_learned_loads(uc: &mut Uc<'_>, b: u32) {
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let stale: Vec<u32> = block.learned.drain(..).collect();
    block.extras = block.fetch.is_some() || !block.literals.is_empty();
    for pc in stale {
        // Other blocks holding the same load predict it no more either.
        let st = uc.get_data_mut();
        let Some(predicted) = st.learned.remove(&pc).map(|l| l.predictor) else {
            continue;
        };
        for other in &mut st.blocks {
            other.learned.retain(|&l| l != pc);
            other.extras =
                other.fetch.is_some() || !other.literals.is_empty() || !other.learned.is_empty();
        }
        let Some(insn) = uc.get_data_mut().flash_sites.get_mut(&pc).map(|site| {
            site.samples.clear();
            site.predicted = Some(predicted);
            site.agreed = 0;
            site.insn.clone()
        }) else {
            continue;
        };
        let hook = watch_flash_load(uc, pc, &insn);
        if let Some(site) = uc.get_data_mut().flash_sites.get_mut(&pc) {
            site.hook = hook;
        }
    }
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
}

/// Records a hit of a watched call or return (see `CallTracker`) with the counters taken
/// when it happened, and the stack's low-water mark since the previous hit.
fn record_watched_hit(
    uc: &mut Uc<'_>,
    probe: ProbeId,
    function: u32,
    (cycle, instructions, breakdown, traffic): (Cycles, u64, timing::Breakdown, Traffic),
) {
    let stack_low = stack_low_water(uc);
    uc.get_data_mut().record_hit(ProbeHit {
        probe,
        cycle,
        instructions,
        arg0: function,
        breakdown,
        stack_low,
        traffic,
    });
}

/// At a probe hit, with a stack region watched: the lowest address of it written since the
/// previous hit (or since the run began), found as the first byte that is no longer the fill
/// byte; then the region below the current stack pointer is filled again, so the next hit sees
/// only what ran in between. The region below SP holds nothing live.
fn stack_low_water(uc: &mut Uc<'_>) -> Option<u32> {
    let (lo, hi, fill) = stack_region(uc)?;
    let sp = (uc.reg_read(RegisterARM::SP).unwrap_or(u64::from(hi)) as u32).clamp(lo, hi);
    let low = lowest_written(uc, lo, hi, fill)?;
    // Nothing below `low` needs filling again.
    let buf = [fill; SCAN_CHUNK as usize];
    let mut at = low;
    while at < sp {
        let n = (sp - at).min(SCAN_CHUNK);
        let _ = uc.mem_write(u64::from(at), &buf[..n as usize]);
        at += n;
    }
    Some(low)
}

/// The watched stack region, from above the heap's highest break, and its fill byte.
fn stack_region(uc: &Uc<'_>) -> Option<(u32, u32, u8)> {
    let (lo, hi, fill) = uc.get_data().stack_watch?;
    let lo = heap_top(uc.get_data().heap_peak_at, lo, hi, |a| {
        let mut b = [0u8; 4];
        uc.mem_read(u64::from(a), &mut b).ok()?;
        Some(u32::from_le_bytes(b))
    });
    Some((lo, hi, fill))
}

/// Bytes read at a time when scanning the stack region.
const SCAN_CHUNK: u32 = 4096;

/// The lowest address in `lo..hi` that no longer holds `fill` (`hi` if none), read upwards a
/// chunk at a time: the stack is usually a small part of the region.
fn lowest_written(uc: &Uc<'_>, lo: u32, hi: u32, fill: u8) -> Option<u32> {
    let mut buf = [0u8; SCAN_CHUNK as usize];
    let mut low = lo;
    while low < hi {
        let n = (hi - low).min(SCAN_CHUNK);
        let chunk = &mut buf[..n as usize];
        uc.mem_read(u64::from(low), chunk).ok()?;
        if let Some(i) = first_other(chunk, fill) {
            return Some(low + i as u32);
        }
        low += n;
    }
    Some(hi)
}

/// The index of the first byte of `bytes` that is not `fill`, eight at a time.
fn first_other(bytes: &[u8], fill: u8) -> Option<usize> {
    let word = [fill; 8];
    let clean = bytes.chunks_exact(8).take_while(|w| *w == word).count() * 8;
    bytes[clean..]
        .iter()
        .position(|&b| b != fill)
        .map(|i| clean + i)
}

/// The lowest address of the watched region above the heap: the firmware's highest heap break,
/// kept within `lo..=hi`.
fn heap_top(peak_at: Option<u32>, lo: u32, hi: u32, read: impl Fn(u32) -> Option<u32>) -> u32 {
    peak_at.and_then(read).map_or(lo, |brk| brk.clamp(lo, hi))
}

/// Hooks one instruction for an operand check: an alignment check, or a divide's early
/// termination.
fn add_narrow_hook(
    uc: &mut Uc<'_>,
    at: u32,
    divide: bool,
    insn: Box<[u8]>,
) -> Option<unicorn_engine::UcHookId> {
    let hooked = if divide {
        uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
            charge_divide(uc, pc as u32, &insn);
        })
    } else {
        uc.add_code_hook(u64::from(at), u64::from(at), move |uc, pc, _size| {
            check_alignment(uc, pc as u32, &insn);
        })
    };
    hooked.ok()
}

/// Whether a block holds one of `pcs`.
fn holds_any(block: &Block, pcs: &rustc_hash::FxHashSet<u32>) -> bool {
    !pcs.is_empty()
        && block
            .offsets
            .iter()
            .any(|&o| pcs.contains(&(block.start + u32::from(o))))
}

/// A block about to run holds instructions whose hooks were parked: put them back and restart
/// the block, so they run hooked (the block has not been charged yet).
fn unpark(uc: &mut Uc<'_>, b: u32) {
    let st = uc.get_data_mut();
    let block = &st.blocks[b as usize];
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let pcs: Vec<u32> = block
        .offsets
        .iter()
        .map(|&o| start + u32::from(o))
        .filter(|pc| st.parked.remove(pc))
        .collect();
    let now = st.instructions;
    for pc in pcs {
        let narrow = uc
            .get_data()
            .narrow
            .get(&pc)
            .filter(|n| n.hook.is_none())
            .map(|n| (n.divide, n.insn.clone()));
        if let Some((divide, insn)) = narrow {
            let hook = add_narrow_hook(uc, pc, divide, insn);
            if let Some(n) = uc.get_data_mut().narrow.get_mut(&pc) {
                n.hook = hook;
                n.last_hit = now;
            }
        }
        let site = uc
            .get_data()
            .flash_sites
            .get(&pc)
            .filter(|site| site.parked)
            .map(|site| site.insn.clone());
        if let Some(insn) = site {
            let hook = watch_flash_load(uc, pc, &insn);
            if let Some(site) = uc.get_data_mut().flash_sites.get_mut(&pc) {
                site.hook = hook;
                site.parked = false;
                site.last_hit = now;
            }
        }
    }
    let st = uc.get_data_mut();
    for block in &mut st.blocks {
        if block.parked {
            block.parked = holds_any(block, &st.parked);
        }
    }
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
}

/// Runs a block's alignment checks with the registers at its entry. If one fails, that
/// instruction gets its own hook (which raises the fault at it) and the block restarts: true.
fn misaligned_access_ahead(uc: &mut Uc<'_>, b: u32) -> bool {
    let failed = {
        let st = uc.get_data();
        let block = &st.blocks[b as usize];
        block.align.iter().position(|c| {
            let regs = |r: u16| {
                let offset = c
                    .regs
                    .iter()
                    .find(|(reg_index, _)| *reg_index == r & 15)
                    .map_or(0, |x| x.1);
                reg(uc, GPR[usize::from(r & 15)]).wrapping_add(offset as u32)
            };
            thumb::data_access(&c.insn, regs).is_some_and(|span| span.start % 4 != 0)
        })
    };
    let Some(i) = failed else { return false };
    let st = uc.get_data_mut();
    let block = &mut st.blocks[b as usize];
    let check = block.align.remove(i);
    let (start, end) = (block.start, block.start + block.code.len() as u32);
    let last_hit = st.instructions;
    let hook = add_narrow_hook(uc, check.at, false, check.insn.clone());
    uc.get_data_mut().narrow.insert(
        check.at,
        Narrow {
            hook,
            divide: false,
            insn: check.insn,
            last_hit,
        },
    );
    let _ = uc.ctl_remove_cache(u64::from(start), u64::from(end));
    set_reg(uc, RegisterARM::PC, start | 1);
    true
}

/// A watched load: charge the flash wait states of what it reads; once it has shown it reads
/// only RAM, or its flash addresses follow a pattern, have its hook retired.
fn charge_flash_load(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
    let Some(span) = thumb::data_access(insn, regs) else {
        return;
    };
    let st = uc.get_data_mut();
    let Some(flash) = st.flash.as_mut() else {
        return;
    };
    let in_flash = flash.contains(span.start);
    if in_flash {
        let wait = Cycles(u64::from(flash.data_read(span.clone())));
        st.clock += wait;
        st.breakdown.memory += wait;
    }
    let now = st.instructions;
    if let Some(site) = st.flash_sites.get_mut(&pc) {
        site.last_hit = now;
        if in_flash {
            site.flash_reads += 1;
            if !st.exact_flash && site.hook.is_some() {
                // Check the prediction that ran until now: if it holds, go on with it and trust
                // it longer; if not, learn again from more samples.
                if let Some(mut predicted) = site.predicted.take() {
                    if predicted.next_span().start == span.start {
                        site.agreed += 1;
                        if site.agreed < CHECK_READS {
                            site.predicted = Some(predicted);
                        } else {
                            site.trust = (site.trust * 2).min(TRUST_MAX);
                            st.learned_new.push((pc, predicted));
                            st.retire.push(pc);
                        }
                        return;
                    }
                    site.window = (site.window * 2).min(LEARN_SAMPLES_MAX);
                    site.trust = 8 * site.window as u32;
                }
                site.len = span.end - span.start;
                site.samples.push(span.start);
                if site.samples.len() >= site.window {
                    match timing::stride::Predictor::learn(&site.samples, site.len) {
                        Some(predictor) => {
                            st.learned_new.push((pc, predictor));
                            st.retire.push(pc);
                        }
                        None => {
                            site.samples.clear();
                            site.window = (site.window * 2).min(LEARN_SAMPLES_MAX);
                        }
                    }
                }
            }
        } else {
            site.ram_reads += 1;
            if site.ram_reads == FLASH_SITE_PROBATION && site.flash_reads == 0 {
                st.retire.push(pc);
            }
        }
    }
}

fn check_alignment(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let st = uc.get_data_mut();
    st.narrow_hit(pc);
    let regs = |r: u16| reg(uc, GPR[usize::from(r & 15)]);
    let Some(span) = thumb::data_access(insn, regs) else {
        return;
    };
    if span.start % 4 != 0 {
        let st = uc.get_data_mut();
        st.refund_from(pc);
        let core = st.core;
        st.fault(
            FaultKind::Unaligned,
            pc,
            Some(span.start),
            format!(
                "unaligned multiple or doubleword access at {:#010x}, which {core} does not allow",
                span.start
            ),
        );
        let _ = uc.emu_stop();
    }
}

/// SDIV/UDIV (`1111 1011 1001/1011 Rn`, `1111 Rd 1111 Rm`): charge the early-terminating part.
fn charge_divide(uc: &mut Uc<'_>, pc: u32, insn: &[u8]) {
    let hw1 = u16::from_le_bytes([insn[0], insn[1]]);
    let hw2 = u16::from_le_bytes([insn[2], insn[3]]);
    let dividend = reg(uc, GPR[usize::from(hw1 & 15)]);
    let divisor = reg(uc, GPR[usize::from(hw2 & 15)]);
    let signed = (hw1 >> 4) & 7 == 0b001;
    let st = uc.get_data_mut();
    st.narrow_hit(pc);
    let extra = Cycles(u64::from(timing::divide_extra(
        &st.timing, dividend, divisor, signed,
    )));
    st.clock += extra;
    st.breakdown.execute += extra;
}

/// Take the most urgent pending exception if the execution priority allows; `ret` is the
/// address execution would have continued at. True if the core now runs the handler.
fn take_exception(uc: &mut Uc<'_>, ret: u32) -> bool {
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
    let nvic = &uc.get_data().scs.nvic;
    let Some(n) = nvic.to_take(nvic.execution_priority(primask, basepri, faultmask)) else {
        return false;
    };
    exception_entry(uc, n, ret)
}

/// The registers an exception frame holds before the return address and xPSR, in frame
/// order (Armv7-M ARM B1.5.6).
const STACKED: [RegisterARM; 6] = [
    RegisterARM::R0,
    RegisterARM::R1,
    RegisterARM::R2,
    RegisterARM::R3,
    RegisterARM::R12,
    RegisterARM::LR,
];

/// Exception entry (Armv7-M ARM B1.5.6): stack the frame on the current stack, switch to
/// handler mode on the main stack, load the vector. False (with a stop) if that fails.
fn exception_entry(uc: &mut Uc<'_>, n: u32, ret: u32) -> bool {
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
    let (clock, retired) = (st.clock, st.instructions);
    let watch = st
        .calls
        .as_mut()
        .and_then(|c| c.exception(vector, ret, sp, handler_sp, clock, retired));
    let (at, instructions, breakdown, traffic) =
        (st.clock, st.instructions, st.breakdown, st.traffic());
    st.clock += latency;
    st.breakdown.exception += latency;
    // The handler's: its first block takes it.
    st.carry += latency.0;
    st.branch_from = None;
    st.current = None;
    if let Some((probe, function)) = watch {
        record_watched_hit(uc, probe, function, (at, instructions, breakdown, traffic));
    }
    true
}

fn fp_reg(i: u32) -> RegisterARM {
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
fn exception_return(uc: &mut Uc<'_>, exc_return: u32) {
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
    st.branch_from = None;
    // Level-sensitive lines still asserted pend again.
    st.sample_irq_levels();
    st.current = None;
    if to_thread && st.scs.sleep_on_exit() {
        st.request = Some(Request::SleepOnExit);
        let _ = uc.emu_stop();
    }
    let st = uc.get_data_mut();
    let (clock, retired, breakdown, traffic) =
        (st.clock, st.instructions, st.breakdown, st.traffic());
    if let Some((probe, function)) = st
        .calls
        .as_mut()
        .and_then(|c| c.exception_return(clock, retired))
    {
        record_watched_hit(uc, probe, function, (clock, retired, breakdown, traffic));
    }
}

/// QEMU's exception numbers for Arm (target/arm/cpu.h).
mod excp {
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

fn on_interrupt(uc: &mut Uc<'_>, intno: u32) {
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

/// A guest for semihosting: memory through unicorn, output to the console.
struct SemihostingGuest<'u, 'a> {
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
        self.uc.get_data().clock.0
    }
    fn clock_hz(&self) -> u64 {
        self.uc.get_data().clock_hz
    }
    fn cmdline(&self) -> &str {
        &self.uc.get_data().cmdline
    }
}

fn on_bkpt(uc: &mut Uc<'_>, pc: u32) {
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
