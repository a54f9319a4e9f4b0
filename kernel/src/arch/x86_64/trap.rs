//! Interrupt and exception entry: 256 stubs, the common path, and the Rust handlers.
//!
//! Every vector has a 16-byte stub that pushes a zero error code where the CPU pushes none, then
//! the vector number, and jumps to the common path. From user mode the common path saves the
//! whole thread state into the current context (`context::perihelion_trap_user`) and calls
//! [`trap_from_user`], which never returns: the thread resumes through `context::enter_user`.
//! From kernel mode (the idle loop, or a kernel bug) it saves the registers on the stack and calls
//! [`trap_from_kernel`]: interrupts return to the idle loop, exceptions are fatal.

use core::arch::global_asm;

use super::context::UserContext;

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
    /* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. */
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
    "#,
    errmask = const ERROR_CODE_VECTORS,
    trap_from_kernel = sym trap_from_kernel,
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
/// an NMI is logged and returns; every other exception is a kernel bug and ends the run.
extern "C" fn trap_from_kernel(frame: &mut KernelFrame) {
    let vector = frame.vector;
    if vector >= u64::from(IRQ_BASE) {
        crate::uapi::interrupt(vector as u8);
        return;
    }
    if vector == 2 {
        crate::warn!("NMI in kernel mode at rip {:#x}", frame.rip);
        return;
    }
    crate::panic::kernel_exception(frame, super::cr2());
}

/// A trap from user mode; `ctx` (the current context) holds the full thread state.
pub extern "C" fn trap_from_user(ctx: &mut UserContext) -> ! {
    ctx.fault_addr = if ctx.vector == 14 { super::cr2() } else { 0 };
    crate::uapi::trap(ctx)
}
