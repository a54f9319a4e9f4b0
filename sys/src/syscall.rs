//! The `syscall` instruction, and one safe wrapper per syscall.
//!
//! [`syscall`] is the only place in user space that executes the instruction. It follows the
//! register convention of [`abi::syscall`]: the number in `rax`, six arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`, results back in `rax` and the same six; `rcx` and `r11` are destroyed
//! by the instruction, and every other caller-saved register of the System V ABI, vector and x87
//! registers included, is declared clobbered (the kernel returns them zeroed).
//!
//! The wrappers turn `rax` into a [`Result`] and never fault for bad arguments: the kernel checks
//! every argument and returns a typed error.

use abi::syscall::{ARG_REGS, Sysno};

use crate::error::{Error, Result};

/// Makes syscall `number` with `args` and returns `rax` and the six result registers as the
/// kernel left them.
///
/// Nothing is checked or decoded here: an undefined `number` is passed to the kernel as it is
/// (and the kernel answers [`abi::Error::UnknownSyscall`]). Arguments a syscall does not use
/// should be zero.
///
/// # Safety
///
/// The syscall must not break Rust's rules for the caller's memory: memory the kernel writes on
/// this call must be memory the caller may write through at this point, and a mapping the call
/// removes or changes must not back any live reference. Every syscall the ABI defines today
/// (`debug_write` only reads; `exit` ends the task), and every undefined number, meets this
/// whatever its arguments.
#[inline]
pub unsafe fn syscall(number: usize, args: [usize; ARG_REGS]) -> (usize, [usize; ARG_REGS]) {
    let rax: usize;
    let mut out = [0usize; ARG_REGS];
    // SAFETY: the caller upholds the memory contract above. The instruction itself changes only
    // the registers declared here: `rcx` and `r11` by the instruction, the six argument/result
    // registers and `rax` as outputs, and the rest of the System V caller-saved set (vector and
    // x87 registers included) through `clobber_abi`. The kernel runs on its own stack, so the
    // user stack and its red zone are untouched (`nostack`). Memory is not declared untouched:
    // the kernel may read (and, for later syscalls, write) the caller's buffers.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => rax,
            inlateout("rdi") args[0] => out[0],
            inlateout("rsi") args[1] => out[1],
            inlateout("rdx") args[2] => out[2],
            inlateout("r10") args[3] => out[3],
            inlateout("r8") args[4] => out[4],
            inlateout("r9") args[5] => out[5],
            lateout("rcx") _,
            lateout("r11") _,
            clobber_abi("sysv64"),
            options(nostack),
        );
    }
    (rax, out)
}

/// Writes `buf` to the kernel's debug console as one unit: no other output lands inside it.
///
/// Returns the number of bytes written, which is `buf.len()`. A buffer longer than
/// [`DEBUG_WRITE_MAX`](abi::syscall::DEBUG_WRITE_MAX) bytes is refused whole with
/// [`abi::Error::InvalidArgument`], not split: splitting would break the one-unit promise. Use
/// [`print!`](crate::print) and [`println!`](crate::println) for formatted text.
pub fn debug_write(buf: &[u8]) -> Result<usize> {
    debug_write_raw(buf.as_ptr().expose_provenance(), buf.len())
}

/// `debug_write` with an arbitrary address and length, for callers (such as the kernel test
/// suite) that must hand the kernel pointers that name nothing.
///
/// This is safe for any `ptr` and `len`: the kernel never dereferences a user address; it looks
/// the range up in the caller's address space, reads the bytes through its own mapping, and
/// returns [`abi::Error::BadAddress`] if any byte is not mapped readable (or
/// [`abi::Error::InvalidArgument`] if `len` is too long). Nothing in this program is read or
/// written by Rust code, so no Rust invariant is at stake.
pub fn debug_write_raw(ptr: usize, len: usize) -> Result<usize> {
    // SAFETY: `debug_write` only reads the caller's memory, whatever `ptr` and `len` are (see
    // `syscall`'s contract).
    let (rax, out) = unsafe { syscall(Sysno::DebugWrite as usize, [ptr, len, 0, 0, 0, 0]) };
    Error::check(rax)?;
    Ok(out[0])
}

/// Ends the calling task with `status`. For the root task, the kernel then ends the run (under
/// QEMU: exit code 33 for status 0, 35 otherwise; see [`abi::testexit`]).
pub fn exit(status: usize) -> ! {
    loop {
        // SAFETY: `exit` writes no memory of the caller; it ends the task. Should a broken kernel
        // ever return from it, the loop asks again rather than run on.
        unsafe {
            syscall(Sysno::Exit as usize, [status, 0, 0, 0, 0, 0]);
        }
    }
}
