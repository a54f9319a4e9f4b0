//! QEMU's standard VGA (the Bochs display) through its VBE DISPI registers: an index port
//! (0x1ce) and a data port (0x1cf), 16 bits each. Setting a mode: disable, set the width,
//! height and depth, enable with the linear framebuffer.

use sys::IoPort;

const INDEX: usize = 0x1ce;
const DATA: usize = 0x1cf;

const REG_ID: u16 = 0;
const REG_XRES: u16 = 1;
const REG_YRES: u16 = 2;
const REG_BPP: u16 = 3;
const REG_ENABLE: u16 = 4;
const REG_VIRT_WIDTH: u16 = 6;
const REG_VIRT_HEIGHT: u16 = 7;
const REG_X_OFFSET: u16 = 8;
const REG_Y_OFFSET: u16 = 9;

const ENABLED: u16 = 0x01;
const LFB_ENABLED: u16 = 0x40;

/// The interface versions that have 32-bit modes and a linear framebuffer: 0xb0c2 on.
const ID_MIN: u16 = 0xb0c2;
const ID_MAX: u16 = 0xb0cf;

fn write(io: IoPort, reg: u16, value: u16) -> sys::Result<()> {
    io.write16(INDEX, reg)?;
    io.write16(DATA, value)
}

fn read(io: IoPort, reg: u16) -> sys::Result<u16> {
    io.write16(INDEX, reg)?;
    io.read16(DATA)
}

/// Sets `width` x `height` at 32 bits per pixel, with the linear framebuffer; the reason in a
/// few words if the card is not there or does not take the mode.
pub fn set_mode(io: IoPort, width: u16, height: u16) -> Result<(), &'static str> {
    let id = read(io, REG_ID).map_err(|_| "the DISPI ports are not mine")?;
    if !(ID_MIN..=ID_MAX).contains(&id) {
        return Err("no Bochs VBE DISPI interface answers");
    }
    let steps = [
        (REG_ENABLE, 0),
        (REG_XRES, width),
        (REG_YRES, height),
        (REG_BPP, 32),
        (REG_VIRT_WIDTH, width),
        (REG_VIRT_HEIGHT, height),
        (REG_X_OFFSET, 0),
        (REG_Y_OFFSET, 0),
        (REG_ENABLE, ENABLED | LFB_ENABLED),
    ];
    for (reg, value) in steps {
        write(io, reg, value).map_err(|_| "a DISPI write failed")?;
    }
    match (read(io, REG_XRES), read(io, REG_YRES), read(io, REG_BPP)) {
        (Ok(w), Ok(h), Ok(32)) if (w, h) == (width, height) => Ok(()),
        _ => Err("the card did not take the mode"),
    }
}
