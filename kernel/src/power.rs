//! Powering the machine off (ACPI sleep state S5), on a task's request (`power_off`).
//!
//! The boot path finds how ([`crate::acpi::PowerOff`]: the FADT's PM1 control ports and the
//! DSDT's `\_S5` values) and records it here ([`set`]); [`off`] writes them. `uapi` checks the
//! caller's authority first; this module decides nothing about who may.

use core::cell::Cell;

use crate::acpi::PowerOff;
use crate::sync::Global;

static HOW: Global<Cell<Option<PowerOff>>> = Global::new(Cell::new(None));

/// Records how to power off; once, at boot.
pub fn set(how: PowerOff) {
    HOW.set(Some(how));
}

/// Whether the machine can be powered off.
pub fn available() -> bool {
    HOW.get().is_some()
}

/// Powers the machine off. Returns only if it is still on afterwards (no ACPI S5, or hardware
/// that ignored the write).
pub fn off() {
    let Some(how) = HOW.get() else { return };
    crate::info!("power off (ACPI S5)");
    // SAFETY: the ports and values are the ones the ACPI tables give for S5, and powering off is
    // what was asked: nothing is to run afterwards.
    unsafe {
        crate::arch::acpipm::write_pm1_control(how.pm1a_cnt, PowerOff::value(how.slp_typ_a));
        if how.pm1b_cnt != 0 {
            crate::arch::acpipm::write_pm1_control(how.pm1b_cnt, PowerOff::value(how.slp_typ_b));
        }
    }
}
