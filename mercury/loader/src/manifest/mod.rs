//! Driver manifests: the INI text a driver carries in its ELF section `.manifest`, saying which
//! capabilities it is started with and where they go.
//!
//! [`Manifest::parse`] reads one and checks every rule of `docs/manifest.md`, collecting every
//! problem it finds (each naming its line) rather than stopping at the first. A manifest it
//! accepts is complete: every `_` has its manifest slot, every `irq` line its Note and bits, and
//! [`placement`] says where each capability goes in the driver's CSpace and under which name the
//! start page lists it. The modules: [`kind`] reads one `[capabilities]` line, [`placement`]
//! fills the `_` slots and the IRQ bits and names the start page's entries, `sections` walks the
//! file.

pub mod kind;
pub mod placement;
mod sections;
#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec::Vec;

pub use kind::Kind;
pub use placement::{MANIFEST_BASE, RUNTIME_RESERVED_SLOTS};

use crate::refusal::Refusals;

/// Largest manifest, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 4096;

/// Most capability and service lines together: with the loader's own two entries, their IRQ bits
/// in the environment and the longest arguments the boot configuration allows, they fit the
/// start page (one 4 KiB page; a test checks the worst case with `abi::start::Writer`).
pub const MAX_LINES: usize = 32;

/// The CSpace radix of a manifest without a `[cspace]` section (as Helios' published ones are):
/// 256 slots.
pub const DEFAULT_RADIX: u8 = 8;

/// Smallest radix a manifest may ask for: 16 slots, 6 of them for manifest lines.
pub const MIN_RADIX: u8 = 4;

/// Largest radix (`abi::object::MAX_RADIX`).
pub const MAX_RADIX: u8 = abi::object::MAX_RADIX as u8;

/// A checked manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// `[driver] name`.
    pub name: &'a str,
    /// `[driver] desc` (empty if absent).
    pub desc: &'a str,
    /// `[cspace] radix`, or [`DEFAULT_RADIX`].
    pub radix: u8,
    /// The `[capabilities]` lines, in line order, each placed.
    pub capabilities: Vec<Capability<'a>>,
    /// The `[services]` lines, in line order, each placed.
    pub services: Vec<Service<'a>>,
}

/// One `[capabilities]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capability<'a> {
    /// Its line.
    pub line: u32,
    /// Its manifest slot: as written, or picked for `_`.
    pub slot: u32,
    /// Whether the line wrote `_` (the loader picked the slot).
    pub picked: bool,
    /// Its `name=`, if any.
    pub name: Option<&'a str>,
    /// What it is, with its parameters.
    pub kind: Kind,
}

/// One `[services]` line: a service the driver is connected to before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service<'a> {
    /// Its line.
    pub line: u32,
    /// The service's name (the key).
    pub name: &'a str,
    /// The manifest slot its endpoint goes to (always picked, after every capability line).
    pub slot: u32,
}

/// One capability on the start page: its name, its CSpace slot, its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartEntry {
    /// The name the driver finds it by.
    pub name: String,
    /// Its slot in the driver's CSpace.
    pub slot: u32,
    /// Its kind, as `cap_identify` reports it.
    pub kind: abi::object::Kind,
}

impl<'a> Manifest<'a> {
    /// Checks `bytes` as a manifest: at most [`MAX_MANIFEST_BYTES`] of UTF-8 text in the format
    /// of `docs/manifest.md`.
    pub fn parse(bytes: &'a [u8]) -> Result<Manifest<'a>, Refusals<'a>> {
        sections::parse(bytes)
    }

    /// The capability line at manifest slot `slot`.
    pub fn capability(&self, slot: u32) -> Option<&Capability<'a>> {
        self.capabilities.iter().find(|c| c.slot == slot)
    }

    /// The capability line named `name` (by `name=`, or by its start-page name).
    pub fn named(&self, name: &str) -> Option<&Capability<'a>> {
        self.capabilities.iter().find(|c| c.start_name() == name)
    }

    /// The capabilities and services in start-page order (line order, capabilities first), each
    /// with its name, CSpace slot and kind.
    pub fn start_entries(&self) -> impl Iterator<Item = StartEntry> + '_ {
        let caps = self.capabilities.iter().map(|c| StartEntry {
            name: c.start_name(),
            slot: placement::cspace_slot(c.slot),
            kind: c.kind.object_kind(),
        });
        let services = self.services.iter().map(|s| StartEntry {
            name: String::from(s.name),
            slot: placement::cspace_slot(s.slot),
            kind: abi::object::Kind::Endpoint,
        });
        caps.chain(services)
    }

    /// What the loader tells the driver beside the start page's capability table: one
    /// environment string `NAME.bits=0xBITS` per `irq` line (`NAME` its start-page name), the
    /// Note bits its IRQ signals.
    pub fn environment(&self) -> impl Iterator<Item = String> + '_ {
        self.capabilities.iter().filter_map(|c| match c.kind {
            Kind::Irq { bits, .. } => Some(alloc::format!("{}.bits={bits:#x}", c.start_name())),
            _ => None,
        })
    }

    /// Pages the kernel objects of the manifest's lines cost, charged to the Memory Mercury sets
    /// aside for the driver: the CSpace, each endpoint, note, timer, IRQ handler and I/O port,
    /// each `memory` line's quota plus its header, each `dma` line's pages plus its header.
    /// `mmio` and `framebuffer` lines name frames that are not RAM, for which only a header page
    /// is counted. The VSpace, Task, stack, start page, image and page tables come on top
    /// (`docs/manifest.md`, "What a driver costs").
    pub fn object_pages(&self) -> u64 {
        let cspace = abi::object::cspace_pages(usize::from(self.radix)) as u64;
        let lines: u64 = self.capabilities.iter().map(|c| c.kind.pages()).sum();
        cspace.saturating_add(lines)
    }
}

impl Capability<'_> {
    /// The name the start page lists it under: its `name=`; else `memory`, `cspace`, `vspace`
    /// or `framebuffer` for those kinds (the runtime looks for the first three by these names);
    /// else `KIND@SLOT`, such as `endpoint@0` (`@` is in no name a manifest can write).
    pub fn start_name(&self) -> String {
        match (self.name, self.kind.default_name()) {
            (Some(name), _) => String::from(name),
            (None, Some(name)) => String::from(name),
            (None, None) => alloc::format!("{}@{}", self.kind.keyword(), self.slot),
        }
    }
}
