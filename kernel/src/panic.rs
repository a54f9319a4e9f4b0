//! Kernel panics and fatal kernel-mode exceptions: one report on the console, a bounded
//! backtrace, and the run ends with the panic exit code.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{backtrace, trap};
use crate::console;
use crate::end::end_run_panicked;

static PANICKING: AtomicBool = AtomicBool::new(false);

fn print_backtrace(rbp: u64) {
    crate::error!("backtrace:");
    backtrace::walk(rbp, |ret| crate::error!("  {ret:#018x}"));
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    console::force_unlock();
    if PANICKING.swap(true, Ordering::Relaxed) {
        crate::error!("panic while panicking: {}", info.message());
        end_run_panicked();
    }
    match info.location() {
        Some(l) => crate::error!("kernel panic at {}:{}: {}", l.file(), l.line(), info.message()),
        None => crate::error!("kernel panic: {}", info.message()),
    }
    print_backtrace(backtrace::current_rbp());
    end_run_panicked()
}

/// An exception in kernel mode: a kernel bug. Reports it and ends the run.
pub fn kernel_exception(frame: &trap::KernelFrame, cr2: u64) -> ! {
    console::force_unlock();
    crate::error!(
        "kernel exception: {} (vector {}), error {:#x}, rip {:#x}, cr2 {:#x}, rsp {:#x}",
        trap::exception_name(frame.vector),
        frame.vector,
        frame.error,
        frame.rip,
        cr2,
        frame.rsp
    );
    crate::error!(
        "  rax {:#x} rbx {:#x} rcx {:#x} rdx {:#x} rsi {:#x} rdi {:#x} rbp {:#x}",
        frame.rax,
        frame.rbx,
        frame.rcx,
        frame.rdx,
        frame.rsi,
        frame.rdi,
        frame.rbp
    );
    crate::error!("  at {:#018x}", frame.rip);
    print_backtrace(frame.rbp);
    end_run_panicked()
}

/// The precompiled `core` refers to this symbol; with `panic = "abort"` it is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
