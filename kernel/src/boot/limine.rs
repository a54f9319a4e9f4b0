//! The Limine entry: Limine's responses turned into the [`BootInfo`].
//!
//! The kernel asks for base revision 3. Limine 9.x and later honour it; Limine 8.x supports at
//! most revision 2, leaves the request unanswered and records nothing else, so when
//! `is_supported()` is false revision 2 is assumed. The revisions differ in whether the RSDP
//! address is physical (3) or a direct-map pointer (2), and in which memory the HHDM maps; the
//! kernel handles both by turning every address it reads into a physical one, and builds its own
//! direct map before it touches anything but usable RAM, the modules and Limine's own data.

use limine::BaseRevision;
use limine::memory_map::EntryType;
use limine::request::{
    ExecutableAddressRequest, ExecutableCmdlineRequest, ExecutableFileRequest, FramebufferRequest, HhdmRequest,
    MemoryMapRequest, ModuleRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
};

use super::{BootInfo, Framebuffer, MemKind, PhysRange, Protocol};
use crate::sync::RacyCell;

#[used]
#[unsafe(link_section = ".limine_requests_start")]
static REQUESTS_START: RequestsStartMarker = RequestsStartMarker::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(3);

#[used]
#[unsafe(link_section = ".limine_requests")]
static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static HHDM: HhdmRequest = HhdmRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static EXECUTABLE_ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static MODULES: ModuleRequest = ModuleRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static FRAMEBUFFER: FramebufferRequest = FramebufferRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static RSDP: RsdpRequest = RsdpRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();

/// Where Limine 8.x puts the command line (the executable file's string); later versions also
/// answer `CMDLINE`, which is read first.
#[used]
#[unsafe(link_section = ".limine_requests")]
static EXECUTABLE_FILE: ExecutableFileRequest = ExecutableFileRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests_end")]
static REQUESTS_END: RequestsEndMarker = RequestsEndMarker::new();

static BOOT: RacyCell<BootInfo> = RacyCell::new(BootInfo::new(Protocol::Limine { revision: 3 }));

fn parse(boot: &mut BootInfo) -> Result<(), &'static str> {
    let revision = if BASE_REVISION.is_supported() { 3 } else { BASE_REVISION.loaded_revision().unwrap_or(2) };
    boot.protocol = Protocol::Limine { revision };

    let hhdm = HHDM.get_response().ok_or("Limine gave no HHDM")?.offset();
    boot.direct_map = hhdm;
    // Any address Limine hands over may be a direct-map pointer or physical, depending on the
    // revision and the request: take both.
    let to_phys = |addr: u64| if addr >= hhdm { addr - hhdm } else { addr };

    let exe = EXECUTABLE_ADDRESS.get_response().ok_or("Limine gave no executable address")?;
    boot.kernel_phys = exe.physical_base();
    boot.kernel_virt = exe.virtual_base();

    let map = MEMORY_MAP.get_response().ok_or("Limine gave no memory map")?;
    for e in map.entries() {
        let kind = match e.entry_type {
            EntryType::USABLE => MemKind::Usable,
            EntryType::ACPI_RECLAIMABLE => MemKind::AcpiReclaimable,
            EntryType::ACPI_NVS => MemKind::AcpiNvs,
            EntryType::BAD_MEMORY => MemKind::Bad,
            EntryType::BOOTLOADER_RECLAIMABLE => MemKind::BootloaderReclaimable,
            EntryType::EXECUTABLE_AND_MODULES => MemKind::KernelAndModules,
            EntryType::FRAMEBUFFER => MemKind::Framebuffer,
            _ => MemKind::Reserved,
        };
        boot.push_region(e.base, e.length, kind);
    }

    if let Some(m) = MODULES.get_response().and_then(|r| r.modules().first().copied()) {
        boot.initramfs = Some(PhysRange { start: to_phys(m.addr() as u64), len: m.size() });
    }
    if let Some(r) = RSDP.get_response() {
        boot.rsdp = Some(to_phys(r.address() as u64));
    }
    if let Some(fb) = FRAMEBUFFER.get_response().and_then(|r| r.framebuffers().next()) {
        boot.framebuffer = Some(Framebuffer {
            phys: to_phys(fb.addr() as u64),
            width: fb.width(),
            height: fb.height(),
            pitch: fb.pitch(),
            bpp: fb.bpp(),
            masks: [
                fb.red_mask_size(),
                fb.red_mask_shift(),
                fb.green_mask_size(),
                fb.green_mask_shift(),
                fb.blue_mask_size(),
                fb.blue_mask_shift(),
            ],
        });
    }
    if let Some(c) = CMDLINE.get_response() {
        boot.set_cmdline(c.cmdline().to_bytes());
    } else if let Some(f) = EXECUTABLE_FILE.get_response() {
        boot.set_cmdline(f.file().string().to_bytes());
    }
    Ok(())
}

/// Called by the Limine entry stub on the boot stack.
#[unsafe(no_mangle)]
extern "C" fn limine_main() -> ! {
    let entry_tsc = crate::arch::rdtsc();
    crate::console::init();
    // SAFETY: the only reference to BOOT ever made; boot runs on one CPU.
    let boot = unsafe { &mut *BOOT.get() };
    boot.entry_tsc = entry_tsc;
    if let Err(why) = parse(boot) {
        crate::init::fatal(format_args!("boot: {why}"));
    }
    crate::mem::set_direct_map_offset(boot.direct_map);
    crate::init::kernel_main(boot)
}
