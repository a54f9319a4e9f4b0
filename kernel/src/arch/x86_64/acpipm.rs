//! The ACPI PM1 control registers: the one write that puts the machine in sleep state S5 (off).
//!
//! Owns only the port write; which ports and values is `crate::power`'s (from the ACPI tables).

use x86_64::instructions::port::PortWriteOnly;

/// Writes `value` to the PM1 control register at `port`.
///
/// # Safety
/// `port` must be the PM1 control block the FADT names, and `value` one that puts the machine to
/// sleep (the caller means it to stop: nothing runs after a successful write).
pub unsafe fn write_pm1_control(port: u16, value: u16) {
    let mut p = PortWriteOnly::<u16>::new(port);
    // SAFETY: the caller's promise: the FADT's PM1 control port, written to power off.
    unsafe { p.write(value) };
}
