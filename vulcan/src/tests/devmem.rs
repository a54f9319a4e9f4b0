//! Tests of device memory: `page_create_device` makes Pages over memory-mapped I/O for drivers,
//! and refuses RAM, the kernel's own devices, and ranges no CPU can address.
//!
//! The ABI: `abi::syscall::Sysno::PageCreateDevice`, `docs/abi.md` ("Device memory"). The kernel
//! decides what is device memory from the loader's memory map and the ranges it maps for itself
//! (`kernel/src/mem/device.rs`). Writing and reading back device memory needs video memory:
//! the framebuffer a Limine boot reports, or the BAR of the PCI display controller a `pc`
//! machine has; `microvm` has neither, and there the test checks everything else. Every test
//! runs [`isolated`].

use sys::abi::Error::{InsufficientRights, InvalidArgument, InvalidCapability, WrongKind};
use sys::abi::bootcaps::{ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::layout::{MMAP_BASE, PAGE_SIZE};
use sys::mmap::{self, Place};
use sys::vspace::{DeviceControl, Page, access, page_create_device};
use sys::{Boot, IoPort, Slot, rights, root};

use super::devices::{PCI_ADDRESS, PCI_DATA};
use super::support::{SPARE, delete, isolated, root_usage};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("device_page_refuses_what_is_not_device_memory", |b| isolated(b, refusals)),
    Test::new("device_page_maps_device_memory", |b| isolated(b, maps_device_memory)),
];

/// The legacy VGA window, which no memory map calls RAM.
const VGA_WINDOW: usize = 0xa0000;

/// `page_create_device` with the root Memory into a free slot, by the raw call.
fn create(control: usize, phys: usize, count: usize) -> sys::Result<usize> {
    page_create_device(control, phys, count, root::memory().slot(), sys::abi::syscall::SLOT_AUTO)
}

/// RAM (a page the test owns, low memory), the local APIC, an IOAPIC, unaligned and impossible
/// ranges and bad counts are `InvalidArgument`; capability errors come first; nothing is charged.
fn refusals(_: &Boot) -> TestResult {
    let control = root::device_control().slot();
    let before = root_usage()?.used;
    let ram = ok!(Page::create(root::memory(), 1, Slot::Auto), "page_create(1)");
    let ram_phys = ok!(ram.info(), "page_info").phys;
    let cases: [(usize, usize, &str); 11] = [
        (ram_phys, 1, "a page of RAM this test owns"),
        (0x1000, 1, "low RAM"),
        (ram_phys & !0x1fff, 2, "two pages, one of them RAM this test owns"),
        (0xfee0_0000, 1, "the local APIC"),
        (0xfec0_0000, 1, "the first IOAPIC"),
        (VGA_WINDOW + 0x800, 1, "an unaligned address"),
        (VGA_WINDOW, 0, "no pages"),
        (VGA_WINDOW, 3, "a count that is not a power of two"),
        (VGA_WINDOW, 1024, "more than 512 pages"),
        (1 << 52, 1, "beyond any physical address width"),
        (usize::MAX & !(PAGE_SIZE - 1), 2, "a range that wraps"),
    ];
    for (phys, count, what) in cases {
        ensure_eq!(create(control, phys, count), Err(InvalidArgument.into()), "page_create_device({what})");
    }
    let read_only =
        ok!(root::device_control().copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(control, READ)");
    for (c, err, what) in [
        (SPARE, InvalidCapability, "an empty slot"),
        (ROOT_MEMORY, WrongKind, "the root Memory"),
        (ROOT_DEBUG_CONSOLE, WrongKind, "the console"),
        (read_only.slot(), InsufficientRights, "a READ-only control"),
    ] {
        ensure_eq!(create(c, VGA_WINDOW, 1), Err(err.into()), "page_create_device through {what}");
    }
    // The Memory is checked before the range.
    let r = page_create_device(control, 0x1000, 1, ROOT_DEBUG_CONSOLE, sys::abi::syscall::SLOT_AUTO);
    ensure_eq!(r, Err(WrongKind.into()), "page_create_device with the console as the Memory");
    ok!(ram.delete(), "delete the RAM page");
    delete(read_only)?;
    ensure_eq!(root_usage()?.used, before, "root Memory used after the refusals");
    Ok(())
}

/// Video memory the machine has, if any: the framebuffer a Limine boot reports, or BAR 0 of the
/// first PCI display controller on bus 0.
fn video_memory(boot: &Boot) -> Result<Option<usize>, Reason> {
    if let Some(fb) = boot.root_info().map(|i| i.framebuffer).filter(|f| f.is_present()) {
        return Ok(Some(fb.addr as usize));
    }
    let port: IoPort =
        ok!(root::ioport_control().create(PCI_ADDRESS, PCI_DATA + 4, root::memory(), Slot::Auto), "ioport_create(PCI)");
    let config = |device: u32, register: u32| -> sys::Result<u32> {
        port.write32(PCI_ADDRESS, 0x8000_0000 | device << 11 | register)?;
        port.read32(PCI_DATA)
    };
    let mut found = None;
    for device in 0..32 {
        let id = ok!(config(device, 0), "PCI config read");
        if id == u32::MAX {
            continue;
        }
        let class = ok!(config(device, 8), "PCI config read") >> 24;
        let bar = ok!(config(device, 0x10), "PCI config read");
        if class == 0x03 && bar & 1 == 0 && bar & !0xf != 0 {
            found = Some((bar & !0xf) as usize);
            break;
        }
    }
    delete(port.cap())?;
    Ok(found)
}

/// A device Page over the VGA window is made, charged one page, reports its physical address,
/// maps and unmaps like any Page, and gives nothing back to the page allocator when it dies.
/// Over video memory, what is written reads back.
fn maps_device_memory(boot: &Boot) -> TestResult {
    let control: DeviceControl = root::device_control();
    let before = root_usage()?.used;
    let vga = ok!(control.create_page(VGA_WINDOW, 32, root::memory(), Slot::Auto), "create_page(VGA window, 32)");
    ensure_eq!(root_usage()?.used - before, 1, "pages charged for a device Page (its header only)");
    let info = ok!(vga.info(), "page_info");
    ensure_eq!((info.phys, info.count, info.vaddr), (VGA_WINDOW, 32, 0), "page_info of the device Page");
    let at = MMAP_BASE + 0x10_0000_0000;
    ok!(sys::process::map_page(vga, at, access::RW), "page_map of the device Page");
    ensure_eq!(ok!(vga.info(), "page_info").vaddr, at, "where the device Page is mapped");
    // SAFETY: the Page is mapped here, and nothing in this program refers to its memory.
    ok!(unsafe { vga.unmap() }, "page_unmap");
    ok!(vga.delete(), "delete the device Page");
    ensure_eq!(root_usage()?.used, before, "root Memory used after the device Page went");

    let Some(vram) = video_memory(boot)? else {
        sys::println!("vulcan: no video memory on this machine: device memory not written");
        return Ok(());
    };
    let page = ok!(control.create_page(vram, 1, root::memory(), Slot::Auto), "create_page(video memory {vram:#x})");
    let mut m = ok!(mmap::map_page(page, access::RW, Place::Anywhere), "map the video memory");
    let Some(bytes) = m.bytes_mut() else { return Err(crate::harness::reason(format_args!("not writable"))) };
    let old = [bytes[0], bytes[1], bytes[2], bytes[3]];
    bytes[..4].copy_from_slice(&0x5a3c_96e1u32.to_le_bytes());
    let back = u32::from_le_bytes([m.bytes()[0], m.bytes()[1], m.bytes()[2], m.bytes()[3]]);
    if let Some(b) = m.bytes_mut() {
        b[..4].copy_from_slice(&old);
    }
    drop(m);
    ok!(page.delete(), "delete the video memory Page");
    ensure_eq!(back, 0x5a3c_96e1, "video memory at {vram:#x} after a write");
    ensure!(root_usage()?.used == before, "root Memory used after the video memory Page went");
    Ok(())
}
