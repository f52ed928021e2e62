//! The machine: unicorn set up as the board's Cortex-M, the hooks that keep time, and the run
//! loop that turns everything the firmware does into a [`StopReason`].
//!
//! Hot path: one block hook. It looks the block up in a cache (its instruction offsets and
//! cost are computed once, when unicorn first reports it), charges its cycles, and checks two
//! numbers: the time of the next peripheral event and whether any exception is pending. All
//! other hooks fire only on rare events: MMIO accesses, semihosting, SVC, exception return,
//! faults.

use crate::bus::Bus;
use crate::calls::{CallTracker, Exit};
use crate::clock::{Clock, Part};
use crate::devices::{Context, Device, Inputs, IrqLine, Requests};
use crate::firmware::Firmware;
use crate::nvic::exc;
use crate::scs::{PpbAction, Scs};
use crate::semihosting::{self, Outcome};
use crate::{Error, thumb, timing};
use mcusim_boards::{Board, Core, RegionKind};
use mcusim_traces::{
    Activity, Addr, CallNode, Cycles, FaultKind, LimitKind, ProbeHit, ProbeId, StopReason, Traffic,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use unicorn_engine::unicorn_const::{HookType, MemType};
use unicorn_engine::{Arch, Mode, Prot, RegisterARM, Unicorn, uc_error};

mod banks;
mod block;
mod contention;
mod devices;
mod exceptions;
mod mmio;
mod narrow;
mod probes;
mod rtt;
mod run;
mod semihost;
mod state;
#[cfg(test)]
mod tests;

pub use rtt::RttSink;

use banks::*;
use block::*;
use contention::*;
use devices::*;
use exceptions::*;
use mmio::*;
use narrow::*;
use probes::*;
use semihost::*;

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
/// order on a terminal. Output that cannot be written (a closed pipe, a full disk) does not
/// stop the simulation, but is counted: [`StdConsole::lost`] says how much and why.
#[derive(Debug, Default, Clone)]
pub struct StdConsole {
    lost: Rc<RefCell<LostOutput>>,
}

/// Firmware output a console could not deliver.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LostOutput {
    pub bytes: u64,
    /// The first error, as the system said it.
    pub error: Option<String>,
}

impl StdConsole {
    /// A handle on what this console (and its clones) failed to write.
    pub fn lost(&self) -> Rc<RefCell<LostOutput>> {
        Rc::clone(&self.lost)
    }

    fn failed(&self, bytes: usize, e: &std::io::Error) {
        let mut lost = self.lost.borrow_mut();
        lost.bytes += bytes as u64;
        lost.error.get_or_insert_with(|| e.to_string());
    }
}

impl Console for StdConsole {
    fn write(&mut self, stream: Stream, bytes: &[u8]) {
        let written = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(bytes),
            Stream::Stderr => std::io::stdout()
                .flush()
                .and_then(|()| std::io::stderr().lock().write_all(bytes)),
        };
        if let Err(e) = written {
            self.failed(bytes.len(), &e);
        }
    }

    fn flush(&mut self) {
        if let Err(e) = std::io::stdout().flush() {
            self.failed(0, &e);
        }
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
    /// Stop once the run has taken this long on the host (`--timeout`), looked at every
    /// [`HOST_CHECK_EVERY`] instructions; whatever the firmware does, each such stretch ends.
    pub timeout: Option<std::time::Duration>,
}

/// Instructions between looks at the host's limits ([`Limits::timeout`], [`INTERRUPTED`]): a
/// few milliseconds of host time. Looking changes no count.
pub const HOST_CHECK_EVERY: u64 = 1 << 20;

/// The flag the binary's SIGINT and SIGTERM handlers set to stop the run at the next look,
/// with [`LimitKind::Interrupted`]: the run's report is still made and written.
pub fn interrupt_flag() -> &'static std::sync::Arc<std::sync::atomic::AtomicBool> {
    static FLAG: std::sync::LazyLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
        std::sync::LazyLock::new(Default::default);
    &FLAG
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
    /// Its pipelined load pairs whose cost depends on the memories they reach (M3/M4).
    pairs: Option<Box<PairRule>>,
    /// Its data accesses, followed from entry: built the first time it runs while a device
    /// moves data (`contention.rs`).
    accesses: Option<Box<Accesses>>,
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

    /// The one clock: the time and where it went (`clock::Clock`, the only way it moves).
    clock: Clock,
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
    /// Stop at the first fault instead of letting the firmware's own fault handler take it
    /// (`Machine::set_stop_on_fault`).
    stop_on_fault: bool,
    /// The first fault the firmware's handler took: the stop reason if the handler never
    /// gets the firmware going again (it faults, loops or sleeps for good).
    handled_fault: Option<StopReason>,
    /// `Default_Handler`'s address, if the firmware has one: a fault vector pointing there
    /// is no handler of the firmware's own.
    default_handler: Option<u32>,
    /// The folder semihosting file calls reach (`Machine::set_semihosting_root`), if any.
    host_files: Option<semihosting::HostFiles>,
    exceptions: u64,
    /// Exceptions taken from thread mode in a row with no thread instruction and no sleep
    /// between (an interrupt storm when it reaches [`STORM`]).
    storm: u32,
    /// `instructions` at the last return to thread mode (`u64::MAX` after a sleep).
    thread_mark: u64,
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
    /// The DMA request wires between them (shared with each device's context).
    requests: Rc<RefCell<Requests>>,
    /// What the run feeds them (a sample stream), to build them again at a reset.
    inputs: Inputs,
    /// The board's memory as bus slaves.
    bus: Bus,
    /// What the devices logged, in order.
    activity: Vec<Activity>,
    /// The devices' bus beats not yet met by the core: (time, slave, beats).
    bus_log: Vec<(Cycles, crate::bus::SlaveId, u32)>,
    /// The current block's data accesses per slave and its start, while devices move data.
    cpu_slaves: Option<(Cycles, [u32; 16])>,
    console: Box<dyn Console>,
    /// The firmware's RTT control block, watched (see [`Machine::watch_rtt`]).
    rtt: Option<rtt::Host>,
    /// The WFE event register.
    event: bool,

    stop: Option<StopReason>,
    request: Option<Request>,
    mem_fault: Option<MemFault>,
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

        let bus = Bus::new(board);
        let inputs = Inputs {
            stream: None,
            clock_hz: board.clock_hz(),
        };
        let peripherals = devices::place(board, &bus, &inputs);
        let state = State {
            core: board.core,
            clock_hz: board.clock_hz(),
            ram: board.ram_range(),
            boot_vtor: boot,
            clock: Clock::default(),
            instructions: 0,
            timing: timing::timing_for(board.core),
            timing_on: true,
            branch_from: None,
            flash: timing::FlashFetch::for_board(board),
            flash_sites: FxHashMap::default(),
            retire: Vec::new(),
            learned_new: Vec::new(),
            learned: FxHashMap::default(),
            exact_flash: false,
            stop_on_fault: false,
            handled_fault: None,
            default_handler: None,
            host_files: None,
            exceptions: 0,
            storm: 0,
            thread_mark: u64::MAX,
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
            requests: Rc::default(),
            inputs,
            bus,
            activity: Vec::new(),
            bus_log: Vec::new(),
            cpu_slaves: None,
            console,
            rtt: None,
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

        uc.get_data_mut().default_handler = firmware
            .symbol("Default_Handler")
            .filter(|s| s.is_function)
            .map(|s| s.addr & !1);
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

    /// Stop the run at the first fault (`--stop-on-fault`), as a debugger's vector catch
    /// does, instead of letting a fault handler of the firmware's own take it.
    pub fn set_stop_on_fault(&mut self, stop: bool) {
        self.uc.get_data_mut().stop_on_fault = stop;
    }

    /// Let the firmware's semihosting file calls reach files under `root` (and only there);
    /// without it they are refused.
    pub fn set_semihosting_root(&mut self, root: &std::path::Path) -> std::io::Result<()> {
        self.uc.get_data_mut().host_files = Some(semihosting::HostFiles::new(root)?);
        Ok(())
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

    /// Drains the SEGGER RTT control block at `base` (the firmware's `_SEGGER_RTT`) into
    /// `sink` as the firmware writes it; false if it cannot be watched.
    pub fn watch_rtt(&mut self, base: u32, sink: Box<dyn RttSink>) -> bool {
        rtt::install(&mut self.uc, base, sink)
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
}
