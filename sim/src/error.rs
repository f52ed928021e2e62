/// Why a machine could not be built: the firmware or board is unusable. (What happens while
/// running is a [`mcusim_traces::StopReason`], never an error.)
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The firmware file could not be read.
    #[error("{path}: cannot read firmware")]
    Io {
        /// The firmware path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a usable Arm ELF.
    #[error("{path}: {message}")]
    Elf {
        /// The firmware path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A loadable segment does not fit the board's memory.
    #[error("{path}: {what} ({start:#010x}..{end:#010x}) does not fit board '{board}': {problem}")]
    DoesNotFit {
        /// The firmware path.
        path: String,
        /// The sections concerned (`.data, .bss`), or `segment`.
        what: String,
        /// First address.
        start: u64,
        /// One past the last address.
        end: u64,
        /// The board's name.
        board: String,
        /// What is missing, in bytes and regions.
        problem: String,
    },
    /// The image has no usable vector table at the board's boot address.
    #[error("{path}: {message}")]
    VectorTable {
        /// The firmware path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The emulator refused to set up the machine (a bug in mcusim or an impossible board).
    #[error("emulator setup failed: {0}")]
    Emulator(String),
}
