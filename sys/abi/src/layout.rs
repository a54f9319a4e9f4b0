//! The user address-space layout: where the kernel puts the root task's start page, stack and
//! initramfs, and the regions every program's runtime (`sys`) keeps for its heap, its mappings
//! and its threads' stacks. `docs/runtime.md` draws the whole map.
//!
//! User addresses are `[USER_BASE, USER_END)`: the lower canonical half minus the null page and
//! the last page below the canonical hole (so that no `sysret` can land on a non-canonical RIP).

/// Size of a page.
pub const PAGE_SIZE: usize = 4096;

/// Lowest user address the kernel maps: page 0 stays unmapped so null dereferences fault.
pub const USER_BASE: usize = 0x1000;

/// One past the highest user address.
pub const USER_END: usize = 0x0000_7fff_ffff_f000;

/// Where the root task's initial stack ends (its first `rsp`).
pub const ROOT_STACK_TOP: usize = 0x0000_7fff_fff0_0000;

/// Size of the root task's initial stack; an unmapped guard page lies below it.
pub const ROOT_STACK_SIZE: usize = 128 * 1024;

/// Where every program's start page ([`start`](crate::start)) is mapped, read-only: the root
/// task's by the kernel (with its [`RootInfo`](crate::RootInfo)), every other program's by its
/// starter. `rdi` holds this address when a program starts.
pub const START_INFO_ADDR: usize = 0x0000_7fff_fff8_0000;

/// Where a starter maps a program's main-thread IPC buffer when it gives it one (the start page
/// names it [`names::IPC_BUFFER`](crate::start::names::IPC_BUFFER)): two pages below the start
/// page, above the main stack.
///
/// ```
/// use abi::layout::{IPC_BUFFER_ADDR, PAGE_SIZE, ROOT_STACK_TOP, START_INFO_ADDR};
/// assert!(ROOT_STACK_TOP < IPC_BUFFER_ADDR && IPC_BUFFER_ADDR + PAGE_SIZE < START_INFO_ADDR);
/// ```
pub const IPC_BUFFER_ADDR: usize = START_INFO_ADDR - 2 * PAGE_SIZE;

/// Where a program's heap grows, by regions the runtime maps (`[HEAP_BASE, HEAP_END)`; the first
/// heap lives in the program's own image).
pub const HEAP_BASE: usize = 0x0000_1000_0000_0000;
/// One past the heap region.
pub const HEAP_END: usize = 0x0000_2000_0000_0000;

/// Where the runtime places anonymous and Page mappings it chooses the address of.
pub const MMAP_BASE: usize = 0x0000_2000_0000_0000;
/// One past the mapping region.
pub const MMAP_END: usize = 0x0000_3000_0000_0000;

/// Where threads' stacks go: slot `i` is `[STACKS_BASE + i * STACK_SLOT, + STACK_SLOT)`, the
/// stack at its top and the rest, a guard of at least a page, unmapped.
pub const STACKS_BASE: usize = 0x0000_3000_0000_0000;
/// Bytes of address space per thread stack (two to a page table, so that many threads need few
/// page tables).
pub const STACK_SLOT: usize = 1 << 20;
/// Thread stack slots.
pub const STACK_SLOTS: usize = 4096;

const _: () = assert!(STACKS_BASE + STACK_SLOTS * STACK_SLOT <= 0x0000_4000_0000_0000);

/// Where the initramfs (a ustar archive) is mapped read-only in the root task.
pub const ROOT_INITRAMFS_ADDR: usize = 0x0000_7000_0000_0000;

/// Whether `[addr, addr + len)` lies inside the user range without wrapping.
///
/// ```
/// use abi::layout::{PAGE_SIZE, USER_END, is_user_range};
///
/// assert!(is_user_range(0x40_0000, 4 * PAGE_SIZE));
/// assert!(!is_user_range(0, 8), "the null page");
/// assert!(!is_user_range(USER_END - 8, 16), "past the user half");
/// assert!(!is_user_range(0x1000, usize::MAX), "wraps around");
/// ```
pub const fn is_user_range(addr: usize, len: usize) -> bool {
    match addr.checked_add(len) {
        Some(end) => addr >= USER_BASE && end <= USER_END,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_range() {
        assert!(is_user_range(USER_BASE, 1));
        assert!(is_user_range(USER_END - 1, 1));
        assert!(!is_user_range(0, 1));
        assert!(!is_user_range(USER_END, 1));
        assert!(!is_user_range(USER_BASE, usize::MAX));
        assert!(!is_user_range(0xffff_8000_0000_0000, 8));
    }

    #[test]
    fn regions_are_user_memory_and_apart() {
        let regions = [
            (HEAP_BASE, HEAP_END),
            (MMAP_BASE, MMAP_END),
            (STACKS_BASE, STACKS_BASE + STACK_SLOTS * STACK_SLOT),
            (ROOT_INITRAMFS_ADDR, ROOT_INITRAMFS_ADDR + 1),
            (ROOT_STACK_TOP - ROOT_STACK_SIZE, ROOT_STACK_TOP),
            (START_INFO_ADDR, START_INFO_ADDR + PAGE_SIZE),
        ];
        for (i, &(a, b)) in regions.iter().enumerate() {
            assert!(is_user_range(a, b - a), "{i}");
            for &(c, d) in &regions[i + 1..] {
                assert!(b <= c || d <= a, "{a:#x}..{b:#x} overlaps {c:#x}..{d:#x}");
            }
        }
    }
}
