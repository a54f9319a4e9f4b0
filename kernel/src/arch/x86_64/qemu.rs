//! Ending a run: QEMU's `isa-debug-exit` device, or a halt on hardware.

use abi::testexit;
use x86_64::instructions::port::PortWriteOnly;

/// Ends the run with `code` (one of [`abi::testexit`]'s values). Under QEMU with the
/// `isa-debug-exit` device this exits QEMU; elsewhere the write goes nowhere and the CPU halts.
pub fn exit(code: u8) -> ! {
    // SAFETY: port 0xf4 is the debug-exit device under QEMU and unassigned on PCs; a write to an
    // unassigned port is ignored.
    unsafe { PortWriteOnly::<u8>::new(testexit::PORT).write(code) }
    super::halt_forever()
}
