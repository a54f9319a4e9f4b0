//! Syscall numbers and the register convention.
//!
//! A syscall is made with the `syscall` instruction:
//!
//! | register | on entry | on return |
//! | --- | --- | --- |
//! | `rax` | syscall number ([`Sysno`]) | `0` on success, else an [`Error`](crate::Error) code |
//! | `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` | arguments 0-5 | results 0-5 |
//!
//! `rcx` and `r11` are overwritten by the instruction itself. Every other caller-saved register of
//! the System V ABI, all vector registers included, is clobbered: the kernel returns them zeroed
//! rather than preserved. `rbx`, `rbp`, `rsp`, `r12`-`r15`, the MXCSR and the x87 control word are
//! preserved.

/// Number of argument (and result) registers.
pub const ARG_REGS: usize = 6;

/// Syscall numbers, passed in `rax`.
#[repr(usize)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sysno {
    /// `debug_write(ptr, len) -> written`: write `len` bytes at `ptr` to the kernel's debug console
    /// as one unit (no kernel line lands inside it). At most [`DEBUG_WRITE_MAX`] bytes per call.
    ///
    /// Errors: `BadAddress` if any byte of `[ptr, ptr + len)` is not mapped readable in the
    /// caller's user address space; `InvalidArgument` if `len > DEBUG_WRITE_MAX`.
    DebugWrite = 0,
    /// `exit(status) -> !`: end the calling task with `status`. Never returns.
    Exit = 1,
}

/// Largest buffer one `debug_write` call accepts, in bytes.
pub const DEBUG_WRITE_MAX: usize = 4096;

impl Sysno {
    /// Every syscall, in number order.
    pub const ALL: [Sysno; 2] = [Sysno::DebugWrite, Sysno::Exit];
}

impl TryFrom<usize> for Sysno {
    type Error = crate::Error;

    fn try_from(n: usize) -> Result<Self, Self::Error> {
        Self::ALL.into_iter().find(|s| *s as usize == n).ok_or(crate::Error::UnknownSyscall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for s in Sysno::ALL {
            assert_eq!(Sysno::try_from(s as usize), Ok(s));
        }
        assert_eq!(Sysno::try_from(usize::MAX), Err(crate::Error::UnknownSyscall));
    }
}
