//! The legacy 8259 PICs: moved off the exception vectors and masked. Interrupts come through the
//! IOAPIC; only a PIC's spurious interrupt (IRQ 7 or 15) can still arrive, and is ignored.

use x86_64::instructions::port::PortWriteOnly;

use super::trap::VECTOR_PIC_BASE;

/// Reinitialises both PICs at `VECTOR_PIC_BASE` and masks every line.
pub fn disable() {
    let mut command1 = PortWriteOnly::<u8>::new(0x20);
    let mut data1 = PortWriteOnly::<u8>::new(0x21);
    let mut command2 = PortWriteOnly::<u8>::new(0xa0);
    let mut data2 = PortWriteOnly::<u8>::new(0xa1);
    // Port 0x80 (the POST code port) is the customary I/O delay between ICW writes.
    let mut delay = PortWriteOnly::<u8>::new(0x80);
    // SAFETY: the PICs belong to the kernel; this is the standard ICW1-4 sequence followed by a
    // full mask, and port 0x80 writes go to no device that cares.
    unsafe {
        command1.write(0x11);
        delay.write(0);
        command2.write(0x11);
        delay.write(0);
        data1.write(VECTOR_PIC_BASE);
        delay.write(0);
        data2.write(VECTOR_PIC_BASE + 8);
        delay.write(0);
        data1.write(4);
        delay.write(0);
        data2.write(2);
        delay.write(0);
        data1.write(1);
        delay.write(0);
        data2.write(1);
        delay.write(0);
        data1.write(0xff);
        data2.write(0xff);
    }
}
