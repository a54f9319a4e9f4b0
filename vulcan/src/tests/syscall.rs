//! Tests of the syscall entry itself: undefined numbers, and which registers survive a syscall.
//!
//! The ABI (`abi::syscall`): an undefined number in `rax` (all 64 bits of it) gets
//! `UnknownSyscall`; `nop` succeeds with every result 0. `rbx`, `rbp`, `rsp`, `r12`-`r15`, the MXCSR and the x87 control word are
//! preserved; every vector register comes back zeroed (nothing leaks from the kernel or another
//! task). Each register test runs over both an error return (an undefined number) and a success
//! return (`debug_write` of nothing), since a kernel may leave by different paths.
//!
//! These tests make raw syscalls with inline assembly, because the registers under test are ones
//! a Rust wrapper gives the compiler; every `unsafe` block here is that, and nothing else.

use core::arch::asm;

use sys::abi::Error::UnknownSyscall;
use sys::abi::bootcaps::ROOT_DEBUG_CONSOLE;
use sys::abi::syscall::Sysno;
use sys::syscall::syscall;
use sys::{Boot, Error};

use crate::harness::{Test, TestResult, ensure, ensure_eq, fail};
use crate::marker::refused;

pub const TESTS: &[Test] = &[
    Test::new("syscall_unknown_numbers", unknown_numbers),
    Test::new("syscall_nop_succeeds_and_changes_nothing", nop),
    Test::new("syscall_preserves_callee_saved", preserves_callee_saved),
    Test::new("syscall_zeroes_vector_registers", zeroes_vector_registers),
    Test::new("syscall_preserves_mxcsr_and_fpu_control", preserves_mxcsr_and_fcw),
    // Last: if the kernel decodes only the low bits of `rax`, one of these cases is `exit` with a
    // nonzero status, which ends the run as a failure.
    Test::new("syscall_number_uses_all_64_bits", number_uses_all_bits),
];

/// Numbers no syscall has: the gaps between the defined ones, and up to the top of the range.
const UNDEFINED: [usize; 16] = [
    7,
    8,
    0xf,
    0x16,
    0x1f,
    0x22,
    0x2f,
    0x31,
    255,
    256,
    0xffff,
    1 << 31,
    u32::MAX as usize,
    1 << 32,
    1 << 63,
    usize::MAX,
];

/// A number no syscall has, for the register tests' error path.
const NO_SUCH_SYSCALL: usize = usize::MAX;

fn unknown_numbers(_: &Boot) -> TestResult {
    for n in UNDEFINED {
        ensure!(Sysno::try_from(n).is_err(), "{n:#x} is a defined syscall number; the test list is stale");
        for args in [[0; 6], [usize::MAX; 6], [0x1000, 8, 1, 2, 3, 4]] {
            // SAFETY: an undefined number names no syscall, so the kernel touches no memory of
            // this task whatever the arguments.
            let (rax, _) = unsafe { syscall(n, args) };
            ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "syscall {n:#x} {args:x?}");
        }
    }
    Ok(())
}

/// `nop` succeeds with every result 0, whatever its argument registers held.
fn nop(_: &Boot) -> TestResult {
    ensure_eq!(sys::syscall::nop(), Ok(()), "nop()");
    for args in [[0; 6], [usize::MAX; 6], [0x1000, 8, 1, 2, 3, 4]] {
        // SAFETY: `nop` touches no memory of this task.
        let (rax, out) = unsafe { syscall(Sysno::Nop as usize, args) };
        ensure_eq!((rax, out), (0, [0; 6]), "nop with arguments {args:x?}");
    }
    Ok(())
}

/// Defined numbers with high bits set: a kernel that truncated `rax` would run the syscall.
fn number_uses_all_bits(_: &Boot) -> TestResult {
    let line = refused("truncated-number", "the kernel decoded a truncated syscall number as debug_write");
    let line = line.as_bytes();
    for high in [1usize << 8, 1 << 16, 1 << 32, 1 << 63] {
        let n = high | Sysno::DebugWrite as usize;
        let args = [ROOT_DEBUG_CONSOLE, line.as_ptr().expose_provenance(), line.len(), 0, 0, 0];
        // SAFETY: undefined number; were it taken for `debug_write`, that only reads `line`.
        let (rax, _) = unsafe { syscall(n, args) };
        ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "syscall {n:#x}");
    }
    for high in [1usize << 8, 1 << 16, 1 << 32, 1 << 63] {
        let n = high | Sysno::Exit as usize;
        // SAFETY: undefined number; were it taken for `exit`, the task would end with a nonzero
        // status (a failed run), which writes no memory.
        let (rax, _) = unsafe { syscall(n, [0x5e, 0, 0, 0, 0, 0]) };
        ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "syscall {n:#x}");
    }
    Ok(())
}

/// The (number, arg0, arg1, arg2) of the two paths the register tests take: an error return and
/// a success return (`debug_write` of zero bytes from a mapped buffer through the root console).
fn paths(buf: &[u8]) -> [(&'static str, usize, usize, usize, usize); 2] {
    [
        ("undefined syscall", NO_SUCH_SYSCALL, 0, 0, 0),
        ("debug_write", Sysno::DebugWrite as usize, ROOT_DEBUG_CONSOLE, buf.as_ptr().expose_provenance(), 0),
    ]
}

fn preserves_callee_saved(_: &Boot) -> TestResult {
    const RBX: u64 = 0x0b0b_1111_2222_3333;
    const RBP: u64 = 0x0b9b_4444_5555_6666;
    const R12: u64 = 0x1212_7777_8888_9999;
    const R13: u64 = 0x1313_aaaa_bbbb_cccc;
    const R14: u64 = 0x1414_dddd_eeee_ffff;
    const R15: u64 = 0x1515_0123_4567_89ab;
    let buf = [0u8; 8];
    for (path, n, a0, a1, a2) in paths(&buf) {
        let rax: usize;
        let (rbx, rbp): (u64, u64);
        let (mut r12, mut r13, mut r14, mut r15) = (R12, R13, R14, R15);
        // SAFETY: the syscall is undefined or a zero-length `debug_write`, which touch no memory
        // of this task. `rbx` and `rbp` cannot be operands (LLVM reserves them), so the block
        // saves them on the stack, sets them, and restores them after copying the values the
        // syscall left into output registers; it leaves `rsp` as it found it (no `nostack`, so
        // the compiler keeps nothing in the red zone across it).
        unsafe {
            asm!(
                "push rbx",
                "push rbp",
                "mov rbx, {rbx}",
                "mov rbp, {rbp}",
                "syscall",
                "mov rdi, rbx",
                "mov rsi, rbp",
                "pop rbp",
                "pop rbx",
                rbx = const RBX,
                rbp = const RBP,
                inlateout("rax") n => rax,
                inlateout("rdi") a0 => rbx,
                inlateout("rsi") a1 => rbp,
                inout("r12") r12,
                inout("r13") r13,
                inout("r14") r14,
                inout("r15") r15,
                inlateout("rdx") a2 => _,
                lateout("r10") _,
                lateout("r8") _,
                lateout("r9") _,
                lateout("rcx") _,
                lateout("r11") _,
                clobber_abi("sysv64"),
            );
        }
        if n == NO_SUCH_SYSCALL {
            ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "{path}: rax");
        } else {
            ensure_eq!(Error::check(rax), Ok(()), "{path}: rax");
        }
        for (name, got, expected) in [
            ("rbx", rbx, RBX),
            ("rbp", rbp, RBP),
            ("r12", r12, R12),
            ("r13", r13, R13),
            ("r14", r14, R14),
            ("r15", r15, R15),
        ] {
            if got != expected {
                fail!("{path}: {name} was {expected:#x} before the syscall, {got:#x} after");
            }
        }
    }
    Ok(())
}

fn zeroes_vector_registers(_: &Boot) -> TestResult {
    let mut before = [0u8; 256];
    for (i, b) in before.iter_mut().enumerate() {
        *b = (i as u8) | 0x80;
    }
    let buf = [0u8; 8];
    for (path, n, a0, a1, a2) in paths(&buf) {
        let mut after = [0xaau8; 256];
        let rax: usize;
        // SAFETY: the syscall is undefined or a zero-length `debug_write`, which touch no memory
        // of this task. The block reads 256 bytes at `before` and writes 256 bytes at `after`,
        // both arrays of that size; the pointers sit in r12 and r13, which the syscall preserves.
        unsafe {
            asm!(
                "movdqu xmm0, [r12]",
                "movdqu xmm1, [r12 + 16]",
                "movdqu xmm2, [r12 + 32]",
                "movdqu xmm3, [r12 + 48]",
                "movdqu xmm4, [r12 + 64]",
                "movdqu xmm5, [r12 + 80]",
                "movdqu xmm6, [r12 + 96]",
                "movdqu xmm7, [r12 + 112]",
                "movdqu xmm8, [r12 + 128]",
                "movdqu xmm9, [r12 + 144]",
                "movdqu xmm10, [r12 + 160]",
                "movdqu xmm11, [r12 + 176]",
                "movdqu xmm12, [r12 + 192]",
                "movdqu xmm13, [r12 + 208]",
                "movdqu xmm14, [r12 + 224]",
                "movdqu xmm15, [r12 + 240]",
                "syscall",
                "movdqu [r13], xmm0",
                "movdqu [r13 + 16], xmm1",
                "movdqu [r13 + 32], xmm2",
                "movdqu [r13 + 48], xmm3",
                "movdqu [r13 + 64], xmm4",
                "movdqu [r13 + 80], xmm5",
                "movdqu [r13 + 96], xmm6",
                "movdqu [r13 + 112], xmm7",
                "movdqu [r13 + 128], xmm8",
                "movdqu [r13 + 144], xmm9",
                "movdqu [r13 + 160], xmm10",
                "movdqu [r13 + 176], xmm11",
                "movdqu [r13 + 192], xmm12",
                "movdqu [r13 + 208], xmm13",
                "movdqu [r13 + 224], xmm14",
                "movdqu [r13 + 240], xmm15",
                in("r12") before.as_ptr(),
                in("r13") after.as_mut_ptr(),
                inlateout("rax") n => rax,
                inlateout("rdi") a0 => _,
                inlateout("rsi") a1 => _,
                inlateout("rdx") a2 => _,
                lateout("r10") _,
                lateout("r8") _,
                lateout("r9") _,
                lateout("rcx") _,
                lateout("r11") _,
                clobber_abi("sysv64"),
                options(nostack),
            );
        }
        if n == NO_SUCH_SYSCALL {
            ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "{path}: rax");
        } else {
            ensure_eq!(Error::check(rax), Ok(()), "{path}: rax");
        }
        for (reg, bytes) in after.chunks_exact(16).enumerate() {
            if bytes.iter().any(|&b| b != 0) {
                let lo = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
                let hi = u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default());
                fail!("{path}: xmm{reg} is {hi:016x}{lo:016x} after the syscall, not zero");
            }
        }
    }
    Ok(())
}

fn preserves_mxcsr_and_fcw(_: &Boot) -> TestResult {
    /// Default MXCSR (all exceptions masked) with rounding toward zero.
    const MXCSR: u32 = 0x1f80 | (0b11 << 13);
    /// Default x87 control word (0x037f) with rounding toward zero.
    const FCW: u32 = 0x037f | (0b11 << 10);
    let buf = [0u8; 8];
    for (path, n, a0, a1, a2) in paths(&buf) {
        // [saved MXCSR, saved FCW, test MXCSR, test FCW, MXCSR after, FCW after]
        let mut words: [u32; 6] = [0, 0, MXCSR, FCW, 0, 0];
        let rax: usize;
        // SAFETY: the syscall is undefined or a zero-length `debug_write`, which touch no memory
        // of this task. The block reads and writes only `words` (24 bytes, 4-aligned), through
        // r12, which the syscall preserves; it saves the caller's MXCSR and x87 control word
        // first and restores both before it ends, so no Rust code runs with the test values.
        unsafe {
            asm!(
                "stmxcsr [r12]",
                "fnstcw [r12 + 4]",
                "ldmxcsr [r12 + 8]",
                "fldcw [r12 + 12]",
                "syscall",
                "stmxcsr [r12 + 16]",
                "fnstcw [r12 + 20]",
                "ldmxcsr [r12]",
                "fldcw [r12 + 4]",
                in("r12") words.as_mut_ptr(),
                inlateout("rax") n => rax,
                inlateout("rdi") a0 => _,
                inlateout("rsi") a1 => _,
                inlateout("rdx") a2 => _,
                lateout("r10") _,
                lateout("r8") _,
                lateout("r9") _,
                lateout("rcx") _,
                lateout("r11") _,
                clobber_abi("sysv64"),
                options(nostack),
            );
        }
        if n == NO_SUCH_SYSCALL {
            ensure_eq!(Error::check(rax), Err(UnknownSyscall.into()), "{path}: rax");
        } else {
            ensure_eq!(Error::check(rax), Ok(()), "{path}: rax");
        }
        let (mxcsr, fcw) = (words[4], words[5] & 0xffff);
        if mxcsr != MXCSR {
            fail!("{path}: MXCSR was {MXCSR:#06x} before the syscall, {mxcsr:#06x} after");
        }
        if fcw != FCW {
            fail!("{path}: x87 control word was {FCW:#06x} before the syscall, {fcw:#06x} after");
        }
    }
    Ok(())
}
