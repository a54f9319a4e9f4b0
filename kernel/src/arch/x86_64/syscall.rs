//! The `syscall` instruction: MSR setup, the entry stub, and the Rust side of the entry.
//!
//! The entry stub (`perihelion_syscall_entry`, below) saves the arguments and callee-saved
//! registers into the current context and calls `uapi::syscall` on the kernel stack; the handler
//! decodes the call and either returns, when the same task goes on and nothing else needs doing
//! (then the stub leaves through `context`'s short exit, `perihelion_resume_syscall`), or leaves
//! through `context::enter_user`. A number (the low half of `rax`) above every
//! defined one is answered in the stub itself: `UnknownSyscall` by the short exit, no Rust run;
//! the high half (a message's `Extra`, `abi::ipc`) is decoded in Rust.
//! On entry the CPU has cleared IF, TF, DF, NT and AC ([`FMASK`]); the saved RFLAGS are masked
//! at once ([`sanitize_rflags`](super::context::sanitize_rflags)), so that the short exit can
//! hand them back as they are.

use core::arch::global_asm;
use core::mem::offset_of;

use x86_64::VirtAddr;
use x86_64::registers::model_specific::{LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;

use abi::syscall::Sysno;

use super::context::{PerCpu, RFLAGS_IF, RFLAGS_RESERVED_1, RFLAGS_USER_MASK, UserContext};
use super::gdt::{KERNEL_CS, KERNEL_DS, USER_CS, USER_DS};

unsafe extern "C" {
    fn perihelion_syscall_entry();
}

/// RFLAGS bits cleared on entry: IF (the kernel runs with interrupts off), TF, DF, NT, AC.
const FMASK: RFlags = RFlags::INTERRUPT_FLAG
    .union(RFlags::TRAP_FLAG)
    .union(RFlags::DIRECTION_FLAG)
    .union(RFlags::NESTED_TASK)
    .union(RFlags::ALIGNMENT_CHECK);

// Hand-written, not the `x86_64` crate: the entry runs before any Rust can (user RSP, user GS
// base, nothing saved yet) and saves straight into the task's context; the crate has no entry
// code of this kind (its handlers use the nightly `x86-interrupt` ABI). `docs/kernel.md` lists
// every such place.
global_asm!(
    r#"
    /* syscall entry: RCX = user RIP, R11 = user RFLAGS, IF, TF, DF, NT and AC clear (FMASK). RSP
       serves as the base register while the context is filled: no interrupt can come, and NMI,
       #DF and #MC use IST stacks. */
    .section .text.perihelion_syscall_entry, "ax", @progbits
    .global perihelion_syscall_entry
perihelion_syscall_entry:
    swapgs
    mov qword ptr gs:[{user_rsp}], rsp
    mov rsp, qword ptr gs:[{current}]
    mov [rsp + {rax}], rax
    mov [rsp + {rbx}], rbx
    mov [rsp + {rdx}], rdx
    mov [rsp + {rsi}], rsi
    mov [rsp + {rdi}], rdi
    mov [rsp + {rbp}], rbp
    mov [rsp + {r8}], r8
    mov [rsp + {r9}], r9
    mov [rsp + {r10}], r10
    mov [rsp + {r12}], r12
    mov [rsp + {r13}], r13
    mov [rsp + {r14}], r14
    mov [rsp + {r15}], r15
    mov [rsp + {rip}], rcx
    and r11, {rflags_user}
    or r11, {rflags_set}
    mov [rsp + {rflags}], r11
    mov r11, qword ptr gs:[{user_rsp}]
    mov [rsp + {rsp}], r11
    stmxcsr [rsp + {mxcsr}]
    fnstcw [rsp + {fcw}]
    mov qword ptr [rsp + {full}], 0
    cmp eax, {sysno_limit}
    jae 2f
    mov rdi, rsp
    mov rsp, qword ptr gs:[{kernel_rsp}]
    xor ebp, ebp
    call {syscall}
    /* `uapi::syscall` returned: the task that made the call goes on with nothing else to do
       first. It is still the current task; its context is still partial (no Rust path makes a
       running task's context full); its FPU state is the live one (every return to user mode
       makes the entered context the FPU owner, and only a stopped task stops being it); its
       address space is loaded (a task that moves itself to another one takes the long way,
       `sched::reschedule`). So the short exit will do. */
    mov rdi, qword ptr gs:[{current}]
    jmp perihelion_resume_syscall
2:
    /* No syscall has this number (the low half of RAX; a message's Extra in the high half is
       Rust's to check): UnknownSyscall, the arguments unchanged. */
    mov qword ptr [rsp + {rax}], {unknown}
    mov rdi, rsp
    jmp perihelion_resume_syscall
    "#,
    user_rsp = const offset_of!(PerCpu, user_rsp),
    current = const offset_of!(PerCpu, current),
    kernel_rsp = const offset_of!(PerCpu, kernel_rsp),
    syscall = sym crate::uapi::syscall,
    full = const offset_of!(UserContext, full),
    mxcsr = const offset_of!(UserContext, mxcsr),
    fcw = const offset_of!(UserContext, fcw),
    rax = const offset_of!(UserContext, rax),
    rbx = const offset_of!(UserContext, rbx),
    rdx = const offset_of!(UserContext, rdx),
    rsi = const offset_of!(UserContext, rsi),
    rdi = const offset_of!(UserContext, rdi),
    rbp = const offset_of!(UserContext, rbp),
    r8 = const offset_of!(UserContext, r8),
    r9 = const offset_of!(UserContext, r9),
    r10 = const offset_of!(UserContext, r10),
    r12 = const offset_of!(UserContext, r12),
    r13 = const offset_of!(UserContext, r13),
    r14 = const offset_of!(UserContext, r14),
    r15 = const offset_of!(UserContext, r15),
    rip = const offset_of!(UserContext, rip),
    rsp = const offset_of!(UserContext, rsp),
    rflags = const offset_of!(UserContext, rflags),
    rflags_user = const RFLAGS_USER_MASK,
    rflags_set = const RFLAGS_IF | RFLAGS_RESERVED_1,
    sysno_limit = const Sysno::LIMIT,
    unknown = const abi::Error::UnknownSyscall.code(),
);

/// Programs STAR, LSTAR and FMASK (EFER.SCE is set by `cpu::early_init`).
pub fn init() {
    // `syscall` loads CS and SS from the kernel's pair, `sysret` CS and SS from the user's pair
    // (user code must follow user data: see `gdt`). `Star::write` checks that each pair is laid
    // out as the instructions need, with the right privilege levels.
    Star::write(USER_CS, USER_DS, KERNEL_CS, KERNEL_DS).expect("the GDT's selectors fit STAR");
    LStar::write(VirtAddr::new(perihelion_syscall_entry as *const () as u64));
    SFMask::write(FMASK);
}
