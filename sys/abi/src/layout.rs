//! The user address-space layout the kernel sets up for the root task.
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

/// Where the root task's [`RootInfo`](crate::RootInfo) page is mapped, read-only.
pub const ROOT_INFO_ADDR: usize = 0x0000_7fff_fff8_0000;

/// Where the initramfs (a ustar archive) is mapped read-only in the root task.
pub const ROOT_INITRAMFS_ADDR: usize = 0x0000_7000_0000_0000;

/// Whether `[addr, addr + len)` lies inside the user range without wrapping.
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
}
