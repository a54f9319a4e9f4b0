//! The boot information page handed to the root task.
//!
//! The root task starts with `rdi` holding [`START_INFO_ADDR`](crate::layout::START_INFO_ADDR), the
//! address of one read-only page that begins with a [`RootInfo`], and `rsp` at
//! [`ROOT_STACK_TOP`](crate::layout::ROOT_STACK_TOP). It is entered by `sysret`, so `rcx` holds the
//! entry point and `r11` the initial RFLAGS (`0x202`); all other general registers are zero.

/// `RootInfo::magic`: "PERIHELI" in little-endian ASCII.
pub const ROOT_INFO_MAGIC: u64 = u64::from_le_bytes(*b"PERIHELI");

/// The version of the [`RootInfo`] layout described here.
pub const ROOT_INFO_VERSION: u32 = 3;

/// Longest kernel command line passed on, in bytes.
pub const CMDLINE_MAX: usize = 256;

/// What the kernel tells the root task about the machine and its boot.
///
/// ```
/// use abi::rootinfo::{ROOT_INFO_MAGIC, ROOT_INFO_VERSION, RootInfo, protocol};
///
/// // What the kernel fills in (here by hand), and what the root task checks first.
/// let mut info = RootInfo::zeroed();
/// info.magic = ROOT_INFO_MAGIC;
/// info.version = ROOT_INFO_VERSION;
/// info.boot_protocol = protocol::PVH;
/// info.mem_total = 512 << 20;
/// assert!(info.magic == ROOT_INFO_MAGIC && info.version == ROOT_INFO_VERSION);
/// assert_eq!(info.mem_total >> 20, 512);
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RootInfo {
    /// [`ROOT_INFO_MAGIC`].
    pub magic: u64,
    /// [`ROOT_INFO_VERSION`].
    pub version: u32,
    /// Which boot entry was taken: 0 PVH, 1 Limine.
    pub boot_protocol: u32,
    /// User address of the initramfs, mapped read-only.
    pub initramfs_addr: u64,
    /// Length of the initramfs in bytes.
    pub initramfs_len: u64,
    /// Usable RAM the kernel found, in bytes.
    pub mem_total: u64,
    /// RAM still free when the root task started, in bytes.
    pub mem_free: u64,
    /// TSC frequency settled at boot, in Hz: stated by CPUID or measured against a reference
    /// counter (0 if no source gave a plausible value).
    pub tsc_hz: u64,
    /// Length of `cmdline` in bytes.
    pub cmdline_len: u64,
    /// The kernel command line, truncated to [`CMDLINE_MAX`] bytes; not NUL-terminated.
    pub cmdline: [u8; CMDLINE_MAX],
    /// Radix of the root task's CSpace (see [`bootcaps`](crate::bootcaps)).
    pub cspace_radix: u64,
    /// Quota of the root Memory capability, in pages.
    pub memory_quota: u64,
    /// The boot framebuffer the loader left, if any (see [`Framebuffer`]).
    pub framebuffer: Framebuffer,
}

/// A linear framebuffer the loader set up and left to the system (Limine does; a PVH boot has
/// none: every field 0). Its memory is device memory, not RAM: a driver maps it through a device
/// memory capability.
///
/// ```
/// use abi::rootinfo::Framebuffer;
/// let fb = Framebuffer { addr: 0xfd00_0000, width: 1280, height: 800, pitch: 5120, bpp: 32, format: [8, 16, 8, 8, 8, 0, 0, 0] };
/// assert!(fb.is_present());
/// assert_eq!(fb.bytes(), 5120 * 800);
/// assert!(!Framebuffer::NONE.is_present());
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical address of its first byte (0: there is no framebuffer).
    pub addr: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one line to the next.
    pub pitch: u32,
    /// Bits per pixel.
    pub bpp: u32,
    /// The pixel format, as masks within a pixel: red size and shift, green size and shift, blue
    /// size and shift (in bits), then two unused bytes.
    pub format: [u8; 8],
}

impl Framebuffer {
    /// No framebuffer.
    pub const NONE: Framebuffer = Framebuffer { addr: 0, width: 0, height: 0, pitch: 0, bpp: 0, format: [0; 8] };

    /// Whether there is one.
    ///
    /// ```
    /// assert!(!abi::rootinfo::Framebuffer::NONE.is_present(), "a PVH boot has no framebuffer");
    /// ```
    pub const fn is_present(&self) -> bool {
        self.addr != 0
    }

    /// Bytes it spans: `pitch * height`.
    ///
    /// ```
    /// let fb = abi::rootinfo::Framebuffer { pitch: 4096, height: 768, ..abi::rootinfo::Framebuffer::NONE };
    /// assert_eq!(fb.bytes(), 4096 * 768);
    /// ```
    pub const fn bytes(&self) -> u64 {
        self.pitch as u64 * self.height as u64
    }
}

/// Offsets of the fields after `cmdline`.
const AFTER_CMDLINE: usize = core::mem::offset_of!(RootInfo, cspace_radix);

const _: () = {
    assert!(core::mem::offset_of!(RootInfo, cmdline) == 64);
    assert!(AFTER_CMDLINE == 64 + CMDLINE_MAX);
    assert!(core::mem::offset_of!(RootInfo, framebuffer) == AFTER_CMDLINE + 16);
    assert!(core::mem::size_of::<Framebuffer>() == 32);
    assert!(core::mem::size_of::<RootInfo>() == AFTER_CMDLINE + 48);
};

impl RootInfo {
    /// The command line as bytes.
    ///
    /// ```
    /// use abi::RootInfo;
    ///
    /// let mut info = RootInfo::zeroed();
    /// let line = b"vulcan.boot=pvh quiet";
    /// info.cmdline[..line.len()].copy_from_slice(line);
    /// info.cmdline_len = line.len() as u64;
    /// assert_eq!(info.cmdline(), line);
    /// // A length past the array is cut to it.
    /// info.cmdline_len = u64::MAX;
    /// assert_eq!(info.cmdline().len(), abi::rootinfo::CMDLINE_MAX);
    /// ```
    pub fn cmdline(&self) -> &[u8] {
        let len = (self.cmdline_len as usize).min(CMDLINE_MAX);
        &self.cmdline[..len]
    }

    /// Every field zero.
    ///
    /// ```
    /// use abi::RootInfo;
    ///
    /// // A starting point to fill in, also in a `const`.
    /// const BLANK: RootInfo = RootInfo::zeroed();
    /// let info = RootInfo { tsc_hz: 2_000_000_000, ..BLANK };
    /// assert_eq!((info.magic, info.tsc_hz), (0, 2_000_000_000));
    /// ```
    pub const fn zeroed() -> RootInfo {
        RootInfo {
            magic: 0,
            version: 0,
            boot_protocol: 0,
            initramfs_addr: 0,
            initramfs_len: 0,
            mem_total: 0,
            mem_free: 0,
            tsc_hz: 0,
            cmdline_len: 0,
            cmdline: [0; CMDLINE_MAX],
            cspace_radix: 0,
            memory_quota: 0,
            framebuffer: Framebuffer::NONE,
        }
    }

    /// Writes the `repr(C)` layout (little-endian) into `out`, which must be
    /// `size_of::<RootInfo>()` bytes.
    ///
    /// ```
    /// use abi::RootInfo;
    ///
    /// let info = RootInfo { mem_free: 1 << 30, ..RootInfo::zeroed() };
    /// let mut page = [0u8; 4096];
    /// info.write_to(&mut page[..size_of::<RootInfo>()]);
    /// assert_eq!(RootInfo::read_from(&page[..size_of::<RootInfo>()]), info);
    /// ```
    pub fn write_to(&self, out: &mut [u8]) {
        let words = [
            (0, self.magic),
            (16, self.initramfs_addr),
            (24, self.initramfs_len),
            (32, self.mem_total),
            (40, self.mem_free),
            (48, self.tsc_hz),
            (56, self.cmdline_len),
            (AFTER_CMDLINE, self.cspace_radix),
            (AFTER_CMDLINE + 8, self.memory_quota),
            (AFTER_CMDLINE + 16, self.framebuffer.addr),
        ];
        for (at, w) in words {
            out[at..at + 8].copy_from_slice(&w.to_le_bytes());
        }
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&self.boot_protocol.to_le_bytes());
        out[64..64 + CMDLINE_MAX].copy_from_slice(&self.cmdline);
        let fb = &self.framebuffer;
        for (i, v) in [fb.width, fb.height, fb.pitch, fb.bpp].into_iter().enumerate() {
            let at = AFTER_CMDLINE + 24 + 4 * i;
            out[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        out[AFTER_CMDLINE + 40..AFTER_CMDLINE + 48].copy_from_slice(&fb.format);
    }

    /// Reads what [`write_to`](Self::write_to) wrote; `bytes` must be
    /// `size_of::<RootInfo>()` bytes.
    ///
    /// ```
    /// use abi::rootinfo::{ROOT_INFO_MAGIC, RootInfo};
    ///
    /// let mut bytes = [0u8; size_of::<RootInfo>()];
    /// bytes[..8].copy_from_slice(&ROOT_INFO_MAGIC.to_le_bytes());
    /// let info = RootInfo::read_from(&bytes);
    /// assert_eq!(info.magic, ROOT_INFO_MAGIC);
    /// ```
    pub fn read_from(bytes: &[u8]) -> RootInfo {
        let w = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let h = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(b)
        };
        let mut cmdline = [0u8; CMDLINE_MAX];
        cmdline.copy_from_slice(&bytes[64..64 + CMDLINE_MAX]);
        RootInfo {
            magic: w(0),
            version: h(8),
            boot_protocol: h(12),
            initramfs_addr: w(16),
            initramfs_len: w(24),
            mem_total: w(32),
            mem_free: w(40),
            tsc_hz: w(48),
            cmdline_len: w(56),
            cmdline,
            cspace_radix: w(AFTER_CMDLINE),
            memory_quota: w(AFTER_CMDLINE + 8),
            framebuffer: Framebuffer {
                addr: w(AFTER_CMDLINE + 16),
                width: h(AFTER_CMDLINE + 24),
                height: h(AFTER_CMDLINE + 28),
                pitch: h(AFTER_CMDLINE + 32),
                bpp: h(AFTER_CMDLINE + 36),
                format: {
                    let mut f = [0u8; 8];
                    f.copy_from_slice(&bytes[AFTER_CMDLINE + 40..AFTER_CMDLINE + 48]);
                    f
                },
            },
        }
    }
}

/// Boot protocols recorded in [`RootInfo::boot_protocol`].
pub mod protocol {
    /// Xen PVH entry (`qemu -kernel`).
    pub const PVH: u32 = 0;
    /// Limine boot protocol.
    pub const LIMINE: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_and_read_round_trip_every_field() {
        let mut info = RootInfo {
            magic: ROOT_INFO_MAGIC,
            version: ROOT_INFO_VERSION,
            boot_protocol: protocol::LIMINE,
            initramfs_addr: 0x7000_0000_0000,
            initramfs_len: 12345,
            mem_total: 1 << 30,
            mem_free: 1 << 29,
            tsc_hz: 2_000_000_000,
            cmdline_len: 3,
            cmdline: [0; CMDLINE_MAX],
            cspace_radix: 12,
            memory_quota: 30_000,
            framebuffer: Framebuffer {
                addr: 0xfd00_0000,
                width: 1280,
                height: 800,
                pitch: 5120,
                bpp: 32,
                format: [8, 16, 8, 8, 8, 0, 0, 0],
            },
        };
        info.cmdline[..3].copy_from_slice(b"a=b");
        let mut bytes = [0xaau8; core::mem::size_of::<RootInfo>()];
        info.write_to(&mut bytes);
        assert_eq!(RootInfo::read_from(&bytes), info);
        // The bytes are the `repr(C)` layout: the framebuffer's address right after the quota.
        assert_eq!(&bytes[AFTER_CMDLINE + 16..AFTER_CMDLINE + 24], &0xfd00_0000u64.to_le_bytes());
        assert_eq!(&bytes[AFTER_CMDLINE + 40..], &[8, 16, 8, 8, 8, 0, 0, 0]);
        assert_eq!(info.framebuffer.bytes(), 5120 * 800);
        assert!(info.framebuffer.is_present() && !Framebuffer::NONE.is_present());
    }
}
