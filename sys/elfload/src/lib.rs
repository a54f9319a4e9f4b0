//! Checked planning of how to load a static ELF64 x86_64 executable into a user address space.
//!
//! [`plan`] reads the ELF header and program headers of an untrusted image and returns the
//! segments to map, or says exactly what is wrong. Every offset and size is checked against the
//! image and the user half of the address space (`abi::layout`) with checked arithmetic:
//! segments outside the user half, segments that overlap (at page granularity, since pages carry
//! the permissions), segments larger than their file data allows or larger than
//! [`MAX_IMAGE_BYTES`], writable-and-executable segments, dynamic executables, and an entry point
//! outside executable memory are all rejected. Nothing here panics on any input.
//!
//! [`check`] is the same checks without the reading, for a caller that decoded the headers with an
//! ELF reader of its own (Mercury reads with `xmas-elf`); [`plan`] is its own small reader then
//! [`check`].
//!
//! The crate does no mapping itself: the kernel (for the root task) and Mercury (for drivers)
//! carry out the plan.
#![no_std]

use abi::layout::{PAGE_SIZE, is_user_range};

/// Most program headers looked at.
pub const MAX_PROGRAM_HEADERS: usize = 64;
/// Most `PT_LOAD` segments in a plan.
pub const MAX_SEGMENTS: usize = 16;
/// Largest total memory size of the loadable segments.
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PF_X: u32 = 1;
const PF_W: u32 = 2;

/// What is wrong with an image.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than its headers say.
    Truncated,
    /// Not an ELF file.
    BadMagic,
    /// Not ELF64, little-endian, version 1, x86_64.
    WrongKind,
    /// Not a static executable (`ET_EXEC` without `PT_INTERP` or `PT_DYNAMIC`).
    NotStatic,
    /// The program header table is malformed or too large.
    BadProgramHeaders,
    /// A segment's file data lies outside the image.
    SegmentOutsideFile,
    /// A segment's file size exceeds its memory size.
    FileSizeExceedsMemory,
    /// A segment's offset and address disagree modulo the page size.
    Misaligned,
    /// A segment lies outside the user half.
    OutsideUserSpace,
    /// Two segments share a page.
    Overlap,
    /// A segment is both writable and executable.
    WritableAndExecutable,
    /// Too many segments, or too much memory in all.
    TooLarge,
    /// No loadable segment.
    Empty,
    /// The entry point is not inside an executable segment.
    BadEntry,
}

impl ElfError {
    /// A short description, for logs and error replies.
    pub const fn describe(self) -> &'static str {
        match self {
            ElfError::Truncated => "truncated image",
            ElfError::BadMagic => "not an ELF file",
            ElfError::WrongKind => "not an ELF64 little-endian x86_64 file",
            ElfError::NotStatic => "not a static executable",
            ElfError::BadProgramHeaders => "malformed program header table",
            ElfError::SegmentOutsideFile => "segment data outside the file",
            ElfError::FileSizeExceedsMemory => "segment file size exceeds its memory size",
            ElfError::Misaligned => "segment offset and address disagree modulo the page size",
            ElfError::OutsideUserSpace => "segment outside the user address space",
            ElfError::Overlap => "segments overlap",
            ElfError::WritableAndExecutable => "segment is writable and executable",
            ElfError::TooLarge => "image too large",
            ElfError::Empty => "no loadable segment",
            ElfError::BadEntry => "entry point outside executable memory",
        }
    }
}

/// One segment to load.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of its first byte.
    pub vaddr: u64,
    /// Bytes in memory (the part past `filesz` is zero).
    pub memsz: u64,
    /// Offset of its data in the image.
    pub offset: u64,
    /// Bytes of data in the image.
    pub filesz: u64,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl Segment {
    /// First page address.
    pub fn page_start(&self) -> u64 {
        self.vaddr & !(PAGE_SIZE as u64 - 1)
    }

    /// One past the last page.
    pub fn page_end(&self) -> u64 {
        // Cannot overflow: `plan` checked the segment lies in the user half.
        (self.vaddr + self.memsz).next_multiple_of(PAGE_SIZE as u64)
    }

    /// The segment's file data within `image` (which `plan` checked).
    pub fn data<'a>(&self, image: &'a [u8]) -> &'a [u8] {
        image.get(self.offset as usize..(self.offset + self.filesz) as usize).unwrap_or(&[])
    }
}

/// How to load an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The entry point.
    pub entry: u64,
    segments: [Segment; MAX_SEGMENTS],
    count: usize,
}

impl Plan {
    /// The segments, in program-header order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments[..self.count]
    }

    /// Pages the segments cover.
    pub fn pages(&self) -> u64 {
        self.segments().iter().map(|s| (s.page_end() - s.page_start()) / PAGE_SIZE as u64).sum()
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, ElfError> {
    let bytes = b.get(at..at + 2).ok_or(ElfError::Truncated)?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ElfError> {
    let bytes = b.get(at..at + 4).ok_or(ElfError::Truncated)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(bytes);
    Ok(u32::from_le_bytes(a))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, ElfError> {
    let bytes = b.get(at..at + 8).ok_or(ElfError::Truncated)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(bytes);
    Ok(u64::from_le_bytes(a))
}

/// Checks `image` and returns how to load it.
pub fn plan(image: &[u8]) -> Result<Plan, ElfError> {
    if image.len() < 64 {
        return Err(if image.starts_with(b"\x7fELF") || image.len() < 4 {
            ElfError::Truncated
        } else {
            ElfError::BadMagic
        });
    }
    if &image[..4] != b"\x7fELF" {
        return Err(ElfError::BadMagic);
    }
    // Class 64, little-endian, version 1; e_machine x86_64; e_version 1.
    if image[4] != 2 || image[5] != 1 || image[6] != 1 || u16_at(image, 18)? != 62 || u32_at(image, 20)? != 1 {
        return Err(ElfError::WrongKind);
    }
    if u16_at(image, 16)? != 2 {
        return Err(ElfError::NotStatic);
    }
    let entry = u64_at(image, 24)?;
    let phoff = u64_at(image, 32)?;
    let phentsize = u16_at(image, 54)? as usize;
    let phnum = u16_at(image, 56)? as usize;
    if phentsize != 56 || phnum == 0 || phnum > MAX_PROGRAM_HEADERS {
        return Err(ElfError::BadProgramHeaders);
    }
    let table_end = (phnum * 56) as u64;
    let table_end = phoff.checked_add(table_end).ok_or(ElfError::BadProgramHeaders)?;
    if table_end > image.len() as u64 {
        return Err(ElfError::Truncated);
    }

    let headers = (0..phnum).map(|i| {
        let ph = phoff as usize + i * 56;
        Ok(ProgramHeader {
            kind: u32_at(image, ph)?,
            flags: u32_at(image, ph + 4)?,
            offset: u64_at(image, ph + 8)?,
            vaddr: u64_at(image, ph + 16)?,
            filesz: u64_at(image, ph + 32)?,
            memsz: u64_at(image, ph + 40)?,
        })
    });
    check(entry, image.len() as u64, headers)
}

/// One program header as an ELF reader decoded it: [`plan`]'s own, or another (Mercury reads
/// files with `xmas-elf` and hands its headers to [`check`]).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `p_type`.
    pub kind: u32,
    /// `p_flags`.
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
}

/// The loading checks on their own, for a reader that decoded the ELF header and the program
/// headers itself: `entry` is `e_entry`, `image_len` the file's length, `headers` the program
/// headers in table order (at most [`MAX_PROGRAM_HEADERS`]; an `Err` among them is returned as
/// it is). The file's type and machine are the reader's to check.
pub fn check(
    entry: u64,
    image_len: u64,
    headers: impl IntoIterator<Item = Result<ProgramHeader, ElfError>>,
) -> Result<Plan, ElfError> {
    let mut plan = Plan { entry, segments: [Segment::default(); MAX_SEGMENTS], count: 0 };
    let mut total: u64 = 0;
    for (i, ph) in headers.into_iter().enumerate() {
        if i == MAX_PROGRAM_HEADERS {
            return Err(ElfError::BadProgramHeaders);
        }
        let ph = ph?;
        match ph.kind {
            PT_INTERP | PT_DYNAMIC => return Err(ElfError::NotStatic),
            PT_LOAD => {}
            _ => continue,
        }
        let seg = Segment {
            offset: ph.offset,
            vaddr: ph.vaddr,
            filesz: ph.filesz,
            memsz: ph.memsz,
            write: ph.flags & PF_W != 0,
            execute: ph.flags & PF_X != 0,
        };
        if seg.memsz == 0 {
            continue;
        }
        if seg.filesz > seg.memsz {
            return Err(ElfError::FileSizeExceedsMemory);
        }
        match seg.offset.checked_add(seg.filesz) {
            Some(end) if end <= image_len => {}
            _ => return Err(ElfError::SegmentOutsideFile),
        }
        if seg.vaddr % PAGE_SIZE as u64 != seg.offset % PAGE_SIZE as u64 {
            return Err(ElfError::Misaligned);
        }
        if seg.memsz > MAX_IMAGE_BYTES {
            return Err(ElfError::TooLarge);
        }
        // Whole pages must lie in the user half (this also rules out wrap-around).
        let page_start = seg.vaddr & !(PAGE_SIZE as u64 - 1);
        let page_end = seg
            .vaddr
            .checked_add(seg.memsz)
            .and_then(|e| e.checked_next_multiple_of(PAGE_SIZE as u64))
            .ok_or(ElfError::OutsideUserSpace)?;
        if !is_user_range(page_start as usize, (page_end - page_start) as usize) {
            return Err(ElfError::OutsideUserSpace);
        }
        if seg.write && seg.execute {
            return Err(ElfError::WritableAndExecutable);
        }
        if plan.segments().iter().any(|o| page_start < o.page_end() && o.page_start() < page_end) {
            return Err(ElfError::Overlap);
        }
        total += page_end - page_start;
        if plan.count == MAX_SEGMENTS || total > MAX_IMAGE_BYTES {
            return Err(ElfError::TooLarge);
        }
        plan.segments[plan.count] = seg;
        plan.count += 1;
    }
    if plan.count == 0 {
        return Err(ElfError::Empty);
    }
    if !plan.segments().iter().any(|s| s.execute && entry >= s.vaddr && entry - s.vaddr < s.memsz) {
        return Err(ElfError::BadEntry);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// (type, flags, offset, vaddr, filesz, memsz)
    type Ph = (u32, u32, u64, u64, u64, u64);

    fn image(entry: u64, phs: &[Ph], len: usize) -> Vec<u8> {
        let mut b = std::vec![0u8; len.max(64 + phs.len() * 56)];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16..18].copy_from_slice(&2u16.to_le_bytes());
        b[18..20].copy_from_slice(&62u16.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&entry.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
        for (i, &(t, f, off, va, fsz, msz)) in phs.iter().enumerate() {
            let p = 64 + i * 56;
            b[p..p + 4].copy_from_slice(&t.to_le_bytes());
            b[p + 4..p + 8].copy_from_slice(&f.to_le_bytes());
            b[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            b[p + 16..p + 24].copy_from_slice(&va.to_le_bytes());
            b[p + 32..p + 40].copy_from_slice(&fsz.to_le_bytes());
            b[p + 40..p + 48].copy_from_slice(&msz.to_le_bytes());
        }
        b
    }

    const RX: u32 = 5;
    const RW: u32 = 6;

    fn good() -> Vec<u8> {
        image(
            0x40_1000,
            &[(PT_LOAD, RX, 0x1000, 0x40_1000, 0x100, 0x100), (PT_LOAD, RW, 0x2000, 0x40_2000, 0x10, 0x3000)],
            0x3000,
        )
    }

    #[test]
    fn plans_a_good_image() {
        let img = good();
        let p = plan(&img).unwrap();
        assert_eq!(p.entry, 0x40_1000);
        assert_eq!(p.segments().len(), 2);
        assert_eq!(p.pages(), 1 + 3);
        assert_eq!(p.segments()[1].data(&img).len(), 0x10);
        assert!(p.segments()[0].execute && !p.segments()[0].write);
    }

    #[test]
    fn rejects_segments_outside_user_half() {
        for va in [0xffff_ffff_8000_0000u64, 0x0000_8000_0000_0000, 0, 0x7fff_ffff_f000] {
            let img = image(va, &[(PT_LOAD, RX, 0, va, 0x10, 0x10)], 0x1000);
            assert_eq!(plan(&img), Err(ElfError::OutsideUserSpace), "vaddr {va:#x}");
        }
        let img = image(0x40_0000, &[(PT_LOAD, RX, 0, 0x40_0000, 0x10, u64::MAX - 0x100)], 0x1000);
        assert!(plan(&img).is_err());
    }

    #[test]
    fn rejects_overlap_and_oversize() {
        let img = image(
            0x40_0000,
            &[(PT_LOAD, RX, 0, 0x40_0000, 0x10, 0x1800), (PT_LOAD, RW, 0x1000, 0x40_1000, 0, 0x10)],
            0x2000,
        );
        assert_eq!(plan(&img), Err(ElfError::Overlap));
        let img = image(0x40_0000, &[(PT_LOAD, RX, 0, 0x40_0000, 0x10, MAX_IMAGE_BYTES + 1)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::TooLarge));
        let img = image(0x40_0000, &[(PT_LOAD, RX, 0, 0x40_0000, 0x2000, 0x1000)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::FileSizeExceedsMemory));
        let img = image(0x40_0000, &[(PT_LOAD, RX, 0x800, 0x40_0000, 0x10, 0x1000)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::Misaligned));
        let img = image(0x40_0000, &[(PT_LOAD, RX, 0, 0x40_0000, 0x2000, 0x2000)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::SegmentOutsideFile));
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(plan(b""), Err(ElfError::Truncated));
        assert_eq!(plan(&[0u8; 100]), Err(ElfError::BadMagic));
        let mut img = good();
        img[4] = 1;
        assert_eq!(plan(&img), Err(ElfError::WrongKind));
        let mut img = good();
        img[16] = 3; // ET_DYN
        assert_eq!(plan(&img), Err(ElfError::NotStatic));
        let img = image(0x40_1000, &[(PT_INTERP, 4, 0, 0, 0, 0)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::NotStatic));
        let mut img = good();
        img[56] = 0xff; // 255 program headers
        assert_eq!(plan(&img), Err(ElfError::BadProgramHeaders));
        let mut img = good();
        img[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(plan(&img), Err(ElfError::BadProgramHeaders));
        let img = image(0x40_2000, &[(PT_LOAD, RX, 0x1000, 0x40_1000, 0x100, 0x100)], 0x2000);
        assert_eq!(plan(&img), Err(ElfError::BadEntry));
        let img = image(0x40_1000, &[(PT_LOAD, 7, 0x1000, 0x40_1000, 0x100, 0x100)], 0x2000);
        assert_eq!(plan(&img), Err(ElfError::WritableAndExecutable));
        let img = image(0x40_1000, &[(6, 4, 0, 0, 0, 0)], 0x1000);
        assert_eq!(plan(&img), Err(ElfError::Empty));
        assert_eq!(plan(&good()[..100]), Err(ElfError::Truncated));
    }

    #[test]
    fn check_bounds_the_headers_it_reads() {
        let load = ProgramHeader { kind: PT_LOAD, flags: RX, offset: 0, vaddr: 0x40_0000, filesz: 0x10, memsz: 0x10 };
        assert!(check(0x40_0000, 0x1000, [Ok(load)]).is_ok());
        let note = ProgramHeader { kind: 4, ..load };
        let many = core::iter::once(Ok(load)).chain(core::iter::repeat_n(Ok(note), MAX_PROGRAM_HEADERS));
        assert_eq!(check(0x40_0000, 0x1000, many), Err(ElfError::BadProgramHeaders));
        assert_eq!(check(0x40_0000, 0x1000, [Ok(load), Err(ElfError::Truncated)]), Err(ElfError::Truncated));
        assert_eq!(check(0x40_0000, 0x8, [Ok(load)]), Err(ElfError::SegmentOutsideFile));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = plan(&data);
        }

        #[test]
        fn mutated_images_never_panic_and_plans_stay_in_bounds(
            flips in proptest::collection::vec((0usize..300, proptest::num::u8::ANY), 1..10)
        ) {
            let mut img = good();
            for (at, v) in flips {
                img[at % 300] = v;
            }
            if let Ok(p) = plan(&img) {
                for s in p.segments() {
                    proptest::prop_assert!(is_user_range(s.page_start() as usize, (s.page_end() - s.page_start()) as usize));
                    proptest::prop_assert!(s.offset + s.filesz <= img.len() as u64);
                    proptest::prop_assert!(!(s.write && s.execute));
                }
            }
        }
    }
}
