//! A user thread's saved CPU state, the per-CPU block, and the return to user mode.
//!
//! Entries save straight into the current task's [`UserContext`], found through the per-CPU
//! block at `gs:` (the seL4 layout): the `syscall` entry saves only what the ABI preserves or
//! passes (arguments, callee-saved registers, RSP, RIP, RFLAGS, MXCSR and the x87 control word)
//! and marks the context *partial*; interrupt and exception entries save every register and the
//! whole FPU/SSE state (`xsave` where present, else `fxsave`) before any Rust runs, and mark it
//! *full*.
//!
//! [`enter_user`] returns to user mode: a partial context leaves by `sysretq` with the vector
//! registers zeroed, a full one by `iretq` with everything restored. The per-CPU `fpu_owner` names
//! the context whose x87/SSE/AVX state is live in the registers; when a partial context is
//! resumed on a CPU whose registers hold someone else's state, they are first reset to the
//! initial state, so no vector, x87 or AVX register leaks from one task to another.
//!
//! Nothing a task can change without a syscall is trusted from a cache: every return loads the
//! FS base from the context (a task can move it by loading a selector), and a task that left a
//! selector in DS, ES, FS or GS gets null ones back, so none carries over to the next task.
//!
//! The entry stubs live next to their handlers: `syscall::perihelion_syscall_entry` and
//! `trap::perihelion_trap_user`; this module owns the layouts they save into and the exit path.
//! `docs/kernel.md` ("Entry and exit") lists what every entry and exit does, as a checklist.

use core::arch::global_asm;
use core::cell::UnsafeCell;
use core::mem::offset_of;

use abi::task::Registers;
use x86_64::registers::control::{Cr3, Cr3Flags};
use x86_64::registers::model_specific::{FsBase, GsBase, KernelGsBase};
use x86_64::registers::rflags::RFlags;
use x86_64::structures::paging::PhysFrame;
use x86_64::{PhysAddr, VirtAddr};

use super::gdt::{USER_CS, USER_DS};
use crate::sync::RacyCell;

/// Bytes reserved for the FPU/SSE/AVX save area (legacy 512 + header 64 + AVX 256 = 832 used).
pub const FPU_AREA_SIZE: usize = 1024;

/// The FPU save area, aligned as `xsave` requires.
#[repr(C, align(64))]
#[derive(Clone)]
pub struct FpuArea(pub [u8; FPU_AREA_SIZE]);

/// A user thread's registers while it is not running. The syscall result registers come first,
/// together (`rax`, then the six argument registers in ABI order), so that writing a result is a
/// few wide stores.
#[repr(C, align(64))]
#[derive(Clone)]
pub struct UserContext {
    /// `rax`: syscall number on entry, error code on return.
    pub rax: u64,
    /// `rdi`.
    pub rdi: u64,
    /// `rsi`.
    pub rsi: u64,
    /// `rdx`.
    pub rdx: u64,
    /// `r10`.
    pub r10: u64,
    /// `r8`.
    pub r8: u64,
    /// `r9`.
    pub r9: u64,
    /// `rbx`.
    pub rbx: u64,
    /// `rcx` (holds the return RIP after `syscall`; not preserved by syscalls).
    pub rcx: u64,
    /// `rbp`.
    pub rbp: u64,
    /// `r11` (holds RFLAGS after `syscall`; not preserved by syscalls).
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
    /// Flags; masked by [`sanitize_rflags`] on every return.
    pub rflags: u64,
    /// FS base (thread-local storage); checked canonical before it is loaded.
    pub fs_base: u64,
    /// Vector of the last interrupt or exception taken from user mode.
    pub vector: u64,
    /// Error code pushed by that exception (0 if none).
    pub error: u64,
    /// CR2 at that exception, for page faults.
    pub fault_addr: u64,
    /// Nonzero when every register and `fpu` were saved (interrupt or exception entry).
    pub full: u64,
    /// MXCSR, saved at every entry.
    pub mxcsr: u32,
    /// x87 control word, saved at every entry.
    pub fcw: u16,
    _pad: [u8; 2],
    /// FPU/SSE/AVX state, valid when `full` is set.
    pub fpu: FpuArea,
}

/// MXCSR after reset: all exceptions masked, round to nearest.
pub const MXCSR_DEFAULT: u32 = 0x1f80;
/// x87 control word after `fninit`.
pub const FCW_DEFAULT: u16 = 0x037f;

impl UserContext {
    /// A context that starts at `rip` with stack `rsp`; every other register is zero.
    pub fn new(rip: u64, rsp: u64) -> Self {
        Self {
            rax: 0,
            rbx: 0,
            rcx: 0,
            rdx: 0,
            rsi: 0,
            rdi: 0,
            rbp: 0,
            r8: 0,
            r9: 0,
            r10: 0,
            r11: 0,
            r12: 0,
            r13: 0,
            r14: 0,
            r15: 0,
            rip,
            rsp,
            rflags: RFLAGS_IF,
            fs_base: 0,
            vector: 0,
            error: 0,
            fault_addr: 0,
            full: 0,
            mxcsr: MXCSR_DEFAULT,
            fcw: FCW_DEFAULT,
            _pad: [0; 2],
            fpu: FpuArea([0; FPU_AREA_SIZE]),
        }
    }
}

/// A task's saved registers as the kernel keeps them: written by the entry stubs (through the
/// per-CPU `current` pointer, [`as_ptr`](Self::as_ptr)) while the task is not in the kernel, and
/// otherwise only through these methods. Each method takes the only reference to the context for
/// its own duration and calls nothing that could reach the context again, so no two references
/// to it are ever live at once: the task object that holds it is shared freely.
///
/// Invariant: the context can always be entered as it is: its RIP and FS base are canonical user
/// addresses and its RFLAGS are masked ([`sanitize_rflags`]). Every writer keeps it so: the
/// `syscall` stub (RIP is the address after the `syscall` instruction, in the user range;
/// RFLAGS masked as they are saved), the trap stub (RIP where user code ran; RFLAGS masked),
/// [`new`](Self::new) and [`reset`](Self::reset) (their callers pass 0 or checked values), and
/// [`set_registers`](Self::set_registers) and [`set_fs_base`](Self::set_fs_base), whose callers
/// check RIP and the FS base. [`validate`](Self::validate) checks it again where the general path
/// enters a task; the fast paths rely on it.
#[repr(transparent)]
pub struct SavedContext(UnsafeCell<UserContext>);

/// What a trap from user mode recorded.
#[derive(Copy, Clone, Debug)]
pub struct TrapInfo {
    /// The vector.
    pub vector: u64,
    /// CR2 for a page fault, else 0.
    pub address: u64,
    /// The instruction pointer.
    pub rip: u64,
    /// The error code the CPU pushed (0 if none).
    pub error: u64,
}

impl SavedContext {
    /// A context that starts at `rip` with stack `rsp` (every other register zero).
    pub fn new(rip: u64, rsp: u64) -> Self {
        Self(UnsafeCell::new(UserContext::new(rip, rsp)))
    }

    fn with<R>(&self, f: impl FnOnce(&mut UserContext) -> R) -> R {
        // SAFETY: the type's invariant: only these methods (and the entry stubs, while the task
        // runs in user mode, so never during a method) touch the context, none calls out while
        // it holds this reference, and `f` is one of the closures below, which reach nothing
        // but the context and their arguments.
        f(unsafe { &mut *self.0.get() })
    }

    /// Resets to a context that starts at `rip` with stack `rsp` and first argument `arg0`.
    ///
    /// The FPU area is left as it is: it means something only in a full context, and this one is
    /// partial (a context made full gets the whole area written first, by the trap stub's
    /// `fxsave`/`xsave` or by [`set_registers`](Self::set_registers)). Not zeroing it saves 1 KiB
    /// of stores on every task made.
    pub fn reset(&self, rip: u64, rsp: u64, arg0: u64) {
        self.with(|c| {
            (c.rax, c.rbx, c.rcx, c.rdx, c.rsi, c.rbp) = (0, 0, 0, 0, 0, 0);
            (c.r8, c.r9, c.r10, c.r11, c.r12, c.r13, c.r14, c.r15) = (0, 0, 0, 0, 0, 0, 0, 0);
            (c.rip, c.rsp, c.rflags, c.fs_base, c.rdi) = (rip, rsp, RFLAGS_IF, 0, arg0);
            (c.vector, c.error, c.fault_addr, c.full) = (0, 0, 0, 0);
            (c.mxcsr, c.fcw) = (MXCSR_DEFAULT, FCW_DEFAULT);
        });
    }

    /// The syscall number (`rax`) of a syscall just made.
    #[inline]
    pub fn number(&self) -> u64 {
        self.with(|c| c.rax)
    }

    /// The six argument registers of a syscall just made.
    #[inline]
    pub fn args(&self) -> [u64; 6] {
        self.with(|c| [c.rdi, c.rsi, c.rdx, c.r10, c.r8, c.r9])
    }

    /// A call's success: `rax = 0` and the results in the six argument registers.
    pub fn set_results(&self, results: [u64; 6]) {
        self.with(|c| {
            c.rax = 0;
            [c.rdi, c.rsi, c.rdx, c.r10, c.r8, c.r9] = results;
        });
    }

    /// A message's delivery: `rax = 0`, `rdi = first` (a badge, or 0 for a reply) and the five
    /// words `sender` passed in its `rsi`, `rdx`, `r10`, `r8`, `r9` (its syscall's arguments 1-5)
    /// in the same registers: the results of a receive (or of a call, for a reply) straight from
    /// the sender's saved registers. Contiguous in both contexts, so the copy is a few wide moves.
    #[inline]
    pub fn set_message_from(&self, sender: &SavedContext, first: u64) {
        let w = sender.with(|c| [c.rsi, c.rdx, c.r10, c.r8, c.r9]);
        self.with(|c| {
            (c.rax, c.rdi) = (0, first);
            [c.rsi, c.rdx, c.r10, c.r8, c.r9] = w;
        });
    }

    /// A receive's success with an IPC buffer transfer: `rax` is what arrived (`abi::ipc::Extra`
    /// in its high half, the status 0 in its low half), after [`set_results`](Self::set_results).
    pub fn set_received(&self, rax: u64) {
        self.with(|c| c.rax = rax);
    }

    /// A call's failure: the error code in `rax`, the argument registers untouched.
    pub fn set_error(&self, code: u64) {
        self.with(|c| c.rax = code);
    }

    /// What the last trap from user mode recorded.
    pub fn trap_info(&self) -> TrapInfo {
        self.with(|c| TrapInfo { vector: c.vector, address: c.fault_addr, rip: c.rip, error: c.error })
    }

    /// Records the faulting address of the trap just taken (CR2 for a page fault).
    pub fn set_fault_addr(&self, address: u64) {
        self.with(|c| c.fault_addr = address);
    }

    /// Sets the FS base (the caller has checked it is a canonical user address).
    pub fn set_fs_base(&self, base: u64) {
        self.with(|c| c.fs_base = base);
    }

    /// The instruction pointer.
    pub fn rip(&self) -> u64 {
        self.with(|c| c.rip)
    }

    /// The registers a supervisor reads (`task_read_regs`).
    pub fn registers(&self) -> Registers {
        self.with(|c| Registers {
            rax: c.rax,
            rbx: c.rbx,
            rcx: c.rcx,
            rdx: c.rdx,
            rsi: c.rsi,
            rdi: c.rdi,
            rbp: c.rbp,
            r8: c.r8,
            r9: c.r9,
            r10: c.r10,
            r11: c.r11,
            r12: c.r12,
            r13: c.r13,
            r14: c.r14,
            r15: c.r15,
            rip: c.rip,
            rsp: c.rsp,
            rflags: c.rflags,
            fs_base: c.fs_base,
        })
    }

    /// Sets every register from `r` (`task_write_regs`): the context becomes full (restored whole
    /// by `iretq`) and RFLAGS is masked. The caller has checked `rip` and the FS base.
    pub fn set_registers(&self, r: &Registers) {
        self.with(|c| {
            make_full(c);
            (c.rax, c.rbx, c.rcx, c.rdx, c.rsi, c.rdi, c.rbp) = (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp);
            (c.r8, c.r9, c.r10, c.r11, c.r12, c.r13, c.r14, c.r15) =
                (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15);
            (c.rip, c.rsp, c.rflags, c.fs_base) = (r.rip, r.rsp, sanitize_rflags(r.rflags), r.fs_base);
        });
    }

    /// Sets the registers given (`rip`, `rsp`, `rax`, `rdi`) and leaves the others as they are:
    /// a fault reply's registers. The caller has checked that `rip` is a canonical user address.
    /// A partial context stays partial (its return by `sysret` restores all four).
    pub fn set_resume(&self, rip: Option<u64>, rsp: Option<u64>, rax: Option<u64>, rdi: Option<u64>) {
        self.with(|c| {
            if let Some(v) = rip {
                c.rip = v;
            }
            if let Some(v) = rsp {
                c.rsp = v;
            }
            if let Some(v) = rax {
                c.rax = v;
            }
            if let Some(v) = rdi {
                c.rdi = v;
            }
        });
    }

    /// Checks and tidies the context for a return to user mode ([`validate`]).
    pub fn validate(&self) -> Result<(), EnterError> {
        self.with(validate)
    }

    /// The context's address, for the entry stubs and [`enter_user`].
    pub fn as_ptr(&self) -> *mut UserContext {
        self.0.get()
    }
}

/// RFLAGS.IF.
pub const RFLAGS_IF: u64 = RFlags::INTERRUPT_FLAG.bits();
/// RFLAGS bits a user thread may set: CF, PF, AF, ZF, SF, TF, DF, OF, AC, ID. Never IOPL, NT,
/// RF, VM, VIF or VIP.
pub const RFLAGS_USER_MASK: u64 = RFlags::CARRY_FLAG
    .union(RFlags::PARITY_FLAG)
    .union(RFlags::AUXILIARY_CARRY_FLAG)
    .union(RFlags::ZERO_FLAG)
    .union(RFlags::SIGN_FLAG)
    .union(RFlags::TRAP_FLAG)
    .union(RFlags::DIRECTION_FLAG)
    .union(RFlags::OVERFLOW_FLAG)
    .union(RFlags::ALIGNMENT_CHECK)
    .union(RFlags::ID)
    .bits();
/// RFLAGS bit 1, reserved and always set (`x86_64`'s `RFlags` has no name for it).
pub const RFLAGS_RESERVED_1: u64 = 1 << 1;

/// The RFLAGS a user thread gets back: its own arithmetic flags, interrupts on, nothing
/// privileged.
pub const fn sanitize_rflags(rflags: u64) -> u64 {
    (rflags & RFLAGS_USER_MASK) | RFLAGS_IF | RFLAGS_RESERVED_1
}

/// Whether `addr` is a canonical lower-half address, the only kind a user RIP or FS base may be.
pub const fn is_user_canonical(addr: u64) -> bool {
    addr < 0x0000_8000_0000_0000
}

/// State of the boot CPU, reached from assembly through `gs:` while in the kernel.
#[repr(C)]
pub struct PerCpu {
    /// Top of this CPU's kernel stack, loaded on every entry from user mode.
    pub kernel_rsp: u64,
    /// Scratch for the user RSP during `syscall` entry.
    pub user_rsp: u64,
    /// The context entries save into: the running task's.
    pub current: *mut UserContext,
    /// The context whose FPU state is live in the registers (null: the initial state or none).
    pub fpu_owner: *const UserContext,
    /// The CR3 now loaded (only the kernel writes CR3).
    pub cr3: PhysAddr,
}

static PERCPU: RacyCell<PerCpu> = RacyCell::new(PerCpu {
    kernel_rsp: 0,
    user_rsp: 0,
    current: core::ptr::null_mut(),
    fpu_owner: core::ptr::null(),
    cr3: PhysAddr::zero(),
});

/// Whether the entries use `xsave`/`xrstor` (1) or `fxsave`/`fxrstor` (0). Set once at boot.
pub(super) static PERIHELION_USE_XSAVE: RacyCell<u8> = RacyCell::new(0);

/// The initial FPU state: x87 control word and MXCSR at their reset values, every register zero,
/// and an XSAVE header whose zero `XSTATE_BV` makes `xrstor` initialise every component.
#[repr(C, align(64))]
struct FpuInit([u8; FPU_AREA_SIZE]);

static FPU_INIT: FpuInit = {
    let mut a = [0u8; FPU_AREA_SIZE];
    let fcw = FCW_DEFAULT.to_le_bytes();
    a[0] = fcw[0];
    a[1] = fcw[1];
    let mxcsr = MXCSR_DEFAULT.to_le_bytes();
    a[24] = mxcsr[0];
    a[25] = mxcsr[1];
    a[26] = mxcsr[2];
    a[27] = mxcsr[3];
    FpuInit(a)
};

/// Sets up the per-CPU block (GS base in the kernel, zero for user mode) and the FPU save mode.
pub fn init(kernel_stack_top: u64, cr3: PhysAddr, xsave: bool) {
    let p = PERCPU.get();
    // SAFETY: boot, one CPU, before any user entry: nothing else reaches the per-CPU block or
    // the flag.
    unsafe {
        (*p).kernel_rsp = kernel_stack_top;
        (*p).cr3 = cr3;
        *PERIHELION_USE_XSAVE.get() = u8::from(xsave);
    }
    // The GS base is the per-CPU block (kernel) and the one swapped in by `swapgs` zero (user),
    // which is what the entries expect.
    GsBase::write(VirtAddr::from_ptr(p));
    KernelGsBase::write(VirtAddr::zero());
    FsBase::write(VirtAddr::zero());
}

/// Why a context cannot be entered.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EnterError {
    /// RIP is not a canonical user address.
    BadRip,
    /// The FS base is not a canonical user address.
    BadFsBase,
}

/// Checks and tidies `ctx` for a return to user mode: RIP and FS base must be canonical user
/// addresses; RFLAGS is masked.
fn validate(ctx: &mut UserContext) -> Result<(), EnterError> {
    if !is_user_canonical(ctx.rip) {
        return Err(EnterError::BadRip);
    }
    if !is_user_canonical(ctx.fs_base) {
        return Err(EnterError::BadFsBase);
    }
    ctx.rflags = sanitize_rflags(ctx.rflags);
    Ok(())
}

/// Returns to user mode in `ctx`, on the address space at physical `cr3`: it becomes the
/// current context; CR3 is loaded if another space is; DS, ES, FS and GS are nulled if the task
/// left a selector in any (none carries over to the next task; GS between two `swapgs`, keeping
/// the kernel's GS base); the FS base MSR is written from the context, always (a task can move
/// its own FS base by loading a selector, so no cached value is trusted); then the FPU and the
/// registers (see `perihelion_return_to_user`).
///
/// # Safety
/// `ctx` must be enterable (see [`SavedContext`]'s invariant, which [`SavedContext::validate`]
/// checks) and stay where it is (not move or be freed) for as long as it is the current context;
/// `cr3` must be a complete address space whose upper half is the kernel's.
#[inline]
pub unsafe fn enter_user(ctx: &SavedContext, cr3: PhysAddr) -> ! {
    // SAFETY: the caller's promises are the exit path's: a valid context that stays put while it
    // is current (the per-CPU block names it from now on), and an address space that maps the
    // kernel where it runs. A jump, not a call: nothing comes back, and the caller needs no
    // frame of its own for it.
    unsafe {
        core::arch::asm!(
            "jmp {exit}",
            exit = sym perihelion_return_to_user,
            in("rdi") ctx.as_ptr(),
            in("rsi") cr3.as_u64(),
            options(noreturn),
        )
    }
}

/// Makes a context *full* (every register restored on return, by `iretq`), giving it a valid
/// FPU image first if it had none: the initial state with the context's MXCSR and x87 control
/// word. Used when a supervisor writes a task's registers.
fn make_full(ctx: &mut UserContext) {
    if ctx.full != 0 {
        return;
    }
    ctx.fpu.0.copy_from_slice(&FPU_INIT.0);
    ctx.fpu.0[0..2].copy_from_slice(&ctx.fcw.to_le_bytes());
    ctx.fpu.0[24..28].copy_from_slice(&ctx.mxcsr.to_le_bytes());
    // XSAVE header: x87 and SSE state come from the image (XSTATE_BV bits 0 and 1).
    ctx.fpu.0[512] = 0b11;
    ctx.full = 1;
}

/// If the page tables at `root` are the loaded ones, switches to the kernel's own before they
/// are freed.
pub fn leave_address_space(root: PhysAddr, kernel_root: PhysAddr) {
    let p = PERCPU.get();
    // SAFETY: one CPU, interrupts off: nothing else reaches the per-CPU block. The kernel's
    // tables map everything the kernel uses, and their root is a page-aligned frame.
    unsafe {
        if (*p).cr3 == root {
            Cr3::write(PhysFrame::containing_address(kernel_root), Cr3Flags::empty());
            (*p).cr3 = kernel_root;
        }
    }
}

/// Forgets that `ctx`'s FPU state is live, and that it is current, before it is freed or reused.
pub fn forget_fpu_owner(ctx: &SavedContext) {
    let ctx = ctx.as_ptr();
    // SAFETY: one CPU, interrupts off.
    unsafe {
        let p = PERCPU.get();
        if core::ptr::eq((*p).fpu_owner, ctx) {
            (*p).fpu_owner = core::ptr::null();
        }
        if (*p).current == ctx {
            (*p).current = core::ptr::null_mut();
        }
    }
}

unsafe extern "C" {
    /// The exit: `rdi` the context, `rsi` the address space (see [`enter_user`]).
    fn perihelion_return_to_user();
}

/// The `FS_BASE` MSR.
const MSR_FS_BASE: u32 = 0xc000_0100;

// The short exit of a system call: back to the task that made it, which goes on with nothing
// else to do first (the syscall entry stub jumps here; `syscall::syscall_from_user` says when).
// Its context is partial, its FPU state live and its address space loaded, so of the exit's
// work only what the task itself can have changed, or the kernel's code clobbered, is redone:
// the selectors and the FS base, exactly as `enter_user` does them; the vector registers
// zeroed; the results and the caller-saved registers from the context. The callee-saved
// registers (rbx, r12-r15) still hold the task's values, which the context holds too: Rust code
// keeps them, and the entry stub did not touch them. RBP was zeroed for the kernel's
// backtraces, and comes back from the context.
//
// Hand-written, not the `x86_64` crate, for the reasons given at `perihelion_return_to_user`.
global_asm!(
    r#"
    .section .text.perihelion_resume_syscall, "ax", @progbits
    .global perihelion_resume_syscall
perihelion_resume_syscall:
    /* rdi: the current context. */
    mov eax, ds
    mov ecx, es
    or eax, ecx
    mov ecx, fs
    or eax, ecx
    mov ecx, gs
    or eax, ecx
    jnz 2f
1:
    mov ecx, {msr_fs_base}
    mov eax, dword ptr [rdi + {fs_base}]
    mov edx, dword ptr [rdi + {fs_base} + 4]
    wrmsr
    pxor xmm0, xmm0
    pxor xmm1, xmm1
    pxor xmm2, xmm2
    pxor xmm3, xmm3
    pxor xmm4, xmm4
    pxor xmm5, xmm5
    pxor xmm6, xmm6
    pxor xmm7, xmm7
    pxor xmm8, xmm8
    pxor xmm9, xmm9
    pxor xmm10, xmm10
    pxor xmm11, xmm11
    pxor xmm12, xmm12
    pxor xmm13, xmm13
    pxor xmm14, xmm14
    pxor xmm15, xmm15
    mov rax, [rdi + {rax}]
    mov rdx, [rdi + {rdx}]
    mov rsi, [rdi + {rsi}]
    mov rbp, [rdi + {rbp}]
    mov r8, [rdi + {r8}]
    mov r9, [rdi + {r9}]
    mov r10, [rdi + {r10}]
    mov rcx, [rdi + {rip}]
    mov r11, [rdi + {rflags}]
    mov rsp, [rdi + {rsp}]
    mov rdi, [rdi + {rdi}]
    swapgs
    sysretq
2:
    /* A selector the task loaded: null them all, as `perihelion_return_to_user` does (GS between two
       swapgs, keeping the kernel's GS base), before the FS base is written. */
    xor eax, eax
    mov ds, eax
    mov es, eax
    mov fs, eax
    swapgs
    mov gs, eax
    swapgs
    jmp 1b
    "#,
    msr_fs_base = const MSR_FS_BASE,
    fs_base = const offset_of!(UserContext, fs_base),
    rax = const offset_of!(UserContext, rax),
    rdx = const offset_of!(UserContext, rdx),
    rsi = const offset_of!(UserContext, rsi),
    rdi = const offset_of!(UserContext, rdi),
    rbp = const offset_of!(UserContext, rbp),
    r8 = const offset_of!(UserContext, r8),
    r9 = const offset_of!(UserContext, r9),
    r10 = const offset_of!(UserContext, r10),
    rip = const offset_of!(UserContext, rip),
    rsp = const offset_of!(UserContext, rsp),
    rflags = const offset_of!(UserContext, rflags),
);

// Hand-written, not the `x86_64` crate: the exit restores every register from the context and
// leaves by `sysretq` or `iretq` after `swapgs`; no Rust may run between the restores and the
// return, and the crate has no exit path of this kind.
global_asm!(
    r#"
    .section .text.perihelion_return_to_user, "ax", @progbits
    .global perihelion_return_to_user
perihelion_return_to_user:
    /* rdi: the context to enter, rsi: its address space. The common cases fall through. */
    mov qword ptr gs:[{current}], rdi
    cmp qword ptr gs:[{cr3}], rsi
    je 11f
    mov cr3, rsi
    mov qword ptr gs:[{cr3}], rsi
11:
    mov eax, ds
    mov ecx, es
    or eax, ecx
    mov ecx, fs
    or eax, ecx
    mov ecx, gs
    or eax, ecx
    jnz 12f
13:
    mov ecx, {msr_fs_base}
    mov eax, dword ptr [rdi + {fs_base}]
    mov edx, dword ptr [rdi + {fs_base} + 4]
    wrmsr
    cmp qword ptr [rdi + {full}], 0
    jne 8f

    /* Partial context: leave by sysret. Give the task a clean FPU first if another task's
       state is in the registers: the initial image zeroes every vector register, so the
       `pxor`s (for the kernel's own use of them) are needed only when the task's state stayed
       live (at 3 below). */
    cmp rdi, qword ptr gs:[{fpu_owner}]
    je 3f
    cmp byte ptr [rip + {use_xsave}], 0
    jne 1f
    fxrstor64 [rip + {fpu_init}]
2:
    ldmxcsr [rdi + {mxcsr}]
    fldcw [rdi + {fcw}]
    mov qword ptr gs:[{fpu_owner}], rdi
6:
    mov rax, [rdi + {rax}]
    mov rbx, [rdi + {rbx}]
    mov rdx, [rdi + {rdx}]
    mov rsi, [rdi + {rsi}]
    mov rbp, [rdi + {rbp}]
    mov r8, [rdi + {r8}]
    mov r9, [rdi + {r9}]
    mov r10, [rdi + {r10}]
    mov r12, [rdi + {r12}]
    mov r13, [rdi + {r13}]
    mov r14, [rdi + {r14}]
    mov r15, [rdi + {r15}]
    mov rcx, [rdi + {rip}]
    mov r11, [rdi + {rflags}]
    mov rsp, [rdi + {rsp}]
    mov rdi, [rdi + {rdi}]
    swapgs
    sysretq
3:
    pxor xmm0, xmm0
    pxor xmm1, xmm1
    pxor xmm2, xmm2
    pxor xmm3, xmm3
    pxor xmm4, xmm4
    pxor xmm5, xmm5
    pxor xmm6, xmm6
    pxor xmm7, xmm7
    pxor xmm8, xmm8
    pxor xmm9, xmm9
    pxor xmm10, xmm10
    pxor xmm11, xmm11
    pxor xmm12, xmm12
    pxor xmm13, xmm13
    pxor xmm14, xmm14
    pxor xmm15, xmm15
    jmp 6b
1:
    mov eax, -1
    mov edx, -1
    xrstor64 [rip + {fpu_init}]
    jmp 2b

    /* Full context: restore everything, leave by iretq. */
8:
    mov eax, -1
    mov edx, -1
    cmp byte ptr [rip + {use_xsave}], 0
    je 4f
    xrstor64 [rdi + {fpu}]
    jmp 5f
4:
    fxrstor64 [rdi + {fpu}]
5:
    mov qword ptr gs:[{fpu_owner}], rdi
    push {user_ds}
    push qword ptr [rdi + {rsp}]
    push qword ptr [rdi + {rflags}]
    push {user_cs}
    push qword ptr [rdi + {rip}]
    mov rax, [rdi + {rax}]
    mov rbx, [rdi + {rbx}]
    mov rcx, [rdi + {rcx}]
    mov rdx, [rdi + {rdx}]
    mov rsi, [rdi + {rsi}]
    mov rbp, [rdi + {rbp}]
    mov r8, [rdi + {r8}]
    mov r9, [rdi + {r9}]
    mov r10, [rdi + {r10}]
    mov r11, [rdi + {r11}]
    mov r12, [rdi + {r12}]
    mov r13, [rdi + {r13}]
    mov r14, [rdi + {r14}]
    mov r15, [rdi + {r15}]
    mov rdi, [rdi + {rdi}]
    swapgs
    iretq

12:
    /* A selector the task loaded: null them all before the FS base is written (loading FS
       resets it); GS between two swapgs, so the kernel's GS base waits in KERNEL_GS_BASE (an
       NMI in between takes the kernel-mode trap path, which never uses gs:). */
    xor eax, eax
    mov ds, eax
    mov es, eax
    mov fs, eax
    swapgs
    mov gs, eax
    swapgs
    jmp 13b
    "#,
    current = const offset_of!(PerCpu, current),
    cr3 = const offset_of!(PerCpu, cr3),
    msr_fs_base = const MSR_FS_BASE,
    fs_base = const offset_of!(UserContext, fs_base),
    full = const offset_of!(UserContext, full),
    fpu_owner = const offset_of!(PerCpu, fpu_owner),
    use_xsave = sym PERIHELION_USE_XSAVE,
    fpu_init = sym FPU_INIT,
    mxcsr = const offset_of!(UserContext, mxcsr),
    fcw = const offset_of!(UserContext, fcw),
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
    user_ds = const USER_DS.0 as u64,
    user_cs = const USER_CS.0 as u64,
);
