//! Tests that vector, MMX and AVX registers are each task's own: saved and restored whole when
//! a task is preempted, and never seen by another task.
//!
//! The ABI (`abi::syscall`, docs/abi.md): a syscall returns `xmm0`-`xmm15` zeroed; `ymm` upper
//! halves and the x87/MMX registers are unspecified after a syscall "but never another task's
//! values"; a task interrupted by the timer gets every register back as it left it.
//!
//! A *holder* thread at the root task's priority loads a pattern into `xmm0`-`xmm15`, `mm0`-`mm7`
//! and, where the CPU and kernel enable AVX, the upper halves of `ymm0`-`ymm15`; then it spins,
//! storing every one of them and comparing with the pattern, forever, making no syscall. The root
//! task loads a pattern of its own and looks at its registers after being preempted by the holder
//! (they must be exactly its own pattern), clears them and looks again after yielding to the
//! holder (`xmm` zero, no holder value anywhere), and a new thread looks at its registers on
//! entry (all zero). The holder records a pattern it found changed, which must never happen.
//!
//! The registers are handled in assembly only: Rust code may use the vector registers for itself
//! at any point, so each check loads, waits and stores within one `asm!` block. The blocks use
//! `r12` for the address of the register image, `r13` for a pattern to load and `r14` for "AVX
//! too".

use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};

use sys::Boot;
use sys::abi::syscall::Sysno;
use sys::task::{ROOT_PRIORITY, State, exit_thread};

use super::support::isolated;
use super::threads::{Thread, wait_stopped};
use crate::clock::{Deadline, PATIENCE_MS, wait_until};
use crate::harness::{Test, TestResult, ensure_eq, fail};

pub const TESTS: &[Test] = &[
    Test::new("vector_registers_restored_after_preemption", |b| isolated(b, restored_after_preemption)),
    Test::new("vector_registers_not_seen_after_yield", |b| isolated(b, not_seen_after_yield)),
    Test::new("vector_registers_not_seen_by_new_task", |b| isolated(b, not_seen_by_new_task)),
];

// The assembly pieces. A register image is 72 quadwords: `xmm0`-`xmm15` (0-31), `mm0`-`mm7`
// (32-39), the upper halves of `ymm0`-`ymm15` (40-71, with AVX only).

/// Stores `xmm0`-`xmm15` at `[r12]`, 16 bytes each (qwords 0-31 of an image).
macro_rules! save_xmm {
    () => {
        concat!(
            "movdqu xmmword ptr [r12 + 0], xmm0\n",
            "movdqu xmmword ptr [r12 + 16], xmm1\n",
            "movdqu xmmword ptr [r12 + 32], xmm2\n",
            "movdqu xmmword ptr [r12 + 48], xmm3\n",
            "movdqu xmmword ptr [r12 + 64], xmm4\n",
            "movdqu xmmword ptr [r12 + 80], xmm5\n",
            "movdqu xmmword ptr [r12 + 96], xmm6\n",
            "movdqu xmmword ptr [r12 + 112], xmm7\n",
            "movdqu xmmword ptr [r12 + 128], xmm8\n",
            "movdqu xmmword ptr [r12 + 144], xmm9\n",
            "movdqu xmmword ptr [r12 + 160], xmm10\n",
            "movdqu xmmword ptr [r12 + 176], xmm11\n",
            "movdqu xmmword ptr [r12 + 192], xmm12\n",
            "movdqu xmmword ptr [r12 + 208], xmm13\n",
            "movdqu xmmword ptr [r12 + 224], xmm14\n",
            "movdqu xmmword ptr [r12 + 240], xmm15\n",
        )
    };
}

/// Stores `mm0`-`mm7` at `[r12 + 256]` (qwords 32-39).
macro_rules! save_mm {
    () => {
        concat!(
            "movq qword ptr [r12 + 256], mm0\n",
            "movq qword ptr [r12 + 264], mm1\n",
            "movq qword ptr [r12 + 272], mm2\n",
            "movq qword ptr [r12 + 280], mm3\n",
            "movq qword ptr [r12 + 288], mm4\n",
            "movq qword ptr [r12 + 296], mm5\n",
            "movq qword ptr [r12 + 304], mm6\n",
            "movq qword ptr [r12 + 312], mm7\n",
        )
    };
}

/// Stores the upper halves of `ymm0`-`ymm15` at `[r12 + 320]` (qwords 40-71). AVX only.
macro_rules! save_ymm_high {
    () => {
        concat!(
            "vextractf128 xmmword ptr [r12 + 320], ymm0, 1\n",
            "vextractf128 xmmword ptr [r12 + 336], ymm1, 1\n",
            "vextractf128 xmmword ptr [r12 + 352], ymm2, 1\n",
            "vextractf128 xmmword ptr [r12 + 368], ymm3, 1\n",
            "vextractf128 xmmword ptr [r12 + 384], ymm4, 1\n",
            "vextractf128 xmmword ptr [r12 + 400], ymm5, 1\n",
            "vextractf128 xmmword ptr [r12 + 416], ymm6, 1\n",
            "vextractf128 xmmword ptr [r12 + 432], ymm7, 1\n",
            "vextractf128 xmmword ptr [r12 + 448], ymm8, 1\n",
            "vextractf128 xmmword ptr [r12 + 464], ymm9, 1\n",
            "vextractf128 xmmword ptr [r12 + 480], ymm10, 1\n",
            "vextractf128 xmmword ptr [r12 + 496], ymm11, 1\n",
            "vextractf128 xmmword ptr [r12 + 512], ymm12, 1\n",
            "vextractf128 xmmword ptr [r12 + 528], ymm13, 1\n",
            "vextractf128 xmmword ptr [r12 + 544], ymm14, 1\n",
            "vextractf128 xmmword ptr [r12 + 560], ymm15, 1\n",
        )
    };
}

/// Loads `xmm0`-`xmm15` from the image at `[r13]`.
macro_rules! load_xmm {
    () => {
        concat!(
            "movdqu xmm0, xmmword ptr [r13 + 0]\n",
            "movdqu xmm1, xmmword ptr [r13 + 16]\n",
            "movdqu xmm2, xmmword ptr [r13 + 32]\n",
            "movdqu xmm3, xmmword ptr [r13 + 48]\n",
            "movdqu xmm4, xmmword ptr [r13 + 64]\n",
            "movdqu xmm5, xmmword ptr [r13 + 80]\n",
            "movdqu xmm6, xmmword ptr [r13 + 96]\n",
            "movdqu xmm7, xmmword ptr [r13 + 112]\n",
            "movdqu xmm8, xmmword ptr [r13 + 128]\n",
            "movdqu xmm9, xmmword ptr [r13 + 144]\n",
            "movdqu xmm10, xmmword ptr [r13 + 160]\n",
            "movdqu xmm11, xmmword ptr [r13 + 176]\n",
            "movdqu xmm12, xmmword ptr [r13 + 192]\n",
            "movdqu xmm13, xmmword ptr [r13 + 208]\n",
            "movdqu xmm14, xmmword ptr [r13 + 224]\n",
            "movdqu xmm15, xmmword ptr [r13 + 240]\n",
        )
    };
}

/// Loads `mm0`-`mm7` from the image at `[r13]`.
macro_rules! load_mm {
    () => {
        concat!(
            "movq mm0, qword ptr [r13 + 256]\n",
            "movq mm1, qword ptr [r13 + 264]\n",
            "movq mm2, qword ptr [r13 + 272]\n",
            "movq mm3, qword ptr [r13 + 280]\n",
            "movq mm4, qword ptr [r13 + 288]\n",
            "movq mm5, qword ptr [r13 + 296]\n",
            "movq mm6, qword ptr [r13 + 304]\n",
            "movq mm7, qword ptr [r13 + 312]\n",
        )
    };
}

/// Loads the upper halves of `ymm0`-`ymm15` from the image at `[r13]`, keeping the lower halves. AVX only.
macro_rules! load_ymm_high {
    () => {
        concat!(
            "vinsertf128 ymm0, ymm0, xmmword ptr [r13 + 320], 1\n",
            "vinsertf128 ymm1, ymm1, xmmword ptr [r13 + 336], 1\n",
            "vinsertf128 ymm2, ymm2, xmmword ptr [r13 + 352], 1\n",
            "vinsertf128 ymm3, ymm3, xmmword ptr [r13 + 368], 1\n",
            "vinsertf128 ymm4, ymm4, xmmword ptr [r13 + 384], 1\n",
            "vinsertf128 ymm5, ymm5, xmmword ptr [r13 + 400], 1\n",
            "vinsertf128 ymm6, ymm6, xmmword ptr [r13 + 416], 1\n",
            "vinsertf128 ymm7, ymm7, xmmword ptr [r13 + 432], 1\n",
            "vinsertf128 ymm8, ymm8, xmmword ptr [r13 + 448], 1\n",
            "vinsertf128 ymm9, ymm9, xmmword ptr [r13 + 464], 1\n",
            "vinsertf128 ymm10, ymm10, xmmword ptr [r13 + 480], 1\n",
            "vinsertf128 ymm11, ymm11, xmmword ptr [r13 + 496], 1\n",
            "vinsertf128 ymm12, ymm12, xmmword ptr [r13 + 512], 1\n",
            "vinsertf128 ymm13, ymm13, xmmword ptr [r13 + 528], 1\n",
            "vinsertf128 ymm14, ymm14, xmmword ptr [r13 + 544], 1\n",
            "vinsertf128 ymm15, ymm15, xmmword ptr [r13 + 560], 1\n",
        )
    };
}

/// Zeroes `xmm0`-`xmm15` and `mm0`-`mm7` (the upper `ymm` halves need `vzeroall`).
macro_rules! clear_vectors {
    () => {
        concat!(
            "pxor xmm0, xmm0\n",
            "pxor xmm1, xmm1\n",
            "pxor xmm2, xmm2\n",
            "pxor xmm3, xmm3\n",
            "pxor xmm4, xmm4\n",
            "pxor xmm5, xmm5\n",
            "pxor xmm6, xmm6\n",
            "pxor xmm7, xmm7\n",
            "pxor xmm8, xmm8\n",
            "pxor xmm9, xmm9\n",
            "pxor xmm10, xmm10\n",
            "pxor xmm11, xmm11\n",
            "pxor xmm12, xmm12\n",
            "pxor xmm13, xmm13\n",
            "pxor xmm14, xmm14\n",
            "pxor xmm15, xmm15\n",
            "pxor mm0, mm0\n",
            "pxor mm1, mm1\n",
            "pxor mm2, mm2\n",
            "pxor mm3, mm3\n",
            "pxor mm4, mm4\n",
            "pxor mm5, mm5\n",
            "pxor mm6, mm6\n",
            "pxor mm7, mm7\n",
        )
    };
}

/// Quadwords in a register image.
const QWORDS: usize = 72;
/// Quadwords of an image without AVX: the `xmm` and `mm` registers.
const QWORDS_NO_AVX: usize = 40;
/// Quadwords of the `xmm` registers.
const QWORDS_XMM: usize = 32;

/// A register image.
#[repr(C, align(64))]
struct Image([u64; QWORDS]);

/// The holder's pattern: a distinct, recognisable value in every quadword.
static PATTERN: Image = Image(pattern(0x5ec7_e700_0000_a5a5));

/// The root task's own pattern, which it must get back after preemption.
static ROOT_PATTERN: Image = Image(pattern(0x2007_0000_0000_5a5a));

const fn pattern(base: u64) -> [u64; QWORDS] {
    let mut a = [0; QWORDS];
    let mut i = 0;
    while i < QWORDS {
        a[i] = base | ((i as u64) << 16);
        i += 1;
    }
    a
}

/// Rounds of comparison the holder made.
static HOLDER_ROUNDS: AtomicU64 = AtomicU64::new(0);
/// The index + 1 of the last quadword the holder found changed (0: none ever).
static HOLDER_CHANGED: AtomicU64 = AtomicU64::new(0);

/// Whether AVX state is enabled for user mode: the CPU has AVX, the kernel turned on XSAVE
/// (OSXSAVE) and XCR0 enables the SSE and AVX components.
fn avx_enabled() -> bool {
    let ecx: u32;
    // SAFETY: `cpuid` leaf 1 only writes eax, ebx, ecx and edx; rbx is reserved by the compiler,
    // so it is saved in a scratch register and restored.
    unsafe {
        asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = out(reg) _,
            inout("eax") 1u32 => _,
            inout("ecx") 0u32 => ecx,
            out("edx") _,
            options(nostack, nomem, preserves_flags),
        )
    };
    let (osxsave, avx) = (ecx & (1 << 27) != 0, ecx & (1 << 28) != 0);
    if !(osxsave && avx) {
        return false;
    }
    let xcr0: u32;
    // SAFETY: `xgetbv` is allowed in user mode once CR4.OSXSAVE is set, which CPUID's OSXSAVE bit
    // reports; it only writes eax and edx.
    unsafe { asm!("xgetbv", in("ecx") 0u32, out("eax") xcr0, out("edx") _, options(nostack, nomem, preserves_flags)) };
    xcr0 & 0b110 == 0b110
}

/// The holder: loads the pattern, then compares its registers with it forever (see the module
/// docs). `avx` (0 or 1) says whether to include the `ymm` upper halves.
extern "C" fn holder(avx: usize) -> ! {
    // SAFETY: the block never returns. It moves to a 64-byte aligned scratch area on its own
    // stack (`sub rsp`; the thread's stack has room), reads `PATTERN` (read-only), and changes
    // only registers and the two atomic counters, with `lock` instructions. AVX instructions run
    // only when `avx_enabled` said they are allowed.
    unsafe {
        asm!(
            "sub rsp, 1024",
            "and rsp, -64",
            "mov r12, rsp",
            load_xmm!(),
            load_mm!(),
            "test r14, r14",
            "jz 2f",
            load_ymm_high!(),
            "2:",
            save_xmm!(),
            save_mm!(),
            "mov ecx, 40",
            "test r14, r14",
            "jz 3f",
            save_ymm_high!(),
            "mov ecx, 72",
            "3:",
            "mov rax, qword ptr [r12 + rcx * 8 - 8]",
            "cmp rax, qword ptr [r13 + rcx * 8 - 8]",
            "jne 4f",
            "sub rcx, 1",
            "jnz 3b",
            "lock inc qword ptr [rdi]",
            "jmp 2b",
            "4:",
            "mov qword ptr [r8], rcx",
            "lock inc qword ptr [rdi]",
            "jmp 2b",
            in("r13") PATTERN.0.as_ptr(),
            in("r14") avx,
            in("rdi") HOLDER_ROUNDS.as_ptr(),
            in("r8") HOLDER_CHANGED.as_ptr(),
            options(noreturn),
        )
    }
}

/// Loads `ROOT_PATTERN` into its own vector registers, spins without a syscall until the holder
/// has counted a round (so this task was preempted and then resumed) or `deadline` passes, then
/// stores its registers in `image`. Returns whether the deadline passed.
fn image_after_preemption(image: &mut Image, avx: bool, deadline: Deadline) -> bool {
    let timed_out: u64;
    // SAFETY: the block reads `ROOT_PATTERN` (through r13, 576 bytes, its size), writes only
    // `image` (through r12, likewise) and registers: the ones named as outputs, and the vector,
    // MMX and x87 registers, all declared clobbered by `clobber_abi`; it ends with `emms`, leaving
    // the x87 unit as the ABI wants it. `rdtsc` does not fault in user mode; AVX instructions run
    // only with `avx`, which `avx_enabled` set.
    unsafe {
        asm!(
            load_xmm!(),
            load_mm!(),
            "test r14, r14",
            "jz 2f",
            load_ymm_high!(),
            "2:",
            "mov r10, qword ptr [rdi]",
            "xor r11d, r11d",
            "3:",
            "cmp qword ptr [rdi], r10",
            "jne 4f",
            "rdtsc",
            "shl rdx, 32",
            "or rax, rdx",
            "cmp rax, r8",
            "jb 3b",
            "mov r11d, 1",
            "4:",
            save_xmm!(),
            save_mm!(),
            "test r14, r14",
            "jz 5f",
            save_ymm_high!(),
            "5:",
            "emms",
            in("r12") image.0.as_mut_ptr(),
            in("r13") ROOT_PATTERN.0.as_ptr(),
            in("r14") u64::from(avx),
            in("rdi") HOLDER_ROUNDS.as_ptr(),
            in("r8") deadline.tsc(),
            out("r10") _,
            out("r11") timed_out,
            clobber_abi("sysv64"),
            options(nostack),
        )
    };
    timed_out != 0
}

/// Clears its own vector registers, yields, and stores its registers in `image` right after the
/// syscall returns. Returns the syscall's `rax`.
fn image_after_yield(image: &mut Image, avx: bool) -> usize {
    let rax: usize;
    // SAFETY: `task_yield` touches no memory of this task; r12 and r14 survive it (callee-saved in
    // the syscall ABI). Otherwise as in `image_after_preemption`: the block writes only `image`
    // and declared registers.
    unsafe {
        asm!(
            clear_vectors!(),
            "test r14, r14",
            "jz 2f",
            "vzeroall",
            "2:",
            "syscall",
            save_xmm!(),
            save_mm!(),
            "test r14, r14",
            "jz 5f",
            save_ymm_high!(),
            "5:",
            "emms",
            in("r12") image.0.as_mut_ptr(),
            in("r14") u64::from(avx),
            inlateout("rax") Sysno::TaskYield as usize => rax,
            clobber_abi("sysv64"),
            options(nostack),
        )
    };
    rax
}

/// The image a new thread stores on entry.
struct SharedImage(UnsafeCell<Image>);

// SAFETY: written only by the `fresh` thread, read only by the root task after that thread has
// exited (the exit, seen through `task_info`, orders the two).
unsafe impl Sync for SharedImage {}

static FRESH_IMAGE: SharedImage = SharedImage(UnsafeCell::new(Image([0; QWORDS])));

/// Stores its registers on entry in `FRESH_IMAGE` and exits.
extern "C" fn fresh(avx: usize) -> ! {
    // SAFETY: the block writes only `FRESH_IMAGE` (576 bytes, its size; nothing else refers to it
    // while this thread runs) and the x87 tag word (`emms`); AVX instructions run only with
    // `avx`, which `avx_enabled` set.
    unsafe {
        asm!(
            save_xmm!(),
            save_mm!(),
            "test r14, r14",
            "jz 2f",
            save_ymm_high!(),
            "2:",
            "emms",
            in("r12") FRESH_IMAGE.0.get().cast::<u64>(),
            in("r14") avx,
            options(nostack),
        )
    };
    exit_thread(0)
}

/// The register a quadword of an image is part of.
struct Where(usize);

impl core::fmt::Display for Where {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            i if i < QWORDS_XMM => write!(f, "xmm{} bits {}..", i / 2, 64 * (i % 2)),
            i if i < QWORDS_NO_AVX => write!(f, "mm{}", i - QWORDS_XMM),
            i => write!(f, "ymm{} bits {}..", (i - QWORDS_NO_AVX) / 2, 128 + 64 * ((i - QWORDS_NO_AVX) % 2)),
        }
    }
}

/// Quadwords of an image that count: all with AVX, else the `xmm` and `mm` ones.
fn used(avx: bool) -> usize {
    if avx { QWORDS } else { QWORDS_NO_AVX }
}

/// Fails if any quadword of `image[..n]` is a pattern value.
fn ensure_no_pattern(image: &Image, n: usize, what: &str) -> TestResult {
    for (i, &v) in image.0[..n].iter().enumerate() {
        if let Some(j) = PATTERN.0.iter().position(|&p| p == v) {
            fail!("{what}: {} holds {v:#x}, the holder's value for {}", Where(i), Where(j));
        }
    }
    Ok(())
}

/// Fails unless `image[range]` is all zero.
fn ensure_zero(image: &Image, range: core::ops::Range<usize>, what: &str) -> TestResult {
    for i in range {
        let v = image.0[i];
        if v != 0 {
            fail!("{what}: {} holds {v:#x}, not 0", Where(i));
        }
    }
    Ok(())
}

/// Runs `body` while the holder spins at the root task's priority with its pattern loaded;
/// then checks the holder went on, found its registers intact, and did not fault.
fn with_holder(boot: &Boot, body: impl FnOnce(bool) -> TestResult) -> TestResult {
    let avx = avx_enabled();
    HOLDER_ROUNDS.store(0, SeqCst);
    HOLDER_CHANGED.store(0, SeqCst);
    let h = Thread::start(holder, usize::from(avx), ROOT_PRIORITY)?;
    wait_until(boot, "the holder's first round", || {
        HOLDER_ROUNDS.load(SeqCst) > 0 || h.info().is_ok_and(|i| i.is_stopped())
    })?;
    h.ensure_state(State::Runnable, "the holder, after its first round")?;
    body(avx)?;
    let rounds = HOLDER_ROUNDS.load(SeqCst);
    wait_until(boot, "the holder's next round", || {
        HOLDER_ROUNDS.load(SeqCst) > rounds || h.info().is_ok_and(|i| i.is_stopped())
    })?;
    h.ensure_state(State::Runnable, "the holder, at the end")?;
    let changed = HOLDER_CHANGED.load(SeqCst) as usize;
    if changed != 0 {
        fail!("the holder found its {} changed across preemption", Where(changed - 1));
    }
    h.kill()
}

/// Preempted by the holder and resumed, the root task has exactly its own registers back.
fn restored_after_preemption(boot: &Boot) -> TestResult {
    with_holder(boot, |avx| {
        let ymm = if avx { ", and the upper halves of ymm0-ymm15" } else { " (AVX is not enabled)" };
        sys::println!("vulcan: vector register tests cover xmm0-xmm15, mm0-mm7{ymm}");
        for round in 0..5 {
            let mut image = Image([0xdead_dead_dead_dead; QWORDS]);
            if image_after_preemption(&mut image, avx, Deadline::after_ms(boot, PATIENCE_MS)) {
                fail!("round {round}: spun {PATIENCE_MS} ms and the holder never ran");
            }
            for i in 0..used(avx) {
                let (got, own) = (image.0[i], ROOT_PATTERN.0[i]);
                if got != own {
                    fail!(
                        "round {round}: after preemption the root task's {} holds {got:#x}, not its own {own:#x}",
                        Where(i)
                    );
                }
            }
        }
        Ok(())
    })
}

/// Back from a yield during which the holder ran, the root task's `xmm` registers are zero and
/// none of its vector registers holds a holder value.
fn not_seen_after_yield(boot: &Boot) -> TestResult {
    with_holder(boot, |avx| {
        for round in 0..5 {
            let mut image = Image([0xdead_dead_dead_dead; QWORDS]);
            let before = HOLDER_ROUNDS.load(SeqCst);
            let rax = image_after_yield(&mut image, avx);
            ensure_eq!(rax, 0, "round {round}: rax of task_yield");
            // The holder, the only other task at this priority, ran during the yield.
            let after = HOLDER_ROUNDS.load(SeqCst);
            if after == before {
                fail!("round {round}: the holder did not run during the yield");
            }
            ensure_zero(&image, 0..QWORDS_XMM, "root task after task_yield")?;
            ensure_no_pattern(&image, used(avx), "root task after task_yield")?;
        }
        Ok(())
    })
}

/// A thread started while the holder's registers are live in the CPU (it runs right after the
/// holder's timeslice) starts with all of its vector registers zero.
fn not_seen_by_new_task(boot: &Boot) -> TestResult {
    with_holder(boot, |avx| {
        for round in 0..3 {
            // SAFETY: no thread runs `fresh` now (the last one exited), so this is the only
            // reference to the image.
            unsafe { (*FRESH_IMAGE.0.get()).0 = [0xdead_dead_dead_dead; QWORDS] };
            let t = Thread::start(fresh, usize::from(avx), ROOT_PRIORITY)?;
            let info = wait_stopped(boot, &t, "the new thread")?;
            ensure_eq!((info.state, info.detail), (Ok(State::Exited), 0), "round {round}: the new thread");
            t.kill()?;
            // SAFETY: the thread that wrote the image has exited and its task is gone.
            let image: &Image = unsafe { &*FRESH_IMAGE.0.get() };
            ensure_no_pattern(image, used(avx), "new thread on entry")?;
            ensure_zero(image, 0..used(avx), "new thread on entry")?;
        }
        Ok(())
    })
}
