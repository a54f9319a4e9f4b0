//! Tests of what the kernel set up before Vulcan's first instruction: the loaded ELF image (its
//! data and zero-filled bss) and the root task's stack.

use core::sync::atomic::{AtomicU64, Ordering};

use sys::Boot;
use sys::abi::layout::{PAGE_SIZE, ROOT_STACK_SIZE, ROOT_STACK_TOP};

use crate::harness::{Test, TestResult, ensure, ensure_eq, fail};

pub const TESTS: &[Test] = &[
    Test::new("image_data_initialised", data_initialised),
    Test::new("image_bss_zeroed", bss_zeroed),
    Test::new("stack_in_root_stack", stack_in_root_stack),
    Test::new("stack_mapped_read_write", stack_mapped_read_write),
];

/// In `.data`: must hold its initial value (read from the file, not zero-filled).
static DATA_WORD: AtomicU64 = AtomicU64::new(0x5eed_da7a_0123_4567);

/// In `.bss`, two pages of it: the loader must zero-fill memory past the file's bytes.
static BSS_WORDS: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];

fn data_initialised(_: &Boot) -> TestResult {
    ensure_eq!(DATA_WORD.load(Ordering::Relaxed), 0x5eed_da7a_0123_4567_u64, "static in .data");
    DATA_WORD.store(7, Ordering::Relaxed);
    ensure_eq!(DATA_WORD.load(Ordering::Relaxed), 7, "static in .data after a store");
    Ok(())
}

fn bss_zeroed(_: &Boot) -> TestResult {
    for (i, word) in BSS_WORDS.iter().enumerate() {
        let v = word.load(Ordering::Relaxed);
        if v != 0 {
            fail!("bss word {i} at {:p} is {v:#x}, not zero", word.as_ptr());
        }
    }
    for (i, word) in BSS_WORDS.iter().enumerate() {
        word.store(!(i as u64), Ordering::Relaxed);
    }
    for (i, word) in BSS_WORDS.iter().enumerate() {
        ensure_eq!(word.load(Ordering::Relaxed), !(i as u64), "bss word {i} after a store");
    }
    Ok(())
}

/// The stack Vulcan runs on is the documented root stack.
fn stack_in_root_stack(_: &Boot) -> TestResult {
    let local = 0u8;
    let addr = core::ptr::from_ref(&local).addr();
    let bottom = ROOT_STACK_TOP - ROOT_STACK_SIZE;
    ensure!(
        (bottom..ROOT_STACK_TOP).contains(&addr),
        "a local is at {addr:#x}, outside the root stack [{bottom:#x}, {ROOT_STACK_TOP:#x})"
    );
    Ok(())
}

/// Every page of the root stack below the current frame can be read and written. A page that is
/// not mapped faults the root task, which fails the run.
#[inline(never)]
fn stack_mapped_read_write(_: &Boot) -> TestResult {
    let local = 0u8;
    let here = core::ptr::from_ref(&local).addr();
    let bottom = ROOT_STACK_TOP - ROOT_STACK_SIZE;
    ensure!(
        (bottom..ROOT_STACK_TOP).contains(&here),
        "not running on the root stack (a local is at {here:#x}); nothing touched"
    );
    // Stay a page clear of this frame (and of the red zone below it): only memory no live Rust
    // object uses is touched.
    let limit = (here & !(PAGE_SIZE - 1)).saturating_sub(PAGE_SIZE);
    let mut page = bottom;
    while page < limit {
        let p = core::ptr::with_exposed_provenance_mut::<u8>(page + PAGE_SIZE / 2);
        // SAFETY: deliberately outside Rust's model: `p` is in the root stack the ABI maps
        // read-write, below the current frame by at least a page, so it belongs to no live
        // object (nothing runs on this stack but this function, and no interrupt or signal
        // frame is ever pushed on a user stack). The byte read is written back unchanged.
        unsafe {
            let v = core::ptr::read_volatile(p);
            core::ptr::write_volatile(p, v);
        }
        page += PAGE_SIZE;
    }
    Ok(())
}
