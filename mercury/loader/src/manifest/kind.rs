//! The kinds of capability a manifest line can ask for, and how one line's `KIND = PARAMETERS`
//! is read: `name=value` parameters separated by commas, each kind taking its own.

use abi::layout::PAGE_SIZE;
use abi::object::Kind as ObjectKind;

use crate::number;
use crate::refusal::{Reason, is_name};

/// Highest IRQ a line may bind (the kernel's `irq_bind` takes 0 to 63).
pub const MAX_IRQ: u64 = 63;
/// Largest `dma` run, in pages (`page_create`'s 512: 2 MiB).
pub const MAX_DMA_PAGES: u64 = 512;
/// Physical addresses stop here (x86_64's architectural limit, 52 bits).
pub const PHYS_LIMIT: u64 = 1 << 52;
/// Largest I/O port range end (`abi::ioport::PORT_LIMIT`).
pub const PORT_LIMIT: u64 = abi::ioport::PORT_LIMIT as u64;

/// What a line asks for, with its parameters.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `endpoint`: an Endpoint the driver serves; Mercury keeps a copy to hand to clients.
    Endpoint,
    /// `ioport = min=M, max=N`: the I/O ports `[min, max)` (hexadecimal).
    IoPort {
        /// First port.
        min: u32,
        /// One past the last port.
        max: u32,
    },
    /// `note`: a Note.
    Note,
    /// `irq = irq=N, note=S [, bits=B]`: an IrqHandler for `irq` signalling `bits` on the Note
    /// in manifest slot `note`.
    Irq {
        /// The IRQ (0-15 ISA, 16-63 GSI).
        irq: u8,
        /// The manifest slot of its Note.
        note: u32,
        /// The bits it signals: `bits=` as written, or one free bit picked by the loader.
        bits: u64,
    },
    /// `memory = pages=N`: a Memory with a quota of `pages`.
    Memory {
        /// Its quota.
        pages: u64,
    },
    /// `timer`: a Timer.
    Timer,
    /// `cspace = self`: the driver's own CSpace.
    CSpace,
    /// `vspace = self`: the driver's own VSpace.
    VSpace,
    /// `mmio = phys=A, pages=N`: device memory, the `pages` frames from physical address `phys`
    /// (page-aligned, hexadecimal), as a Page to map uncached.
    Mmio {
        /// First physical address.
        phys: u64,
        /// Frames.
        pages: u64,
    },
    /// `dma = pages=N`: `pages` (a power of two, at most 512) physically contiguous pages, as a
    /// Page whose physical address the driver can ask for.
    Dma {
        /// Pages.
        pages: u64,
    },
    /// `framebuffer`: the boot framebuffer, as a Page over its frames.
    Framebuffer,
}

/// A line read, before placement: the kind (an `irq`'s Note and bits still unresolved), its
/// `name=`, and what an `irq` line said about its Note and bits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The kind; for `irq`, `note` and `bits` are 0 until placement.
    pub kind: Kind,
    /// `name=`.
    pub name: Option<&'a str>,
    /// An `irq` line's `note=`: a manifest slot, or a Note line's `name=`.
    pub note: Option<&'a str>,
    /// An `irq` line's `bits=`.
    pub bits: Option<u64>,
}

impl Kind {
    /// The keywords, as written in manifests.
    pub const KEYWORDS: [&'static str; 11] =
        ["endpoint", "ioport", "note", "irq", "memory", "timer", "cspace", "vspace", "mmio", "dma", "framebuffer"];

    /// The keyword of this kind.
    pub const fn keyword(&self) -> &'static str {
        match self {
            Kind::Endpoint => "endpoint",
            Kind::IoPort { .. } => "ioport",
            Kind::Note => "note",
            Kind::Irq { .. } => "irq",
            Kind::Memory { .. } => "memory",
            Kind::Timer => "timer",
            Kind::CSpace => "cspace",
            Kind::VSpace => "vspace",
            Kind::Mmio { .. } => "mmio",
            Kind::Dma { .. } => "dma",
            Kind::Framebuffer => "framebuffer",
        }
    }

    /// The kind of the capability the driver finds in its slot.
    pub const fn object_kind(&self) -> ObjectKind {
        match self {
            Kind::Endpoint => ObjectKind::Endpoint,
            Kind::IoPort { .. } => ObjectKind::IoPort,
            Kind::Note => ObjectKind::Note,
            Kind::Irq { .. } => ObjectKind::IrqHandler,
            Kind::Memory { .. } => ObjectKind::Memory,
            Kind::Timer => ObjectKind::Timer,
            Kind::CSpace => ObjectKind::CSpace,
            Kind::VSpace => ObjectKind::VSpace,
            Kind::Mmio { .. } | Kind::Dma { .. } | Kind::Framebuffer => ObjectKind::Page,
        }
    }

    /// The start-page name of a line of this kind without `name=`, for the kinds a driver has
    /// one of (or the runtime looks for by name).
    pub const fn default_name(&self) -> Option<&'static str> {
        match self {
            Kind::Memory { .. } => Some(abi::start::names::MEMORY),
            Kind::CSpace => Some(abi::start::names::CSPACE),
            Kind::VSpace => Some(abi::start::names::VSPACE),
            Kind::Framebuffer => Some("framebuffer"),
            _ => None,
        }
    }

    /// Whether a driver may have at most one line of this kind.
    pub const fn only_one(&self) -> bool {
        matches!(self, Kind::CSpace | Kind::VSpace | Kind::Framebuffer)
    }

    /// Pages its kernel object costs (see [`Manifest::object_pages`](super::Manifest::object_pages)).
    pub fn pages(&self) -> u64 {
        match *self {
            Kind::Endpoint | Kind::Note | Kind::Timer | Kind::Irq { .. } => 1,
            Kind::IoPort { .. } => abi::ioport::IOPORT_PAGES as u64,
            Kind::Memory { pages } => pages.saturating_add(abi::object::MEMORY_PAGES as u64),
            Kind::Dma { pages } => pages + 1,
            Kind::Mmio { .. } | Kind::Framebuffer => 1,
            Kind::CSpace | Kind::VSpace => 0,
        }
    }
}

/// Most parameters read from one line: twice what any kind takes.
const MAX_PARAMS: usize = 8;

/// The parameters of one line, each at most once.
struct Params<'a> {
    items: [(&'a str, &'a str); MAX_PARAMS],
    count: usize,
    used: [bool; MAX_PARAMS],
}

impl<'a> Params<'a> {
    /// Splits `value` at commas into `name=value` items.
    fn split(kind: &'static str, value: &'a str) -> Result<Params<'a>, Reason<'a>> {
        let mut params = Params { items: [("", ""); MAX_PARAMS], count: 0, used: [false; MAX_PARAMS] };
        if value.is_empty() {
            return Ok(params);
        }
        for item in value.split(',') {
            let item = item.trim();
            let Some((name, value)) = item.split_once('=') else {
                return Err(Reason::BadParameter(item));
            };
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                return Err(Reason::BadParameter(item));
            }
            if params.items[..params.count].iter().any(|(n, _)| *n == name) {
                return Err(Reason::DuplicateParameter(name));
            }
            if params.count == MAX_PARAMS {
                // No kind takes more than four: this one is unknown whatever the kind.
                return Err(Reason::UnknownParameter { kind, parameter: name });
            }
            params.items[params.count] = (name, value);
            params.count += 1;
        }
        Ok(params)
    }

    /// Takes parameter `name`, if given.
    fn take(&mut self, name: &str) -> Option<&'a str> {
        let i = self.items[..self.count].iter().position(|(n, _)| *n == name)?;
        self.used[i] = true;
        Some(self.items[i].1)
    }

    /// Takes parameter `name`, which `kind` needs.
    fn need(&mut self, kind: &'static str, name: &'static str) -> Result<&'a str, Reason<'a>> {
        self.take(name).ok_or(Reason::MissingParameter { kind, parameter: name })
    }

    /// The first parameter not taken, if any.
    fn unknown(&self) -> Option<&'a str> {
        (0..self.count).find(|&i| !self.used[i]).map(|i| self.items[i].0)
    }
}

/// Reads the line `KIND = VALUE` (the key's slot already split off).
pub fn parse<'a>(kind: &'a str, value: &'a str) -> Result<Parsed<'a>, Reason<'a>> {
    let kw = Kind::KEYWORDS.into_iter().find(|k| *k == kind).ok_or(Reason::UnknownKind(kind))?;
    if kw == "cspace" || kw == "vspace" {
        if value != "self" {
            return Err(Reason::NotSelf { kind: kw, value });
        }
        let kind = if kw == "cspace" { Kind::CSpace } else { Kind::VSpace };
        return Ok(Parsed { kind, name: None, note: None, bits: None });
    }
    let mut p = Params::split(kw, value)?;
    let name = match p.take("name") {
        Some(name) if is_name(name) => Some(name),
        Some(name) => return Err(Reason::BadName { what: "capability name", name }),
        None => None,
    };
    let (mut note, mut bits) = (None, None);
    let kind = match kw {
        "endpoint" => Kind::Endpoint,
        "note" => Kind::Note,
        "timer" => Kind::Timer,
        "framebuffer" => Kind::Framebuffer,
        "ioport" => {
            let min = hex(p.need(kw, "min")?, "min")?;
            let max = hex(p.need(kw, "max")?, "max")?;
            if max > PORT_LIMIT {
                return Err(Reason::OutOfRange { key: "max", value: max, accepts: "at most 0x10000" });
            }
            if min >= max {
                return Err(Reason::EmptyPortRange { min, max });
            }
            Kind::IoPort { min: min as u32, max: max as u32 }
        }
        "irq" => {
            let irq = decimal(p.need(kw, "irq")?, "irq")?;
            if irq > MAX_IRQ {
                return Err(Reason::OutOfRange { key: "irq", value: irq, accepts: "0 to 63" });
            }
            let n = p.need(kw, "note")?;
            if !is_name(n) {
                return Err(Reason::BadName { what: "note", name: n });
            }
            note = Some(n);
            if let Some(b) = p.take("bits") {
                let b = hex(b, "bits")?;
                if b == 0 {
                    return Err(Reason::OutOfRange { key: "bits", value: 0, accepts: "a nonzero mask" });
                }
                bits = Some(b);
            }
            Kind::Irq { irq: irq as u8, note: 0, bits: 0 }
        }
        "memory" => {
            let pages = decimal(p.need(kw, "pages")?, "pages")?;
            if pages == 0 || pages > abi::object::MAX_QUOTA as u64 {
                return Err(Reason::OutOfRange { key: "pages", value: pages, accepts: "1 to 2^40" });
            }
            Kind::Memory { pages }
        }
        "dma" => {
            let pages = decimal(p.need(kw, "pages")?, "pages")?;
            if !pages.is_power_of_two() || pages > MAX_DMA_PAGES {
                return Err(Reason::OutOfRange { key: "pages", value: pages, accepts: "a power of two, 1 to 512" });
            }
            Kind::Dma { pages }
        }
        "mmio" => {
            let phys = hex(p.need(kw, "phys")?, "phys")?;
            let pages = decimal(p.need(kw, "pages")?, "pages")?;
            if pages == 0 {
                return Err(Reason::OutOfRange { key: "pages", value: 0, accepts: "at least 1" });
            }
            let end = pages.checked_mul(PAGE_SIZE as u64).and_then(|bytes| phys.checked_add(bytes));
            if !phys.is_multiple_of(PAGE_SIZE as u64) || end.is_none_or(|end| end > PHYS_LIMIT) {
                return Err(Reason::BadPhysicalRange);
            }
            Kind::Mmio { phys, pages }
        }
        _ => return Err(Reason::UnknownKind(kind)),
    };
    if let Some(parameter) = p.unknown() {
        return Err(Reason::UnknownParameter { kind: kw, parameter });
    }
    Ok(Parsed { kind, name, note, bits })
}

fn hex<'a>(value: &'a str, key: &'a str) -> Result<u64, Reason<'a>> {
    number::hexadecimal(value).ok_or(Reason::BadNumber { key, value })
}

fn decimal<'a>(value: &'a str, key: &'a str) -> Result<u64, Reason<'a>> {
    number::decimal(value).ok_or(Reason::BadNumber { key, value })
}
