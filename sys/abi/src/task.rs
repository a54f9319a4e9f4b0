//! Tasks: register layout, states and priorities.

/// A task's user registers, as `task_read_regs` and `task_write_regs` copy them.
///
/// Written registers are checked as on every return to user mode: `rip` and `fs_base` must be
/// canonical lower-half addresses (else `InvalidArgument`); `rflags` is masked to the arithmetic
/// flags, DF, TF, AC and ID, with IF set.
///
/// ```
/// use abi::task::Registers;
///
/// // A thread about to call `entry(arg)` on a fresh stack: only IF in the flags.
/// let regs = Registers { rip: 0x40_1000, rsp: 0x7fff_0000_0ff8, rdi: 42, rflags: 0x202, ..Registers::default() };
/// assert_eq!(regs.rax, 0);
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Registers {
    /// `rax`.
    pub rax: u64,
    /// `rbx`.
    pub rbx: u64,
    /// `rcx`.
    pub rcx: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `rsi`.
    pub rsi: u64,
    /// `rdi`.
    pub rdi: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `r8`.
    pub r8: u64,
    /// `r9`.
    pub r9: u64,
    /// `r10`.
    pub r10: u64,
    /// `r11`.
    pub r11: u64,
    /// `r12`.
    pub r12: u64,
    /// `r13`.
    pub r13: u64,
    /// `r14`.
    pub r14: u64,
    /// `r15`.
    pub r15: u64,
    /// Instruction pointer.
    pub rip: u64,
    /// Stack pointer.
    pub rsp: u64,
    /// Flags.
    pub rflags: u64,
    /// FS base (thread-local storage).
    pub fs_base: u64,
}

/// Size of [`Registers`] in bytes.
pub const REGISTERS_BYTES: usize = core::mem::size_of::<Registers>();

/// Registers as the words they are laid out in, in order.
const REGISTER_WORDS: usize = REGISTERS_BYTES / 8;

const _: () = assert!(REGISTERS_BYTES == REGISTER_WORDS * 8);

impl Registers {
    fn words(&self) -> [u64; REGISTER_WORDS] {
        [
            self.rax,
            self.rbx,
            self.rcx,
            self.rdx,
            self.rsi,
            self.rdi,
            self.rbp,
            self.r8,
            self.r9,
            self.r10,
            self.r11,
            self.r12,
            self.r13,
            self.r14,
            self.r15,
            self.rip,
            self.rsp,
            self.rflags,
            self.fs_base,
        ]
    }

    /// The bytes of the `repr(C)` layout (little-endian words in field order), as the kernel
    /// writes them for `task_read_regs`.
    ///
    /// ```
    /// use abi::task::{REGISTERS_BYTES, Registers};
    ///
    /// let regs = Registers { rax: 1, rip: 0x40_1000, ..Registers::default() };
    /// let bytes: [u8; REGISTERS_BYTES] = regs.to_bytes();
    /// // `rax` is the first word, little-endian.
    /// assert_eq!(bytes[..8], 1u64.to_le_bytes());
    /// ```
    pub fn to_bytes(&self) -> [u8; REGISTERS_BYTES] {
        let mut out = [0u8; REGISTERS_BYTES];
        for (chunk, w) in out.chunks_exact_mut(8).zip(self.words()) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Registers from the bytes of the layout, as the kernel reads them for `task_write_regs`.
    ///
    /// ```
    /// use abi::task::Registers;
    ///
    /// let regs = Registers { rsp: 0x7000_0000, fs_base: 0x7100_0000, ..Registers::default() };
    /// assert_eq!(Registers::from_bytes(&regs.to_bytes()), regs);
    /// ```
    pub fn from_bytes(bytes: &[u8; REGISTERS_BYTES]) -> Registers {
        let mut w = [0u64; REGISTER_WORDS];
        for (word, chunk) in w.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *word = u64::from_le_bytes(b);
        }
        let [rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rsp, rflags, fs_base] = w;
        Registers { rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rsp, rflags, fs_base }
    }
}

/// What a task is doing, as `task_info` reports it.
///
/// ```
/// use abi::task::State;
///
/// /// Whether the task `task_info` described has stopped for good on its own.
/// fn stopped(state: usize) -> bool {
///     matches!(State::from_number(state), Some(State::Exited | State::Faulted))
/// }
/// assert!(stopped(State::Faulted as usize));
/// assert!(!stopped(State::BlockedRecv as usize));
/// assert!(!stopped(99), "a state this ABI does not define");
/// ```
#[repr(usize)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Made, not yet started.
    Inactive = 0,
    /// Running or ready to run.
    Runnable = 1,
    /// Stopped by `task_suspend`.
    Suspended = 2,
    /// Ended by `exit`; `task_info` gives its status.
    Exited = 3,
    /// Stopped by a fault; `task_info` gives the vector.
    Faulted = 4,
    /// Waiting in `send` or `call` for a receiver.
    BlockedSend = 5,
    /// Waiting in `recv` for a sender.
    BlockedRecv = 6,
    /// Waiting for the reply to a `call` (or to a fault message).
    BlockedReply = 7,
    /// Waiting in `note_wait`.
    BlockedNote = 8,
}

impl State {
    /// The state with number `n`.
    ///
    /// ```
    /// use abi::task::State;
    ///
    /// assert_eq!(State::from_number(3), Some(State::Exited));
    /// assert_eq!(State::from_number(9), None);
    /// ```
    pub fn from_number(n: usize) -> Option<State> {
        [
            State::Inactive,
            State::Runnable,
            State::Suspended,
            State::Exited,
            State::Faulted,
            State::BlockedSend,
            State::BlockedRecv,
            State::BlockedReply,
            State::BlockedNote,
        ]
        .into_iter()
        .find(|s| *s as usize == n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for n in 0..9 {
            assert_eq!(State::from_number(n).map(|s| s as usize), Some(n));
        }
        assert_eq!(State::from_number(9), None);
    }

    #[test]
    fn registers_bytes_are_the_repr_c_layout() {
        let r = Registers { rax: 1, rdi: 0x0102_0304_0506_0708, rip: 3, fs_base: u64::MAX, ..Registers::default() };
        let b = r.to_bytes();
        assert_eq!(&b[..8], &1u64.to_le_bytes());
        assert_eq!(&b[core::mem::offset_of!(Registers, rdi)..][..8], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(&b[core::mem::offset_of!(Registers, rip)..][..8], &3u64.to_le_bytes());
        assert_eq!(&b[core::mem::offset_of!(Registers, fs_base)..][..8], &u64::MAX.to_le_bytes());
        assert_eq!(Registers::from_bytes(&b), r);
        let all: [u8; REGISTERS_BYTES] = core::array::from_fn(|i| i as u8);
        assert_eq!(Registers::from_bytes(&all).to_bytes(), all);
    }
}

/// `task_info`'s detail for a task stopped by `task_destroy`.
pub const DESTROYED: u64 = u64::MAX;

/// Highest priority.
pub const MAX_PRIORITY: usize = 255;

/// The root task's priority.
pub const ROOT_PRIORITY: usize = 100;

/// Pages a Task object costs.
pub const TASK_PAGES: usize = 1;

/// Timer ticks (10 ms each) in a timeslice.
pub const TIMESLICE_TICKS: usize = 2;

/// The fault message a task's fault endpoint receives, as if the task had made a `call`: the
/// badge is the fault endpoint capability's, and the words are these.
///
/// The supervisor answers in one of two forms (both stay valid): a plain reply (`reply`,
/// `reply_recv`, `reply_to`), after which the task runs on with its registers as they are (set
/// them first with `task_write_regs` if need be); or a fault reply (`fault_reply`,
/// `fault_reply_recv`), which carries new values for the registers named in [`fault::reply`] and needs
/// no `task_read_regs`/`task_write_regs` round trip.
pub mod fault {
    /// Word 0: the exception vector (14 page fault, 13 general protection, 6 invalid opcode, ...).
    pub const VECTOR: usize = 0;
    /// Word 1: the faulting address (CR2) for a page fault (vector 14), else 0.
    pub const ADDRESS: usize = 1;
    /// Word 2: the instruction pointer.
    pub const RIP: usize = 2;
    /// Word 3: the error code the CPU pushed (0 if none).
    pub const ERROR: usize = 3;

    /// The registers a fault reply can set: the `set` argument of `fault_reply` and
    /// `fault_reply_recv` is a mask of these bits, and the values follow in this order (`rip`,
    /// `rsp`, `rax`, `rdi`), each used only if its bit is set.
    pub mod reply {
        /// `rip`: where the task resumes (a canonical user address).
        pub const RIP: usize = 1 << 0;
        /// `rsp`.
        pub const RSP: usize = 1 << 1;
        /// `rax`.
        pub const RAX: usize = 1 << 2;
        /// `rdi` (the first argument register).
        pub const RDI: usize = 1 << 3;
        /// Every register a fault reply can set.
        pub const ALL: usize = RIP | RSP | RAX | RDI;
    }
}
