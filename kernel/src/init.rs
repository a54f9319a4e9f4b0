//! Boot after the entries converge: from one [`BootInfo`] to the root task in user mode.
//!
//! The order matters and each step says what it needs: descriptor tables first (so a fault
//! prints), then the page allocator over the RAM the current page tables reach, the kernel's own
//! page tables, the rest of RAM, the heap, stacks with guard pages, the interrupt controllers and
//! the timer, and finally the root task.

use core::fmt;

use x86_64::VirtAddr;
use x86_64::registers::control::Cr3;
use x86_64::registers::xcontrol::XCr0Flags;

use crate::acpi::{AcpiError, RootTable};
use crate::arch::clock::{self, References};
use crate::arch::hpet::Hpet;
use crate::arch::pmtimer::PmTimer;
use crate::arch::{self, apic, context, cpu, gdt, idt, ioapic, pic, syscall, trap};
use crate::boot::{BootInfo, MemKind, Protocol};
use crate::mem::{self, FRAMES, FrameAllocator, PAGE_SIZE, kspace, kstack};

/// Ends boot with a message: the run ends with the panic exit code.
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    crate::error!("{args}");
    crate::error!("boot failed");
    crate::end::end_run_panicked()
}

/// Stacks used by IST entries until the guarded ones exist.
#[repr(C, align(16))]
struct EarlyStack([u8; 8192]);
static EARLY_IST: crate::sync::RacyCell<[EarlyStack; 3]> =
    crate::sync::RacyCell::new([const { EarlyStack([0; 8192]) }; 3]);

/// Lowest physical address given to the page allocator: the first MiB stays with firmware.
const LOW_MEMORY_END: u64 = 1 << 20;

/// Usable pieces of RAM: the regions of the wanted kinds minus `reserved`, at most 8 pieces per
/// region. Calls `f` with each non-empty piece.
fn usable_pieces(boot: &BootInfo, reclaim: bool, reserved: &[(u64, u64)], mut f: impl FnMut(u64, u64)) {
    for r in boot.regions() {
        if !(r.kind == MemKind::Usable || (reclaim && r.kind == MemKind::BootloaderReclaimable)) {
            continue;
        }
        let mut pieces = [(r.start, r.start + r.len); 8];
        let mut n = 1;
        for &(rs, re) in reserved {
            let mut next = [(0u64, 0u64); 8];
            let mut m = 0;
            for &(s, e) in &pieces[..n] {
                if e <= rs || s >= re {
                    next[m] = (s, e);
                    m += 1;
                } else {
                    if s < rs && m < 8 {
                        next[m] = (s, rs);
                        m += 1;
                    }
                    if e > re && m < 8 {
                        next[m] = (re, e);
                        m += 1;
                    }
                }
            }
            pieces = next;
            n = m;
        }
        for &(s, e) in &pieces[..n] {
            if s < e {
                f(s, e);
            }
        }
    }
}

/// Memory the page allocator must never hand out: low memory, the kernel image, the initramfs.
fn reserved_ranges(boot: &BootInfo, kernel_end: u64) -> [(u64, u64); 3] {
    [
        (0, LOW_MEMORY_END),
        (boot.kernel_phys, boot.kernel_phys + (kernel_end - boot.kernel_virt)),
        boot.initramfs.map_or((0, 0), |r| (r.start, r.start + r.len)),
    ]
}

/// Memory given to the page allocator before the kernel's own page tables exist, on top of its
/// bitmap: enough for those tables.
const EARLY_POOL: u64 = 16 << 20;

/// Phase 1: finds one run of usable RAM that the loader's page tables are seen to map (Limine's
/// HHDM does not map every usable page), takes the page allocator's bitmap (one bit per page of
/// RAM) from its start and gives the allocator the rest, at most [`EARLY_POOL`]. Returns the run.
fn add_early_pool(boot: &BootInfo, reserved: &[(u64, u64)]) -> (u64, u64) {
    let ram_end = boot
        .regions()
        .iter()
        .filter(|r| matches!(r.kind, MemKind::Usable | MemKind::BootloaderReclaimable))
        .map(|r| r.start + r.len)
        .max()
        .unwrap_or(0);
    let bitmap = FrameAllocator::bitmap_bytes(ram_end).next_multiple_of(PAGE_SIZE);
    let loader_root = Cr3::read().0.start_address();
    let mut pool = (0, 0);
    usable_pieces(boot, false, reserved, |s, e| {
        if pool.1 > pool.0 {
            return;
        }
        let s = s.next_multiple_of(PAGE_SIZE);
        let mut end = s;
        while end + PAGE_SIZE <= e && end - s < bitmap + EARLY_POOL {
            match arch::paging::translate(loader_root, VirtAddr::new(boot.direct_map + end)) {
                Some(t) if t.phys.as_u64() == end && t.writable => end += PAGE_SIZE,
                _ => break,
            }
        }
        if end - s >= bitmap + 64 * PAGE_SIZE {
            pool = (s, end);
        }
    });
    if pool.1 > pool.0 {
        let bits = mem::phys_to_virt(pool.0);
        // SAFETY: the start of the pool is usable RAM, mapped writable, that nothing else uses;
        // it becomes the allocator's bitmap (zeroed here) and is never handed out.
        unsafe {
            core::ptr::write_bytes(bits, 0, bitmap as usize);
            FRAMES.lock().set_bitmap(bits.cast(), bitmap / 8);
        }
        // SAFETY: usable RAM after the bitmap, outside every reserved range, seen mapped
        // writable at `phys + direct_map` in the active page tables.
        unsafe { FRAMES.lock().add_region(pool.0 + bitmap, pool.1) };
    }
    pool
}

/// Phase 2: all other usable RAM (and with `reclaim`, the loader's reclaimable memory), once
/// the kernel's direct map covers it.
fn add_rest(boot: &BootInfo, reclaim: bool, reserved: &[(u64, u64)]) {
    usable_pieces(boot, reclaim, reserved, |s, e| {
        // SAFETY: usable (or reclaimable, no longer used) RAM outside every reserved range and
        // the early pool, mapped by the kernel's direct map.
        unsafe { FRAMES.lock().add_region(s, e) };
    });
}

/// Continues boot on the boot stack; never returns.
pub fn kernel_main(boot: &'static BootInfo) -> ! {
    match boot.protocol {
        Protocol::Pvh => crate::info!("Perihelion {} booting via PVH", crate::VERSION),
        Protocol::Limine { revision } => {
            crate::info!("Perihelion {} booting via Limine (base revision {revision})", crate::VERSION)
        }
    }
    gdt::init();
    // SAFETY: the early IST stacks are static and used by nothing else.
    let early = unsafe { &*EARLY_IST.get() };
    for (i, s) in early.iter().enumerate() {
        let bottom = s.0.as_ptr() as u64;
        gdt::set_ist(i as u16, bottom + s.0.len() as u64);
    }
    idt::init();
    cpu::early_init();

    let (bs_lo, bs_hi) =
        (&raw const arch::entry::boot_stack_bottom as u64, &raw const arch::entry::boot_stack_top as u64);
    arch::backtrace::register_stack(bs_lo, bs_hi);

    if boot.regions_dropped > 0 {
        crate::warn!(
            "memory map: {} entries beyond the first {} ignored",
            boot.regions_dropped,
            crate::boot::MAX_REGIONS
        );
    }
    mem::device::init(boot.regions(), boot.regions_dropped, cpu::features().phys_bits);
    unsafe extern "C" {
        static __kernel_end: u8;
    }
    let kernel_end = (&raw const __kernel_end) as u64;

    // Page allocator, phase 1: a small pool the loader's page tables map, for the kernel's own
    // page tables. Phase 2, once those are active: the rest of RAM, and the loader's reclaimable
    // memory (every boot structure has been copied into `BootInfo`).
    FRAMES.lock().set_offset(boot.direct_map);
    let reserved = reserved_ranges(boot, kernel_end);
    let pool = add_early_pool(boot, &reserved);
    if pool.1 == pool.0 {
        fatal(format_args!("no usable memory mapped by the loader"));
    }
    if let Err(e) = kspace::build(boot) {
        fatal(format_args!("cannot build the kernel page tables: {e:?}"));
    }
    let reserved = [reserved[0], reserved[1], reserved[2], pool];
    add_rest(boot, matches!(boot.protocol, Protocol::Limine { .. }), &reserved);
    if !mem::heap::init() {
        fatal(format_args!("cannot set up the kernel heap"));
    }
    let xcr0 = cpu::late_init();
    let use_xsave = !xcr0.is_empty() && cpu::xsave_size() <= context::FPU_AREA_SIZE;

    // Guarded stacks: the kernel stack every entry from user mode runs on, and the IST stacks.
    let kstack = kstack::new(kstack::KERNEL_STACK_PAGES).unwrap_or_else(|e| fatal(format_args!("kernel stack: {e:?}")));
    gdt::set_kernel_stack(kstack.top);
    for ist in [gdt::IST_DOUBLE_FAULT, gdt::IST_NMI, gdt::IST_MACHINE_CHECK] {
        let s = kstack::new(kstack::IST_STACK_PAGES).unwrap_or_else(|e| fatal(format_args!("IST stack: {e:?}")));
        gdt::set_ist(ist, s.top);
    }
    context::init(kstack.top, kspace::root(), use_xsave);
    trap::init(cpu::features().smap);
    syscall::init();

    platform_init(boot);
    log_summary(boot, use_xsave, xcr0);

    crate::uapi::fastpath::configure(boot.cmdline());
    crate::root::load_root(boot).unwrap_or_else(|e| fatal(format_args!("cannot start the root task: {e}")));
    let free = FRAMES.lock().free_pages() * PAGE_SIZE;
    let ms = elapsed_ms(boot.entry_tsc);
    crate::info!("starting root task 'init' ({} KiB free); boot took {ms} ms", free / 1024);
    crate::uapi::run()
}

fn elapsed_ms(since: u64) -> u64 {
    let hz = clock::tsc_hz();
    if hz == 0 { 0 } else { arch::rdtsc().saturating_sub(since) / (hz / 1000).max(1) }
}

struct DirectMapMem;

impl crate::acpi::PhysMem for DirectMapMem {
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
        let Some(end) = phys.checked_add(buf.len() as u64) else { return false };
        if end > 1 << 52 || kspace::map_firmware(phys, buf.len() as u64).is_err() {
            return false;
        }
        // SAFETY: `map_firmware` made `[phys, end)` readable through the direct map; the bytes
        // are copied out as plain data.
        unsafe { core::ptr::copy_nonoverlapping(mem::phys_to_virt(phys), buf.as_mut_ptr(), buf.len()) };
        true
    }
}

/// ACPI, the legacy PIC, the IOAPICs, the local APIC, the clocks, and the timer tick.
fn platform_init(boot: &BootInfo) {
    let tables = boot
        .rsdp
        .or_else(|| crate::acpi::scan_rsdp(&DirectMapMem))
        .ok_or(AcpiError::NoRsdp)
        .and_then(|rsdp| RootTable::read(&DirectMapMem, rsdp));
    let madt = match tables.as_ref().map_err(|e| *e).and_then(|t| t.madt(&DirectMapMem)) {
        Ok(m) => {
            crate::info!(
                "acpi: {} cpu(s), local APIC {:#x}, {} IOAPIC(s), {} interrupt override(s)",
                m.cpus,
                m.lapic_addr,
                m.ioapics().len(),
                m.overrides().len()
            );
            Some(m)
        }
        Err(e) => {
            crate::warn!("acpi: no usable MADT ({e:?}); assuming the PC defaults");
            None
        }
    };
    if let Ok(t) = tables.as_ref() {
        match t.power_off(&DirectMapMem) {
            Ok(how) => {
                crate::info!(
                    "acpi: power off through S5: PM1a control port {:#x}, SLP_TYP {}",
                    how.pm1a_cnt,
                    how.slp_typ_a
                );
                crate::power::set(how);
            }
            Err(e) => crate::info!("acpi: no way to power off ({e:?})"),
        }
    }
    pic::disable();
    if let Some(m) = &madt {
        for o in m.overrides() {
            crate::object::irq::set_override(o.irq, o.gsi, o.flags);
        }
    }

    // Every IOAPIC line masked before the clocks are measured: the PIT's IRQ 0 goes nowhere.
    let default = [crate::acpi::IoApicInfo { id: 0, addr: 0xfec0_0000, gsi_base: 0 }];
    let ioapics = madt.as_ref().map_or(&default[..], |m| m.ioapics());
    for info in ioapics {
        match kspace::map_mmio(info.addr, PAGE_SIZE) {
            Ok(mmio) => {
                let io = ioapic::IoApic { mmio, gsi_base: info.gsi_base };
                io.mask_all();
                ioapic::register(io);
                crate::info!(
                    "ioapic: id {} at {:#x}, GSI {}..{}, all masked",
                    info.id,
                    info.addr,
                    info.gsi_base,
                    info.gsi_base + io.lines()
                );
            }
            Err(e) => crate::warn!("ioapic at {:#x}: cannot map ({e:?})", info.addr),
        }
    }

    let f = cpu::features();
    let lapic_phys = cpu::apic_base_phys();
    let lapic = if f.x2apic_enabled {
        0
    } else {
        kspace::map_mmio(lapic_phys, PAGE_SIZE)
            .unwrap_or_else(|e| fatal(format_args!("cannot map the local APIC: {e:?}")))
    };
    apic::init(lapic, f.x2apic_enabled);
    let clocks = clock::calibrate(clock_references(tables.as_ref().ok()));
    let Some(timer) = clocks.apic else {
        fatal(format_args!("clock: no source gave a plausible APIC timer clock, so timers cannot keep time"))
    };
    apic::start_tick(timer.reading.hz);
    crate::info!(
        "apic: id {} ({}), timer {} kHz (clock / {}), tick {} Hz every {} counts",
        apic::id(),
        if f.x2apic_enabled { "x2APIC" } else { "xAPIC" },
        timer.reading.hz / apic::TIMER_DIVIDER / 1000,
        apic::TIMER_DIVIDER,
        apic::TICK_HZ,
        apic::tick_period()
    );
}

/// The reference counters for calibration that the ACPI tables describe: the HPET and the PM
/// timer, each where present and usable.
fn clock_references(tables: Option<&RootTable>) -> References {
    let mut refs = References::default();
    let Some(tables) = tables else { return refs };
    match tables.hpet(&DirectMapMem) {
        Ok(info) => match kspace::map_mmio(info.addr, 1024) {
            // SAFETY: `regs` maps the register block the HPET table names, uncached; nothing else
            // in the kernel touches the HPET, and no task exists yet.
            Ok(regs) => match unsafe { Hpet::new(regs) } {
                Ok(hpet) => refs.hpet = Some(hpet),
                Err(period) => crate::warn!("hpet at {:#x}: period {period} fs is out of range; not used", info.addr),
            },
            Err(e) => crate::warn!("hpet at {:#x}: cannot map ({e:?})", info.addr),
        },
        Err(AcpiError::Missing) => crate::info!("acpi: no HPET table"),
        Err(e) => crate::warn!("acpi: HPET table not usable ({e:?})"),
    }
    match tables.pm_timer(&DirectMapMem) {
        // SAFETY: the FADT names this port as the PM timer, a counter that reads have no effect on.
        Ok(Some(pm)) => refs.pm_timer = Some(unsafe { PmTimer::new(pm) }),
        Ok(None) => crate::info!("acpi: the FADT names no PM timer"),
        Err(AcpiError::Missing) => crate::info!("acpi: no FADT"),
        Err(e) => crate::warn!("acpi: no PM timer from the FADT ({e:?})"),
    }
    refs
}

fn log_summary(boot: &BootInfo, xsave: bool, xcr0: XCr0Flags) {
    let f = cpu::features();
    let mut brand = [0u8; 48];
    crate::info!("cpu: {}", cpu::brand(&mut brand));
    crate::info!(
        "cpu: nx {} smep {} smap {} umip {} 1g-pages {} fpu-save {}",
        f.nx,
        f.smep,
        f.smap,
        f.umip,
        f.huge_1g,
        if xsave {
            if xcr0.contains(XCr0Flags::AVX) { "xsave (x87, sse, avx)" } else { "xsave (x87, sse)" }
        } else {
            "fxsave"
        }
    );
    let frames = FRAMES.lock();
    crate::info!(
        "memory: {} MiB usable in the map, {} MiB managed, {} MiB free",
        boot.usable_bytes() >> 20,
        (frames.total_pages() * PAGE_SIZE) >> 20,
        (frames.free_pages() * PAGE_SIZE) >> 20
    );
    if let Some(r) = boot.initramfs {
        crate::info!("initramfs: {} KiB at {:#x}", r.len / 1024, r.start);
    }
    if let Some(fb) = boot.framebuffer {
        crate::info!("framebuffer: {}x{}, {} bpp at {:#x}", fb.width, fb.height, fb.bpp, fb.phys);
    }
}
