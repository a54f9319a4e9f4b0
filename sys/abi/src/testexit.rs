//! How a run ends under QEMU: the kernel/host contract behind `isa-debug-exit`.
//!
//! When the root task exits, the kernel writes one byte to [`PORT`]. QEMU's `isa-debug-exit`
//! device turns a write of `v` into the exit status `(v << 1) | 1`. Without the device the write
//! is ignored and the kernel halts.

/// I/O port of QEMU's `isa-debug-exit` device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const PORT: u16 = 0xf4;

/// Written when the root task exits with status 0.
pub const SUCCESS: u8 = 0x10;
/// Written when the root task exits with any other status.
pub const FAILURE: u8 = 0x11;
/// Written on a kernel panic, a fatal boot error, or a root task that faults.
pub const PANIC: u8 = 0x12;

/// QEMU's exit status for a byte written to [`PORT`].
///
/// ```
/// use abi::testexit::{FAILURE, PANIC, SUCCESS, qemu_status};
///
/// // What the host sees as QEMU's exit status.
/// assert_eq!(qemu_status(SUCCESS), 33);
/// assert_eq!(qemu_status(FAILURE), 35);
/// assert_eq!(qemu_status(PANIC), 37);
/// ```
pub const fn qemu_status(value: u8) -> i32 {
    ((value as i32) << 1) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(qemu_status(SUCCESS), 33);
        assert_eq!(qemu_status(FAILURE), 35);
        assert_eq!(qemu_status(PANIC), 37);
    }
}
