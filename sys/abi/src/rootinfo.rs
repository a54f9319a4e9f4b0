//! The boot information page handed to the root task.
//!
//! The root task starts with `rdi` holding [`ROOT_INFO_ADDR`](crate::layout::ROOT_INFO_ADDR), the
//! address of one read-only page that begins with a [`RootInfo`], and `rsp` at
//! [`ROOT_STACK_TOP`](crate::layout::ROOT_STACK_TOP). It is entered by `sysret`, so `rcx` holds the
//! entry point and `r11` the initial RFLAGS (`0x202`); all other general registers are zero.

/// `RootInfo::magic`: "PERIHELI" in little-endian ASCII.
pub const ROOT_INFO_MAGIC: u64 = u64::from_le_bytes(*b"PERIHELI");

/// The version of the [`RootInfo`] layout described here.
pub const ROOT_INFO_VERSION: u32 = 2;

/// Longest kernel command line passed on, in bytes.
pub const CMDLINE_MAX: usize = 256;

/// What the kernel tells the root task about the machine and its boot.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
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
}

impl RootInfo {
    /// The command line as bytes.
    pub fn cmdline(&self) -> &[u8] {
        let len = (self.cmdline_len as usize).min(CMDLINE_MAX);
        &self.cmdline[..len]
    }
}

/// Boot protocols recorded in [`RootInfo::boot_protocol`].
pub mod protocol {
    /// Xen PVH entry (`qemu -kernel`).
    pub const PVH: u32 = 0;
    /// Limine boot protocol.
    pub const LIMINE: u32 = 1;
}
