//! Unit tests: plans and manifests of generated images, every refusal, the host's own test
//! binary as a real file, and property tests that no input panics.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;

/// (type, flags, offset, vaddr, filesz, memsz)
type Ph = (u32, u32, u64, u64, u64, u64);
/// (name offset in the string table, type, offset, size)
type Sh = (u32, u32, u64, u64);

const RX: u32 = 5;
const RW: u32 = 6;
const NAMES: &[u8] = b"\0.text\0.manifest\0.shstrtab\0";
const TEXT_NAME: u32 = 1;
const MANIFEST_NAME: u32 = 7;
const SHSTRTAB_NAME: u32 = 17;
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;

/// An ELF image of `len` bytes (at least its tables) with these program headers at 64, the
/// section name table at 0x800, and these section headers (after a null one) at 0x900, the
/// names' own header last.
fn image(entry: u64, phs: &[Ph], shs: &[Sh], len: usize) -> Vec<u8> {
    let shnum = shs.len() + 2;
    let mut b = vec![0u8; len.max(0x900 + shnum * 64)];
    b[..4].copy_from_slice(b"\x7fELF");
    b[4] = 2;
    b[5] = 1;
    b[6] = 1;
    b[16..18].copy_from_slice(&2u16.to_le_bytes());
    b[18..20].copy_from_slice(&62u16.to_le_bytes());
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..32].copy_from_slice(&entry.to_le_bytes());
    b[32..40].copy_from_slice(&64u64.to_le_bytes());
    b[40..48].copy_from_slice(&0x900u64.to_le_bytes());
    b[52..54].copy_from_slice(&64u16.to_le_bytes());
    b[54..56].copy_from_slice(&56u16.to_le_bytes());
    b[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
    b[58..60].copy_from_slice(&64u16.to_le_bytes());
    b[60..62].copy_from_slice(&(shnum as u16).to_le_bytes());
    b[62..64].copy_from_slice(&((shnum - 1) as u16).to_le_bytes());
    for (i, &(t, f, off, va, fsz, msz)) in phs.iter().enumerate() {
        let p = 64 + i * 56;
        b[p..p + 4].copy_from_slice(&t.to_le_bytes());
        b[p + 4..p + 8].copy_from_slice(&f.to_le_bytes());
        b[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        b[p + 16..p + 24].copy_from_slice(&va.to_le_bytes());
        b[p + 32..p + 40].copy_from_slice(&fsz.to_le_bytes());
        b[p + 40..p + 48].copy_from_slice(&msz.to_le_bytes());
    }
    b[0x800..0x800 + NAMES.len()].copy_from_slice(NAMES);
    let names = (SHSTRTAB_NAME, SHT_STRTAB, 0x800, NAMES.len() as u64);
    for (i, &(name, t, off, size)) in shs.iter().chain([&names]).enumerate() {
        let s = 0x900 + (i + 1) * 64;
        b[s..s + 4].copy_from_slice(&name.to_le_bytes());
        b[s + 4..s + 8].copy_from_slice(&t.to_le_bytes());
        b[s + 24..s + 32].copy_from_slice(&off.to_le_bytes());
        b[s + 32..s + 40].copy_from_slice(&size.to_le_bytes());
    }
    b
}

/// `bytes` copied to an 8-byte aligned place (as an initramfs member's data always is).
fn aligned(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut buf = vec![0u8; bytes.len() + 8];
    let at = buf.as_ptr().align_offset(8);
    buf[at..at + bytes.len()].copy_from_slice(bytes);
    (buf, at)
}

fn with<R>(bytes: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let (buf, at) = aligned(bytes);
    f(&buf[at..at + bytes.len()])
}

const MANIFEST: &[u8] = b"[driver]\nname=t\n[capabilities]\n0:note=\n";

fn good() -> Vec<u8> {
    let mut b = image(
        0x40_1000,
        &[(1, RX, 0x1000, 0x40_1000, 0x100, 0x100), (1, RW, 0x1800, 0x40_2800, 0x900, 0x3000), (4, 4, 0, 0, 0, 0)],
        &[(TEXT_NAME, SHT_PROGBITS, 0x1000, 0x100), (MANIFEST_NAME, SHT_PROGBITS, 0x3000, MANIFEST.len() as u64)],
        0x3100,
    );
    b[0x3000..0x3000 + MANIFEST.len()].copy_from_slice(MANIFEST);
    b
}

#[test]
fn plans_a_good_image_and_finds_its_manifest() {
    with(&good(), |img| {
        let image = Image::parse(img).unwrap();
        let plan = image.plan();
        assert_eq!(plan.entry, 0x40_1000);
        let segs: Vec<_> = plan.segments().collect();
        assert_eq!(
            segs,
            [
                Segment {
                    vaddr: 0x40_1000,
                    memsz: 0x100,
                    file: 0x1000..0x1100,
                    rights: rights::READ | rights::EXECUTE
                },
                Segment { vaddr: 0x40_2800, memsz: 0x3000, file: 0x1800..0x2100, rights: rights::READ | rights::WRITE },
            ]
        );
        assert_eq!(plan.pages(), 1 + 4);
        assert_eq!(image.manifest(), Ok(Some(MANIFEST)));
        assert_eq!(manifest_section(img), Ok(Some(MANIFEST)));
        assert!(crate::manifest::Manifest::parse(image.manifest().unwrap().unwrap()).is_ok());
    });
}

#[test]
fn page_fills_cover_every_page() {
    let seg = Segment { vaddr: 0x40_2800, memsz: 0x3000, file: 0x2000..0x2900, rights: rights::READ };
    let fills: Vec<_> = seg.page_fills().collect();
    assert_eq!(
        fills,
        [
            PageFill { vaddr: 0x40_2000, offset: 0x800, file: 0x2000..0x2800 },
            PageFill { vaddr: 0x40_3000, offset: 0, file: 0x2800..0x2900 },
            PageFill { vaddr: 0x40_4000, offset: 0, file: 0..0 },
            PageFill { vaddr: 0x40_5000, offset: 0, file: 0..0 },
        ]
    );
    let empty = Segment { vaddr: 0x40_0000, memsz: 0x1000, file: 0x10..0x10, rights: rights::READ };
    assert_eq!(empty.page_fills().collect::<Vec<_>>(), [PageFill { vaddr: 0x40_0000, offset: 0, file: 0..0 }]);
}

#[test]
fn refuses_what_elfload_refuses() {
    let refuse = |phs: &[Ph], entry: u64| with(&image(entry, phs, &[], 0x3000), |img| Image::parse(img).unwrap_err());
    assert_eq!(
        refuse(&[(1, RX, 0, 0xffff_ffff_8000_0000, 0x10, 0x10)], 0x40_0000),
        ElfError::Load(Check::OutsideUserSpace)
    );
    assert_eq!(
        refuse(&[(1, RX, 0, 0x40_0000, 0x10, 0x1800), (1, RW, 0x1000, 0x40_1000, 0, 0x10)], 0x40_0000),
        ElfError::Load(Check::Overlap)
    );
    assert_eq!(
        refuse(&[(1, RX, 0, 0x40_0000, 0x10, elfload::MAX_IMAGE_BYTES + 1)], 0x40_0000),
        ElfError::Load(Check::TooLarge)
    );
    assert_eq!(refuse(&[(1, 7, 0, 0x40_0000, 0x10, 0x10)], 0x40_0000), ElfError::Load(Check::WritableAndExecutable));
    assert_eq!(refuse(&[(1, RW, 0, 0x40_0000, 0x10, 0x10)], 0x40_0000), ElfError::Load(Check::BadEntry));
    assert_eq!(refuse(&[(1, RX, 0, 0x40_0000, 0x10, 0x10)], 0x40_1000), ElfError::Load(Check::BadEntry));
    assert_eq!(refuse(&[(1, RX, 0, 0x40_0000, 0x4000, 0x4000)], 0x40_0000), ElfError::Load(Check::SegmentOutsideFile));
    assert_eq!(refuse(&[(1, RX, 0, 0x40_0000, 0x20, 0x10)], 0x40_0000), ElfError::Load(Check::FileSizeExceedsMemory));
    assert_eq!(refuse(&[(1, RX, 0x800, 0x40_0000, 0x10, 0x10)], 0x40_0000), ElfError::Load(Check::Misaligned));
    assert_eq!(refuse(&[(3, 4, 0, 0, 0, 0)], 0x40_0000), ElfError::Load(Check::NotStatic));
    assert_eq!(refuse(&[(2, 4, 0, 0, 0, 0)], 0x40_0000), ElfError::Load(Check::NotStatic));
    assert_eq!(refuse(&[(4, 4, 0, 0, 0, 0)], 0x40_0000), ElfError::Load(Check::Empty));
    assert_eq!(refuse(&[], 0x40_0000), ElfError::Load(Check::BadProgramHeaders));
}

#[test]
fn refuses_bad_headers() {
    let parse = |b: &[u8]| with(b, |img| Image::parse(img).map(|_| ()));
    assert_eq!(parse(b""), Err(ElfError::Load(Check::Truncated)));
    assert_eq!(parse(b"\x7fELF"), Err(ElfError::Load(Check::Truncated)));
    assert_eq!(parse(&[0u8; 100]), Err(ElfError::Load(Check::BadMagic)));
    let patched = |at: usize, v: &[u8]| {
        let mut b = good();
        b[at..at + v.len()].copy_from_slice(v);
        parse(&b)
    };
    assert_eq!(patched(4, &[1]), Err(ElfError::Load(Check::WrongKind)), "ELF32");
    assert_eq!(patched(4, &[0]), Err(ElfError::Load(Check::WrongKind)), "no class");
    assert_eq!(patched(5, &[2]), Err(ElfError::Load(Check::WrongKind)), "big-endian");
    assert_eq!(patched(18, &[3, 0]), Err(ElfError::Load(Check::WrongKind)), "i386");
    assert_eq!(patched(16, &[3, 0]), Err(ElfError::Load(Check::NotStatic)), "ET_DYN");
    assert_eq!(patched(54, &[32, 0]), Err(ElfError::Load(Check::BadProgramHeaders)), "entry size");
    assert_eq!(patched(56, &[65, 0]), Err(ElfError::Load(Check::BadProgramHeaders)), "too many");
    assert_eq!(patched(32, &[65]), Err(ElfError::Load(Check::BadProgramHeaders)), "unaligned table");
    assert_eq!(patched(32, &0x30f8u64.to_le_bytes()), Err(ElfError::Load(Check::Truncated)));
    assert_eq!(patched(32, &u64::MAX.to_le_bytes()[..]).unwrap_err(), ElfError::Load(Check::BadProgramHeaders));
    // Not at an 8-byte aligned address.
    let mut buf = vec![0u8; 0x3200];
    let at = buf.as_ptr().align_offset(8) + 1;
    buf[at..at + 0x3100].copy_from_slice(&good());
    assert_eq!(Image::parse(&buf[at..at + 0x3100]).unwrap_err(), ElfError::Unaligned);
}

#[test]
fn refuses_bad_sections() {
    let manifest = |b: &[u8]| with(b, |img| manifest_section(img).map(|m| m.map(<[u8]>::to_vec)));
    let patched = |at: usize, v: &[u8]| {
        let mut b = good();
        b[at..at + v.len()].copy_from_slice(v);
        manifest(&b)
    };
    assert_eq!(patched(60, &[0, 0]), Ok(None), "no sections");
    assert_eq!(patched(58, &[40, 0]), Err(ElfError::BadSectionHeaders), "entry size");
    assert_eq!(patched(40, &[1]), Err(ElfError::BadSectionHeaders), "unaligned table");
    assert_eq!(patched(40, &u64::MAX.to_le_bytes()), Err(ElfError::BadSectionHeaders), "outside");
    assert_eq!(patched(60, &[0, 0xff]), Err(ElfError::BadSectionHeaders), "reserved count");
    assert_eq!(patched(62, &[9, 0]), Err(ElfError::BadSectionHeaders), "names index");
    assert_eq!(patched(62, &[1, 0]), Err(ElfError::BadSectionHeaders), "names not a string table");
    // The names' header is the last (index 3) at 0x900 + 3 * 64.
    let names = 0x900 + 3 * 64;
    assert_eq!(patched(names + 24, &0x4000u64.to_le_bytes()), Err(ElfError::BadSectionHeaders), "names outside");
    // The manifest's header is index 2.
    let m = 0x900 + 2 * 64;
    assert_eq!(patched(m, &0x1000u32.to_le_bytes()), Err(ElfError::BadSectionHeaders), "name outside the names");
    assert_eq!(patched(m, &TEXT_NAME.to_le_bytes()), Ok(None), "renamed");
    assert_eq!(patched(m + 4, &SHT_NOBITS.to_le_bytes()), Err(ElfError::BadManifestSection), "NOBITS");
    assert_eq!(patched(m + 32, &0x200u64.to_le_bytes()), Err(ElfError::BadManifestSection), "past the end");
    // Two sections called .manifest.
    let t = 0x900 + 64;
    assert_eq!(patched(t, &MANIFEST_NAME.to_le_bytes()), Err(ElfError::BadManifestSection));
}

#[test]
fn reads_a_real_host_binary() {
    // The test binary itself: a position-independent host executable with section headers and
    // no `.manifest`; the loader refuses it (not static) but reads its sections.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    with(&exe, |img| {
        assert_eq!(manifest_section(img), Ok(None));
        assert!(Image::parse(img).is_err());
    });
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
        with(&data, |img| {
            let _ = Image::parse(img);
            let _ = manifest_section(img);
        });
        let mut elf = data.clone();
        if elf.len() >= 8 {
            elf[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
        }
        with(&elf, |img| {
            let _ = Image::parse(img);
            let _ = manifest_section(img);
        });
    }

    #[test]
    fn mutated_images_never_panic_and_plans_stay_in_bounds(
        flips in proptest::collection::vec((0usize..0x3100, proptest::num::u8::ANY), 1..12),
        in_headers in proptest::bool::ANY,
    ) {
        let mut img = good();
        for (at, v) in flips {
            // Half the runs hit only the headers and tables, where the checks are.
            let at = if in_headers { [at % 0x100, 0x800 + at % 0x20, 0x900 + at % 0x100][at % 3] } else { at };
            img[at] = v;
        }
        with(&img, |bytes| {
            if let Ok(image) = Image::parse(bytes) {
                for s in image.plan().segments() {
                    proptest::prop_assert!(s.file.end <= bytes.len());
                    proptest::prop_assert!(s.rights & (rights::WRITE | rights::EXECUTE) != (rights::WRITE | rights::EXECUTE));
                    for fill in s.page_fills() {
                        proptest::prop_assert!(fill.offset + fill.file.len() <= PAGE_SIZE);
                        proptest::prop_assert!(fill.file.end <= bytes.len());
                    }
                }
                let _ = image.manifest();
            }
            if let Ok(Some(m)) = manifest_section(bytes) {
                let _ = crate::manifest::Manifest::parse(m);
            }
            Ok(())
        })?;
    }
}
