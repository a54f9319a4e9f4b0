//! The screen a manifest's `framebuffer` line is given: the framebuffer the boot loader left
//! (Limine's, from `RootInfo::framebuffer`), or, where there is none (a PVH boot), QEMU's
//! standard VGA (the Bochs display, PCI 1234:1111), found on PCI bus 0 through the
//! configuration ports 0xcf8-0xcff and given at a mode Mercury picks. That card shows nothing of
//! its framebuffer until a driver sets the mode through its VBE DISPI registers (ports
//! 0x1ce-0x1cf, which the driver's manifest must ask for): the environment says so
//! (`framebuffer.mode=bochs`).
//!
//! Mercury only finds the memory and says what it is; the driver that gets it draws. A Page holds
//! at most 512 pages (2 MiB), so a framebuffer is given as Pages of a power of two of pages each,
//! largest first ([`Screen::runs`]): `framebuffer`, `framebuffer.1`, ... in the start page; one
//! larger than [`MAX_PAGE_OBJECTS`] of them (64 MiB) is given as the lines that fit.

use alloc::string::String;
use alloc::vec::Vec;

use sys::abi::layout::PAGE_SIZE;
use sys::abi::rootinfo::Framebuffer;
use sys::vspace::MAX_PAGE_COUNT;
use sys::{Slot, root};

/// The mode Mercury gives the Bochs display: 800 x 600 at 32 bits per pixel (1.8 MiB, one Page).
pub const BOCHS_MODE: (u32, u32) = (800, 600);

/// Most Page objects a framebuffer is given as.
pub const MAX_PAGE_OBJECTS: usize = 32;

/// PCI vendor and device of QEMU's standard VGA (and Bochs').
const BOCHS_VGA: u32 = 0x1111_1234;

/// A screen's memory and geometry.
#[derive(Copy, Clone, Debug)]
pub struct Screen {
    /// Physical address of the first byte.
    pub phys: u64,
    /// Its pages (as many as its lines need).
    pub pages: usize,
    pub width: u32,
    pub height: u32,
    pub pitch: u32,
    /// Bit shifts of red, green and blue in a 32-bit pixel.
    pub shifts: [u8; 3],
    /// Whether the driver must set the mode through the Bochs DISPI registers.
    pub bochs: bool,
}

impl Screen {
    /// The Page objects it is given as: their sizes in pages, powers of two, largest first.
    pub fn runs(&self) -> impl Iterator<Item = usize> {
        let mut left = self.pages;
        core::iter::from_fn(move || {
            let n = (1usize << left.checked_ilog2()?).min(MAX_PAGE_COUNT);
            left -= n;
            Some(n)
        })
    }

    /// What the driver is told, as environment strings.
    pub fn environment(&self) -> Vec<String> {
        let [r, g, b] = self.shifts;
        alloc::vec![
            alloc::format!("framebuffer.width={}", self.width),
            alloc::format!("framebuffer.height={}", self.height),
            alloc::format!("framebuffer.pitch={}", self.pitch),
            alloc::format!("framebuffer.format={r},{g},{b}"),
            alloc::format!("framebuffer.mode={}", if self.bochs { "bochs" } else { "boot" }),
            alloc::format!("framebuffer.pages={}", self.runs().count()),
        ]
    }

    /// One line for the log.
    pub fn describe(&self) -> String {
        let what = if self.bochs { "QEMU's standard VGA (set by its driver)" } else { "the boot framebuffer" };
        alloc::format!("{}x{} at {:#x}, {what}", self.width, self.height, self.phys)
    }
}

/// The screen of this machine, if there is one a driver can use; the reason if not.
pub fn find(boot: &Framebuffer) -> Result<Screen, &'static str> {
    if boot.is_present() { from_boot(boot) } else { bochs() }
}

/// Pages that hold `bytes`.
fn pages_for(bytes: u64) -> usize {
    bytes.div_ceil(PAGE_SIZE as u64).max(1) as usize
}

fn from_boot(fb: &Framebuffer) -> Result<Screen, &'static str> {
    if fb.bpp != 32 || fb.pitch < fb.width.saturating_mul(4) || !fb.addr.is_multiple_of(PAGE_SIZE as u64) {
        return Err("the boot framebuffer is not a page-aligned 32-bit one");
    }
    let [r_size, r, g_size, g, b_size, b, ..] = fb.format;
    if [r_size, g_size, b_size] != [8, 8, 8] {
        return Err("the boot framebuffer's pixels are not 8 bits per channel");
    }
    let most = (MAX_PAGE_OBJECTS * MAX_PAGE_COUNT * PAGE_SIZE) as u64;
    let height = fb.height.min((most / u64::from(fb.pitch.max(1))) as u32);
    Ok(Screen {
        phys: fb.addr,
        pages: pages_for(u64::from(fb.pitch) * u64::from(height)),
        width: fb.width,
        height,
        pitch: fb.pitch,
        shifts: [r, g, b],
        bochs: false,
    })
}

/// Looks for QEMU's standard VGA on PCI bus 0 and reads where its framebuffer (BAR 0) is.
fn bochs() -> Result<Screen, &'static str> {
    let Some(memory) = sys::process::memory() else { return Err("Mercury has no Memory to look with") };
    let Ok(pci) = root::ioport_control().create(0xcf8, 0xd00, memory, Slot::Auto) else {
        return Err("no PCI configuration ports");
    };
    let read = |dev: u32, reg: u32| -> Option<u32> {
        pci.write32(0xcf8, 0x8000_0000 | dev << 11 | reg).ok()?;
        pci.read32(0xcfc).ok()
    };
    let found = (0..32).find(|&dev| read(dev, 0) == Some(BOCHS_VGA));
    let bar = found.and_then(|dev| {
        let low = read(dev, 0x10)?;
        // A 64-bit memory BAR (type 2) carries its high half in the next one.
        let high = if low & 0b110 == 0b100 { read(dev, 0x14)? } else { 0 };
        (low & 1 == 0).then_some(u64::from(high) << 32 | u64::from(low & !0xf))
    });
    // The IoPort was made for this look only; its page goes back to Mercury's Memory.
    let _ = pci.delete();
    let Some(phys) = bar.filter(|&a| a != 0) else {
        return Err("no boot framebuffer and no QEMU standard VGA on PCI");
    };
    let (width, height) = BOCHS_MODE;
    let pitch = width * 4;
    Ok(Screen {
        phys,
        pages: pages_for(u64::from(pitch) * u64::from(height)),
        width,
        height,
        pitch,
        shifts: [16, 8, 0],
        bochs: true,
    })
}
