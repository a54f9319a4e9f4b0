//! What the tree's memory costs, in bytes of heap: every block the tree owns is charged as the
//! buddy allocator under it hands blocks out (a power of two, at least [`MIN_BLOCK`] bytes).
//! The budget ([`crate::Fs::limit`]) is held against these figures, before anything is
//! allocated.

/// The smallest block the heap hands out.
pub const MIN_BLOCK: usize = 16;

/// The heap block that holds `bytes`: 0 for none, else the power of two at or above it, at least
/// [`MIN_BLOCK`]; `None` past the address space.
pub const fn block(bytes: usize) -> Option<usize> {
    if bytes == 0 {
        return Some(0);
    }
    match bytes.checked_next_power_of_two() {
        Some(b) if b < MIN_BLOCK => Some(MIN_BLOCK),
        other => other,
    }
}

/// The block of `n` elements of `T`, as a vector's buffer of capacity `n`.
pub const fn array<T>(n: usize) -> Option<usize> {
    match n.checked_mul(size_of::<T>()) {
        Some(bytes) => block(bytes),
        None => None,
    }
}

/// The capacity a vector of `cap` elements grows to when it is full: double, at least 4.
pub const fn grown(cap: usize) -> usize {
    if cap < 4 { 4 } else { cap.saturating_mul(2) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_powers_of_two() {
        assert_eq!(block(0), Some(0));
        assert_eq!(block(1), Some(MIN_BLOCK));
        assert_eq!(block(17), Some(32));
        assert_eq!(block(4096), Some(4096));
        assert_eq!(block(usize::MAX), None);
        assert_eq!(array::<u64>(3), Some(32));
        assert_eq!(grown(0), 4);
        assert_eq!(grown(4), 8);
    }
}
