//! Interrupt and exception entry: 256 stubs, the common path, and the Rust handlers.
//!
//! Every vector has a 16-byte stub that pushes a zero error code where the CPU pushes none, then
//! the vector number, and jumps to the common path. The common path first clears DF and, where
//! the CPU has SMAP, AC (the CPU keeps the interrupted RFLAGS, which a user task controls, and
//! the kernel's string instructions and SMAP depend on them; the saved copy in the CPU's frame
//! is untouched). From user mode it then saves the whole thread state into the current context
//! (`perihelion_trap_user`) and calls [`trap_from_user`], which never returns: the thread resumes
//! through `context::enter_user`. From kernel mode (the idle loop, an NMI, or a kernel bug) it
//! saves the registers on the stack and calls [`trap_from_kernel`]: interrupts return to the
//! idle loop, an NMI is counted and returns, other exceptions are fatal.

use core::arch::global_asm;
use core::mem::offset_of;

use x86_64::registers::control::Cr2;

use super::context::{PERIHELION_USE_XSAVE, PerCpu, RFLAGS_IF, RFLAGS_RESERVED_1, RFLAGS_USER_MASK, UserContext};
use crate::sync::RacyCell;

/// Whether the CPU has SMAP (so the common path has `clac` to run). Set once at boot.
static PERIHELION_HAS_SMAP: RacyCell<u8> = RacyCell::new(0);

/// Tells the common path whether the CPU has SMAP. Called once at boot, before any user task.
pub fn init(smap: bool) {
    // SAFETY: boot, one CPU, interrupts off: no trap reads the flag while it is written.
    unsafe { *PERIHELION_HAS_SMAP.get() = u8::from(smap) };
}

/// First vector used for hardware interrupts; 0-31 are exceptions.
pub const IRQ_BASE: u8 = 32;
/// Vector of the local APIC timer.
pub const VECTOR_TIMER: u8 = 32;
/// Vector the legacy PICs are moved to (masked; only their spurious interrupts arrive).
pub const VECTOR_PIC_BASE: u8 = 0xe0;
/// Vector of the local APIC's spurious interrupt.
pub const VECTOR_SPURIOUS: u8 = 0xff;

/// Vectors that push an error code.
const ERROR_CODE_VECTORS: u32 = (1 << 8)
    | (1 << 10)
    | (1 << 11)
    | (1 << 12)
    | (1 << 13)
    | (1 << 14)
    | (1 << 17)
    | (1 << 21)
    | (1 << 29)
    | (1 << 30);

// Hand-written, not the `x86_64` crate: the stubs and the common path run before any Rust can
// (possibly on the user's GS base, with the user's flags) and save straight into the task's
// context; the crate's IDT handlers are `extern "x86-interrupt"` functions, a nightly ABI that
// saves on the stack. `idt` points the crate's gate type at these stubs.
global_asm!(
    r#"
    .section .text.perihelion_traps, "ax", @progbits
    .balign 16
    .global perihelion_trap_stubs
perihelion_trap_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if vec < 32
    .if ({errmask} >> vec) & 1
    .else
    push 0
    .endif
    .else
    push 0
    .endif
    push vec
    jmp perihelion_trap_common
    .set vec, vec + 1
    .endr

perihelion_trap_common:
    /* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. Known flags first: DF clear for the
       string instructions, AC clear so that SMAP holds (clac exists only with SMAP). */
    cld
    cmp byte ptr [rip + {has_smap}], 0
    je 2f
    clac
2:
    test byte ptr [rsp + 24], 3
    jz 1f
    swapgs
    push rdi
    jmp perihelion_trap_user
1:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    call {trap_from_kernel}
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

    /* Interrupt or exception from user mode, reached from the common path after `swapgs` with
       the stack holding: saved RDI, vector, error code, then the CPU's frame. */
    .section .text.perihelion_trap_user, "ax", @progbits
    .global perihelion_trap_user
perihelion_trap_user:
    mov rdi, qword ptr gs:[{current}]
    mov [rdi + {rax}], rax
    mov [rdi + {rbx}], rbx
    mov [rdi + {rcx}], rcx
    mov [rdi + {rdx}], rdx
    mov [rdi + {rsi}], rsi
    mov [rdi + {rbp}], rbp
    mov [rdi + {r8}], r8
    mov [rdi + {r9}], r9
    mov [rdi + {r10}], r10
    mov [rdi + {r11}], r11
    mov [rdi + {r12}], r12
    mov [rdi + {r13}], r13
    mov [rdi + {r14}], r14
    mov [rdi + {r15}], r15
    pop rax
    mov [rdi + {rdi}], rax
    pop rax
    mov [rdi + {vector}], rax
    pop rax
    mov [rdi + {error}], rax
    pop rax
    mov [rdi + {rip}], rax
    pop rax
    pop rax
    and rax, {rflags_user}
    or rax, {rflags_set}
    mov [rdi + {rflags}], rax
    pop rax
    mov [rdi + {rsp}], rax
    mov qword ptr [rdi + {full}], 1
    mov eax, -1
    mov edx, -1
    cmp byte ptr [rip + {use_xsave}], 0
    je 6f
    xsave64 [rdi + {fpu}]
    jmp 7f
6:
    fxsave64 [rdi + {fpu}]
7:
    mov rsp, qword ptr gs:[{kernel_rsp}]
    xor ebp, ebp
    call {trap_from_user}
    ud2
    "#,
    errmask = const ERROR_CODE_VECTORS,
    has_smap = sym PERIHELION_HAS_SMAP,
    trap_from_kernel = sym trap_from_kernel,
    trap_from_user = sym trap_from_user,
    current = const offset_of!(PerCpu, current),
    kernel_rsp = const offset_of!(PerCpu, kernel_rsp),
    use_xsave = sym PERIHELION_USE_XSAVE,
    vector = const offset_of!(UserContext, vector),
    error = const offset_of!(UserContext, error),
    full = const offset_of!(UserContext, full),
    fpu = const offset_of!(UserContext, fpu),
    rax = const offset_of!(UserContext, rax),
    rbx = const offset_of!(UserContext, rbx),
    rcx = const offset_of!(UserContext, rcx),
    rdx = const offset_of!(UserContext, rdx),
    rsi = const offset_of!(UserContext, rsi),
    rdi = const offset_of!(UserContext, rdi),
    rbp = const offset_of!(UserContext, rbp),
    r8 = const offset_of!(UserContext, r8),
    r9 = const offset_of!(UserContext, r9),
    r10 = const offset_of!(UserContext, r10),
    r11 = const offset_of!(UserContext, r11),
    r12 = const offset_of!(UserContext, r12),
    r13 = const offset_of!(UserContext, r13),
    r14 = const offset_of!(UserContext, r14),
    r15 = const offset_of!(UserContext, r15),
    rip = const offset_of!(UserContext, rip),
    rsp = const offset_of!(UserContext, rsp),
    rflags = const offset_of!(UserContext, rflags),
    rflags_user = const RFLAGS_USER_MASK,
    rflags_set = const RFLAGS_IF | RFLAGS_RESERVED_1,
);

unsafe extern "C" {
    /// The 256 entry stubs, 16 bytes apart.
    pub static perihelion_trap_stubs: [u8; 256 * 16];
}

/// Registers saved by a trap taken in kernel mode, in stack order.
#[repr(C)]
#[derive(Debug)]
pub struct KernelFrame {
    /// `r15`.
    pub r15: u64,
    /// `r14`.
    pub r14: u64,
    /// `r13`.
    pub r13: u64,
    /// `r12`.
    pub r12: u64,
    /// `r11`.
    pub r11: u64,
    /// `r10`.
    pub r10: u64,
    /// `r9`.
    pub r9: u64,
    /// `r8`.
    pub r8: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `rdi`.
    pub rdi: u64,
    /// `rsi`.
    pub rsi: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `rcx`.
    pub rcx: u64,
    /// `rbx`.
    pub rbx: u64,
    /// `rax`.
    pub rax: u64,
    /// Vector number.
    pub vector: u64,
    /// Error code (0 if the CPU pushed none).
    pub error: u64,
    /// Interrupted RIP.
    pub rip: u64,
    /// Interrupted CS.
    pub cs: u64,
    /// Interrupted RFLAGS.
    pub rflags: u64,
    /// Interrupted RSP.
    pub rsp: u64,
    /// Interrupted SS.
    pub ss: u64,
}

/// The name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        20 => "virtualization exception",
        21 => "control protection",
        28 => "hypervisor injection",
        29 => "VMM communication",
        30 => "security exception",
        32..=255 => "interrupt",
        _ => "reserved exception",
    }
}

/// A trap from kernel mode. Interrupts (taken only in the idle loop) are handled and return;
/// an NMI is counted, logged if the console is free, and returns; every other exception is a
/// kernel bug and ends the run.
extern "C" fn trap_from_kernel(frame: &mut KernelFrame) {
    let vector = frame.vector;
    if vector >= u64::from(IRQ_BASE) {
        crate::uapi::interrupt(vector as u8);
        return;
    }
    if vector == 2 {
        nmi("kernel", frame.rip);
        return;
    }
    crate::panic::kernel_exception(frame, Cr2::read_raw());
}

/// NMIs taken since boot.
static NMIS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// An NMI, taken in `mode` at `rip`: counted and logged, never waiting for the console (it may
/// have interrupted a line being written, whose lock it must not wait for).
pub fn nmi(mode: &str, rip: u64) {
    let n = NMIS.fetch_add(1, core::sync::atomic::Ordering::Relaxed) + 1;
    crate::log::try_log(crate::log::Level::Warn, format_args!("NMI #{n} in {mode} mode at rip {rip:#x}"));
}

/// A trap from user mode; `ctx` (the current context) holds the full thread state.
extern "C" fn trap_from_user(ctx: *mut UserContext) -> ! {
    // SAFETY: the entry stub passes the current context, which it just filled; no reference to
    // it is live while the kernel handles an entry until this write is done (the task's
    // `SavedContext` methods are only called from below).
    unsafe { (*ctx).fault_addr = if (*ctx).vector == 14 { Cr2::read_raw() } else { 0 } };
    crate::uapi::trap()
}
