//! Tasks: register layout, states and priorities.

/// A task's user registers, as `task_read_regs` and `task_write_regs` copy them.
///
/// Written registers are checked as on every return to user mode: `rip` and `fs_base` must be
/// canonical lower-half addresses (else `InvalidArgument`); `rflags` is masked to the arithmetic
/// flags, DF, TF, AC and ID, with IF set.
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

/// What a task is doing, as `task_info` reports it.
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
pub mod fault {
    /// Word 0: the exception vector (14 page fault, 13 general protection, 6 invalid opcode, ...).
    pub const VECTOR: usize = 0;
    /// Word 1: the faulting address (CR2) for a page fault (vector 14), else 0.
    pub const ADDRESS: usize = 1;
    /// Word 2: the instruction pointer.
    pub const RIP: usize = 2;
    /// Word 3: the error code the CPU pushed (0 if none).
    pub const ERROR: usize = 3;
}
