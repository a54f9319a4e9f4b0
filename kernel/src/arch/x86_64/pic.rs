//! The legacy 8259 PICs: moved off the exception vectors and masked. Interrupts come through the
//! IOAPIC; only a PIC's spurious interrupt (IRQ 7 or 15) can still arrive, and is ignored.

use super::outb;
use super::trap::VECTOR_PIC_BASE;

/// Reinitialises both PICs at `VECTOR_PIC_BASE` and masks every line.
pub fn disable() {
    // SAFETY: the PICs belong to the kernel; this is the standard ICW1-4 sequence followed by a
    // full mask, and port 0x80 writes are the customary I/O delay.
    unsafe {
        outb(0x20, 0x11);
        outb(0x80, 0);
        outb(0xa0, 0x11);
        outb(0x80, 0);
        outb(0x21, VECTOR_PIC_BASE);
        outb(0x80, 0);
        outb(0xa1, VECTOR_PIC_BASE + 8);
        outb(0x80, 0);
        outb(0x21, 4);
        outb(0x80, 0);
        outb(0xa1, 2);
        outb(0x80, 0);
        outb(0x21, 1);
        outb(0x80, 0);
        outb(0xa1, 1);
        outb(0x80, 0);
        outb(0x21, 0xff);
        outb(0xa1, 0xff);
    }
}
