//! I/O ports: the limits an IoPort range obeys, and the ports the kernel keeps for itself.
//!
//! An IoPort capability names a range of ports `[min, max)` made from the IoPortControl
//! capability with `ioport_create`. The range must be non-empty, end at or below [`PORT_LIMIT`],
//! and share no port with [`KERNEL_PORTS`]. `ioport_in` and `ioport_out` move 1, 2 or 4 bytes
//! ([`WIDTHS`]) at a port `p` with `min <= p` and `p + width <= max`.

use crate::testexit;

/// One past the highest I/O port: a range's `max` is at most this.
pub const PORT_LIMIT: usize = 0x1_0000;

/// Access widths `ioport_in` and `ioport_out` accept, in bytes.
pub const WIDTHS: [usize; 3] = [1, 2, 4];

/// Pages an IoPort object takes (its header and range), charged to the Memory it is made from.
pub const IOPORT_PAGES: usize = 1;

/// Port ranges `[start, end)` that the kernel drives itself. `ioport_create` refuses
/// (`InvalidArgument`) any range that shares a port with one of them.
pub const KERNEL_PORTS: [(usize, usize); 6] = [
    // The master 8259 PIC (masked at boot).
    (0x20, 0x22),
    // The PIT, which may measure the TSC and the APIC timer at boot.
    (0x40, 0x44),
    // System control port B: NMI status and the NMI source enables, which are the kernel's.
    (0x61, 0x62),
    // The slave 8259 PIC.
    (0xa0, 0xa2),
    // QEMU's `isa-debug-exit` device: a write to any of its 4 ports ends the run.
    (testexit::PORT as usize, testexit::PORT as usize + 4),
    // COM1, the kernel's debug console, until `console_release` hands it over.
    (CONSOLE_PORTS.0, CONSOLE_PORTS.1),
];

/// COM1's ports `[start, end)`: the kernel's until `console_release` hands them to a driver
/// (`docs/abi.md`, "The kernel log and COM1"); from then on `ioport_create` may make them.
pub const CONSOLE_PORTS: (usize, usize) = (0x3f8, 0x400);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_ports_are_sorted_disjoint_and_in_range() {
        for (i, &(start, end)) in KERNEL_PORTS.iter().enumerate() {
            assert!(start < end && end <= PORT_LIMIT);
            if i > 0 {
                assert!(KERNEL_PORTS[i - 1].1 <= start);
            }
        }
        assert!(KERNEL_PORTS.contains(&(0xf4, 0xf8)));
    }
}
