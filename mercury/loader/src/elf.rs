//! A program's ELF file: how to load it, and its `.manifest` section.
//!
//! `xmas-elf` reads the file (the ELF header, the program headers, the section headers) and
//! `elfload` checks what it read ([`elfload::check`]: user half only, no two segments sharing a
//! page, sizes bounded, no writable and executable segment, the entry point in executable
//! memory), so a driver is held to exactly the rules the kernel holds the root task to.
//! `xmas-elf` trusts the offsets and counts in the file and asserts on what it does not expect,
//! so nothing reaches it unchecked: before it reads a table this module checks that the table
//! lies inside the file, is 8-byte aligned (it reads headers in place) and has the entry size of
//! ELF64. Nothing here panics on any input.
//!
//! [`Image::parse`] gives the [`LoadPlan`]; [`manifest_section`] finds `.manifest` by name
//! through the section headers (of any ELF64 little-endian file: `xtask` looks at built
//! binaries with it).

use core::ops::Range;

use abi::layout::PAGE_SIZE;
use abi::object::rights;
use elfload::ElfError as Check;
use xmas_elf::ElfFile;
use xmas_elf::header::{Class, Data, Machine, Type, Version};
use xmas_elf::program::Type as PhType;
use xmas_elf::sections::{SHN_LORESERVE, ShType};

/// The name of the section a driver's manifest is in.
pub const MANIFEST_SECTION: &[u8] = b".manifest";

/// Size of an ELF64 program header.
const PH_SIZE: u64 = 56;
/// Size of an ELF64 section header.
const SH_SIZE: u64 = 64;

/// Why a file cannot be loaded, or its manifest read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// One of `elfload`'s refusals (the same the kernel gives for the root task).
    Load(Check),
    /// The bytes do not start at an 8-byte aligned address (headers are read in place); an
    /// initramfs member always does, its data starting on a 512-byte block.
    Unaligned,
    /// The section header table lies outside the file, is misaligned, has the wrong entry size or
    /// too many entries, or its string table is broken.
    BadSectionHeaders,
    /// The `.manifest` section holds no bytes in the file (`SHT_NOBITS`), lies outside the file,
    /// or appears twice.
    BadManifestSection,
}

impl ElfError {
    /// A short description, for logs.
    pub const fn describe(self) -> &'static str {
        match self {
            ElfError::Load(e) => e.describe(),
            ElfError::Unaligned => "image not 8-byte aligned in memory",
            ElfError::BadSectionHeaders => "malformed section header table",
            ElfError::BadManifestSection => "malformed .manifest section",
        }
    }
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.describe())
    }
}

impl From<Check> for ElfError {
    fn from(e: Check) -> ElfError {
        ElfError::Load(e)
    }
}

/// One segment to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of its first byte.
    pub vaddr: u64,
    /// Bytes in memory (past the file data, zero).
    pub memsz: u64,
    /// Its data: this range of the file (at most `memsz` bytes).
    pub file: Range<usize>,
    /// The rights to map its pages with: `READ`, plus `WRITE` or `EXECUTE` (never both), as
    /// `page_map`'s `access` takes them (`abi::object::rights`).
    pub rights: usize,
}

/// What goes into one page of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageFill {
    /// The page's address.
    pub vaddr: u64,
    /// Where in the page the file data starts.
    pub offset: usize,
    /// The file data for it (empty for a page of zeros); it ends inside the page.
    pub file: Range<usize>,
}

impl Segment {
    /// The pages it covers, `[first page, one past the last)`.
    pub fn pages(&self) -> Range<u64> {
        let page = PAGE_SIZE as u64;
        // No overflow: `elfload` checked the segment lies in the user half.
        (self.vaddr & !(page - 1))..(self.vaddr + self.memsz).next_multiple_of(page)
    }

    /// Every page it covers, in address order, with the file data that goes into it.
    pub fn page_fills(&self) -> impl Iterator<Item = PageFill> + '_ {
        let page = PAGE_SIZE as u64;
        let data = self.vaddr..self.vaddr + (self.file.end - self.file.start) as u64;
        self.pages().step_by(PAGE_SIZE).map(move |p| {
            let from = p.max(data.start);
            let to = (p + page).min(data.end);
            if from >= to {
                return PageFill { vaddr: p, offset: 0, file: 0..0 };
            }
            let start = self.file.start + (from - data.start) as usize;
            PageFill { vaddr: p, offset: (from - p) as usize, file: start..start + (to - from) as usize }
        })
    }
}

/// How to load a program: its segments and entry point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadPlan {
    /// The entry point (inside an executable segment).
    pub entry: u64,
    plan: elfload::Plan,
}

impl LoadPlan {
    /// The segments, in program-header order.
    pub fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        self.plan.segments().iter().map(|s| Segment {
            vaddr: s.vaddr,
            memsz: s.memsz,
            // `elfload` checked `offset + filesz` lies inside the file.
            file: s.offset as usize..(s.offset + s.filesz) as usize,
            rights: rights::READ
                | if s.write { rights::WRITE } else { 0 }
                | if s.execute { rights::EXECUTE } else { 0 },
        })
    }

    /// Pages the segments cover.
    pub fn pages(&self) -> u64 {
        self.plan.pages()
    }
}

/// A checked program.
#[derive(Clone, Debug)]
pub struct Image<'a> {
    bytes: &'a [u8],
    plan: LoadPlan,
}

impl<'a> Image<'a> {
    /// Reads and checks `bytes` as a static ELF64 x86_64 executable for the user half.
    pub fn parse(bytes: &'a [u8]) -> Result<Image<'a>, ElfError> {
        let file = open(bytes)?;
        let pt2 = &file.header.pt2;
        if file.header.pt1.data() != Data::LittleEndian
            || file.header.pt1.version() != Version::Current
            || pt2.machine().as_machine() != Machine::X86_64
            || pt2.version() != 1
        {
            return Err(Check::WrongKind.into());
        }
        if pt2.type_().as_type() != Type::Executable {
            return Err(Check::NotStatic.into());
        }
        let (offset, count) = (pt2.ph_offset(), u64::from(pt2.ph_count()));
        if u64::from(pt2.ph_entry_size()) != PH_SIZE
            || count == 0
            || count > elfload::MAX_PROGRAM_HEADERS as u64
            || !offset.is_multiple_of(8)
        {
            return Err(Check::BadProgramHeaders.into());
        }
        let end = offset.checked_add(count * PH_SIZE).ok_or(Check::BadProgramHeaders)?;
        if end > bytes.len() as u64 {
            return Err(Check::Truncated.into());
        }
        // The table is inside the file, aligned and of ELF64 entries: `xmas-elf` reads it safely.
        let headers = (0..pt2.ph_count()).map(|i| {
            let ph = file.program_header(i).map_err(|_| Check::BadProgramHeaders)?;
            let kind = match ph.get_type() {
                Ok(PhType::Load) => 1,
                Ok(PhType::Dynamic) => 2,
                Ok(PhType::Interp) => 3,
                // Every other type is left alone, as `elfload` leaves it.
                _ => 0,
            };
            Ok(elfload::ProgramHeader {
                kind,
                flags: ph.flags().0,
                offset: ph.offset(),
                vaddr: ph.virtual_addr(),
                filesz: ph.file_size(),
                memsz: ph.mem_size(),
            })
        });
        let plan = elfload::check(pt2.entry_point(), bytes.len() as u64, headers)?;
        Ok(Image { bytes, plan: LoadPlan { entry: plan.entry, plan } })
    }

    /// How to load it.
    pub fn plan(&self) -> &LoadPlan {
        &self.plan
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The contents of its `.manifest` section, if it has one.
    pub fn manifest(&self) -> Result<Option<&'a [u8]>, ElfError> {
        manifest_section(self.bytes)
    }
}

/// Checks what `xmas-elf` needs before it reads the ELF header in place, and opens the file.
fn open(bytes: &[u8]) -> Result<ElfFile<'_>, ElfError> {
    if bytes.len() < 64 {
        return Err(
            if bytes.starts_with(b"\x7fELF") || bytes.len() < 4 { Check::Truncated } else { Check::BadMagic }.into()
        );
    }
    if !bytes.starts_with(b"\x7fELF") {
        return Err(Check::BadMagic.into());
    }
    if !(bytes.as_ptr() as usize).is_multiple_of(8) {
        return Err(ElfError::Unaligned);
    }
    // ELF32 files have other header sizes: refuse them before `xmas-elf` reads any.
    if bytes[4] != 2 {
        return Err(Check::WrongKind.into());
    }
    let file = ElfFile::new(bytes).map_err(|_| Check::WrongKind)?;
    if file.header.pt1.class() != Class::SixtyFour {
        return Err(Check::WrongKind.into());
    }
    Ok(file)
}

/// The contents of the section named `.manifest` of an ELF64 little-endian file, found by name
/// through its section headers: `None` if it has no section headers or no such section.
pub fn manifest_section(bytes: &[u8]) -> Result<Option<&[u8]>, ElfError> {
    let file = open(bytes)?;
    if file.header.pt1.data() != Data::LittleEndian {
        return Err(Check::WrongKind.into());
    }
    let pt2 = &file.header.pt2;
    let count = pt2.sh_count();
    if count == 0 {
        return Ok(None);
    }
    let offset = pt2.sh_offset();
    let end = offset.checked_add(u64::from(count) * SH_SIZE);
    if u64::from(pt2.sh_entry_size()) != SH_SIZE
        || count >= SHN_LORESERVE
        || !offset.is_multiple_of(8)
        || end.is_none_or(|end| end > bytes.len() as u64)
    {
        return Err(ElfError::BadSectionHeaders);
    }
    // The table is inside the file, aligned and of ELF64 entries: `xmas-elf` reads it safely.
    let section = |i: u16| file.section_header(i).map_err(|_| ElfError::BadSectionHeaders);
    let names_index = pt2.sh_str_index();
    if names_index >= count {
        return Err(ElfError::BadSectionHeaders);
    }
    let names = section(names_index)?;
    if names.get_type() != Ok(ShType::StrTab) {
        return Err(ElfError::BadSectionHeaders);
    }
    let names = data(bytes, names.offset(), names.size()).ok_or(ElfError::BadSectionHeaders)?;
    let mut found = None;
    for i in 0..count {
        let header = section(i)?;
        let Some(name) = names.get(header.name() as usize..) else {
            return Err(ElfError::BadSectionHeaders);
        };
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if name != MANIFEST_SECTION || header.get_type() == Ok(ShType::Null) {
            continue;
        }
        if found.is_some() || header.get_type() == Ok(ShType::NoBits) {
            return Err(ElfError::BadManifestSection);
        }
        found = Some(data(bytes, header.offset(), header.size()).ok_or(ElfError::BadManifestSection)?);
    }
    Ok(found)
}

/// `bytes[offset..offset + size]`, if it is inside `bytes`.
fn data(bytes: &[u8], offset: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    bytes.get(start..end)
}

#[cfg(test)]
mod tests;
