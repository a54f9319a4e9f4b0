//! What the machine has: probes for the devices some tests need, which end such a test as
//! skipped where the device is absent and fail it where the device answers wrongly.
//!
//! Absence is recognised by what an x86 bus gives when nothing answers a port: all ones. A read
//! that returns anything else means some device is there, so a kernel whose `ioport_out` lost
//! writes would fail these probes, not skip the tests. QEMU's `pc` and `q35` machines have both
//! devices; `microvm` has the RTC (unless `rtc=off`) and no PCI.
//!
//! - the MC146818 RTC's CMOS RAM: port 0x70 selects a register, 0x71 reads and writes it;
//!   register [`NVRAM`] is a general-purpose byte, which reads back what was written;
//! - PCI configuration mechanism #1: the 32-bit address register at 0xcf8 reads back what was
//!   written (with bit 31 set).

use sys::{IoPort, Slot, root};

use super::support::delete;
use crate::harness::{Reason, TestResult, fail, ok, skip};

/// The CMOS index and data ports.
pub const CMOS_INDEX: usize = 0x70;
pub const CMOS_DATA: usize = 0x71;

/// A general-purpose CMOS NVRAM register (not the clock, status or checksum registers).
pub const NVRAM: u8 = 0x4e;

/// PCI configuration mechanism #1: the address and data registers.
pub const PCI_ADDRESS: usize = 0xcf8;
pub const PCI_DATA: usize = 0xcfc;

/// An IoPort for `[min, max)`, from the root IoPortControl and Memory.
fn ioport(min: usize, max: usize) -> Result<IoPort, Reason> {
    let r = root::ioport_control().create(min, max, root::memory(), Slot::Auto);
    Ok(ok!(r, "ioport_create([{min:#x}, {max:#x}))"))
}

/// Runs `probe` on an IoPort for `[min, max)`, then deletes the IoPort.
fn with_ioport(min: usize, max: usize, probe: fn(IoPort) -> TestResult) -> TestResult {
    let port = ioport(min, max)?;
    let result = probe(port);
    delete(port.cap())?;
    result
}

/// Skips the test unless the machine has the RTC's CMOS RAM: register [`NVRAM`] must read back
/// 0x5a and 0xa5 after they are written (and is restored). All three reads 0xff, where no device
/// answers, is a skip; any other answer a failure.
pub fn need_rtc() -> TestResult {
    with_ioport(CMOS_INDEX, CMOS_DATA + 1, |port| {
        let read = |value: Option<u8>| -> Result<u8, Reason> {
            ok!(port.write8(CMOS_INDEX, NVRAM), "select CMOS register {NVRAM:#x}");
            if let Some(v) = value {
                ok!(port.write8(CMOS_DATA, v), "write {v:#x} to CMOS register {NVRAM:#x}");
            }
            Ok(ok!(port.read8(CMOS_DATA), "read CMOS register {NVRAM:#x}"))
        };
        let saved = read(None)?;
        let got = (read(Some(0x5a))?, read(Some(0xa5))?);
        read(Some(saved))?;
        match (saved, got) {
            (_, (0x5a, 0xa5)) => Ok(()),
            (0xff, (0xff, 0xff)) => skip!("no RTC: CMOS RAM at ports 0x70/0x71 reads 0xff whatever is written"),
            _ => fail!(
                "CMOS register {NVRAM:#x} read back {:#x} and {:#x} after 0x5a and 0xa5 were written",
                got.0,
                got.1
            ),
        }
    })
}

/// Skips the test unless the machine has PCI configuration mechanism #1: the address register
/// must read back 0x80000000 after it is written (and is restored). 0xffffffff, where no
/// device answers, is a skip; any other answer a failure.
pub fn need_pci() -> TestResult {
    with_ioport(PCI_ADDRESS, PCI_ADDRESS + 4, |port| {
        let saved = ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)");
        ok!(port.write32(PCI_ADDRESS, 0x8000_0000), "write32(0xcf8, 0x80000000)");
        let back = ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)");
        ok!(port.write32(PCI_ADDRESS, saved), "restore the PCI address register");
        match back {
            0x8000_0000 => Ok(()),
            0xffff_ffff => skip!("no PCI: the configuration address register at 0xcf8 reads 0xffffffff"),
            _ => fail!("the PCI configuration address register read back {back:#x} after 0x80000000"),
        }
    })
}
