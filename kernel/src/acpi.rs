//! ACPI tables: the RSDP, the RSDT/XSDT, the MADT (local APIC, IOAPICs, interrupt source
//! overrides), and the two reference clocks the tables describe: the ACPI PM timer (from the
//! FADT) and the HPET (from the HPET table), which calibrate the TSC and the APIC timer.
//!
//! Pure parsing over a [`PhysMem`] reader, so host tests feed it synthetic tables. Every length
//! and offset is checked against the table it comes from and against fixed bounds; checksums are
//! verified; a bad table is an error, never a panic.
#![forbid(unsafe_code)]

/// Reads physical memory for the parser.
pub trait PhysMem {
    /// Fills `buf` from physical `phys`; `false` if that memory cannot be read.
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool;
}

/// Why the ACPI tables could not be used.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AcpiError {
    /// No RSDP found.
    NoRsdp,
    /// A table could not be read.
    Unreadable,
    /// A checksum did not add up.
    BadChecksum,
    /// A length or signature is wrong.
    Malformed,
    /// The MADT is missing.
    NoMadt,
    /// The table asked for is not in the root table.
    Missing,
    /// The table describes hardware in a form this kernel does not handle (a PM timer in memory
    /// space, say).
    Unsupported,
}

/// Most IOAPICs recorded.
pub const MAX_IOAPICS: usize = 8;
/// Most interrupt source overrides recorded.
pub const MAX_OVERRIDES: usize = 16;
const MAX_TABLES: usize = 64;
const MAX_MADT_LEN: usize = 16 * 1024;
/// Longest FADT read (ACPI 6.5's is 276 bytes; later revisions may grow it).
pub const MAX_FADT_LEN: usize = 1024;
/// Longest HPET table read (it is 56 bytes).
pub const MAX_HPET_LEN: usize = 256;

/// An IOAPIC described by the MADT.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct IoApicInfo {
    /// Its ID.
    pub id: u8,
    /// Physical address of its registers.
    pub addr: u64,
    /// First global system interrupt it serves.
    pub gsi_base: u32,
}

/// An ISA IRQ routed to another global system interrupt.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Override {
    /// The ISA IRQ.
    pub irq: u8,
    /// The GSI it arrives on.
    pub gsi: u32,
    /// MPS INTI flags (polarity bits 0-1, trigger mode bits 2-3).
    pub flags: u16,
}

/// What the kernel takes from the MADT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Madt {
    /// Physical address of the local APIC.
    pub lapic_addr: u64,
    /// Enabled processors.
    pub cpus: u32,
    ioapics: [IoApicInfo; MAX_IOAPICS],
    ioapic_count: usize,
    overrides: [Override; MAX_OVERRIDES],
    override_count: usize,
}

impl Madt {
    /// The IOAPICs.
    pub fn ioapics(&self) -> &[IoApicInfo] {
        &self.ioapics[..self.ioapic_count]
    }

    /// The interrupt source overrides.
    pub fn overrides(&self) -> &[Override] {
        &self.overrides[..self.override_count]
    }

    /// The GSI that ISA `irq` arrives on, and its flags.
    pub fn isa_route(&self, irq: u8) -> (u32, u16) {
        self.overrides().iter().find(|o| o.irq == irq).map_or((u32::from(irq), 0), |o| (o.gsi, o.flags))
    }
}

fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)) == 0
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

/// Looks for the RSDP in the BIOS area (0xe0000-0xfffff), on 16-byte boundaries.
pub fn scan_rsdp(mem: &impl PhysMem) -> Option<u64> {
    let mut buf = [0u8; 20];
    (0xe0000u64..0x100000).step_by(16).find(|&p| mem.read(p, &mut buf) && &buf[..8] == b"RSD PTR " && checksum_ok(&buf))
}

/// Reads the table header at `phys`, checks its signature, and reads it whole into `buf`.
fn read_table<'b>(
    mem: &impl PhysMem,
    phys: u64,
    sig: Option<&[u8; 4]>,
    buf: &'b mut [u8],
) -> Result<&'b [u8], AcpiError> {
    let mut hdr = [0u8; 36];
    if !mem.read(phys, &mut hdr) {
        return Err(AcpiError::Unreadable);
    }
    if sig.is_some_and(|s| &hdr[..4] != s) {
        return Err(AcpiError::Malformed);
    }
    let len = u32_at(&hdr, 4).ok_or(AcpiError::Malformed)? as usize;
    if len < 36 || len > buf.len() {
        return Err(AcpiError::Malformed);
    }
    let table = &mut buf[..len];
    if !mem.read(phys, table) {
        return Err(AcpiError::Unreadable);
    }
    if !checksum_ok(table) {
        return Err(AcpiError::BadChecksum);
    }
    Ok(table)
}

/// The tables the RSDT or XSDT lists: at most [`MAX_TABLES`] physical addresses (a longer root
/// table is cut to its first entries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootTable {
    entries: [u64; MAX_TABLES],
    count: usize,
}

impl RootTable {
    /// Reads the root table that the RSDP at `rsdp` names.
    pub fn read(mem: &impl PhysMem, rsdp: u64) -> Result<RootTable, AcpiError> {
        let mut r = [0u8; 36];
        if !mem.read(rsdp, &mut r[..20]) {
            return Err(AcpiError::Unreadable);
        }
        if &r[..8] != b"RSD PTR " || !checksum_ok(&r[..20]) {
            return Err(AcpiError::NoRsdp);
        }
        let revision = r[15];
        let (root, entry_size) = if revision >= 2 {
            if !mem.read(rsdp, &mut r) || !checksum_ok(&r) {
                return Err(AcpiError::BadChecksum);
            }
            (u64_at(&r, 24).ok_or(AcpiError::Malformed)?, 8)
        } else {
            (u64::from(u32_at(&r, 16).ok_or(AcpiError::Malformed)?), 4)
        };
        let mut root_buf = [0u8; 36 + MAX_TABLES * 8];
        let sig: &[u8; 4] = if entry_size == 8 { b"XSDT" } else { b"RSDT" };
        // A root table longer than the buffer is cut to its first MAX_TABLES entries.
        let mut hdr = [0u8; 36];
        if !mem.read(root, &mut hdr) {
            return Err(AcpiError::Unreadable);
        }
        let root_table = match read_table(mem, root, Some(sig), &mut root_buf) {
            Ok(t) => t,
            Err(AcpiError::Malformed) if &hdr[..4] == sig => {
                let n = root_buf.len();
                if !mem.read(root, &mut root_buf) {
                    return Err(AcpiError::Unreadable);
                }
                &root_buf[..n]
            }
            Err(e) => return Err(e),
        };
        let mut table = RootTable { entries: [0; MAX_TABLES], count: 0 };
        for at in (36..root_table.len()).step_by(entry_size) {
            let addr = if entry_size == 8 { u64_at(root_table, at) } else { u32_at(root_table, at).map(u64::from) };
            let Some(addr) = addr else { break };
            if addr != 0 && table.count < MAX_TABLES {
                table.entries[table.count] = addr;
                table.count += 1;
            }
        }
        Ok(table)
    }

    /// The physical addresses of the tables listed.
    pub fn entries(&self) -> &[u64] {
        &self.entries[..self.count]
    }

    /// Reads the first listed table whose signature is `sig` into `buf`, whole and checksummed.
    pub fn find<'b>(&self, mem: &impl PhysMem, sig: &[u8; 4], buf: &'b mut [u8]) -> Result<&'b [u8], AcpiError> {
        for &addr in self.entries() {
            let mut found = [0u8; 4];
            if mem.read(addr, &mut found) && &found == sig {
                return read_table(mem, addr, Some(sig), buf);
            }
        }
        Err(AcpiError::Missing)
    }
}

impl RootTable {
    /// Finds and parses the MADT.
    pub fn madt(&self, mem: &impl PhysMem) -> Result<Madt, AcpiError> {
        let mut buf = [0u8; MAX_MADT_LEN];
        match self.find(mem, b"APIC", &mut buf) {
            Ok(table) => parse_madt(table),
            Err(AcpiError::Missing) => Err(AcpiError::NoMadt),
            Err(e) => Err(e),
        }
    }

    /// Finds the FADT and the PM timer it names (`Ok(None)`: it names none; `Err(Missing)`: no
    /// FADT).
    pub fn pm_timer(&self, mem: &impl PhysMem) -> Result<Option<PmTimer>, AcpiError> {
        let mut buf = [0u8; MAX_FADT_LEN];
        parse_fadt_pm_timer(self.find(mem, b"FACP", &mut buf)?)
    }

    /// Finds and parses the HPET table (`Err(Missing)`: there is none).
    pub fn hpet(&self, mem: &impl PhysMem) -> Result<HpetInfo, AcpiError> {
        let mut buf = [0u8; MAX_HPET_LEN];
        parse_hpet(self.find(mem, b"HPET", &mut buf)?)
    }
}

/// Finds and parses the MADT starting from the RSDP at `rsdp`.
pub fn find_madt(mem: &impl PhysMem, rsdp: u64) -> Result<Madt, AcpiError> {
    RootTable::read(mem, rsdp)?.madt(mem)
}

/// Parses a whole MADT (header included).
pub fn parse_madt(t: &[u8]) -> Result<Madt, AcpiError> {
    let mut m = Madt { lapic_addr: u64::from(u32_at(t, 36).ok_or(AcpiError::Malformed)?), ..Default::default() };
    let mut at = 44;
    while at + 2 <= t.len() {
        let kind = t[at];
        let len = usize::from(t[at + 1]);
        if len < 2 || at + len > t.len() {
            return Err(AcpiError::Malformed);
        }
        let e = &t[at..at + len];
        match (kind, len) {
            // Processor local APIC: flags bit 0 enabled, bit 1 online-capable.
            (0, 8..) if u32_at(e, 4).is_some_and(|f| f & 0b11 != 0) => m.cpus += 1,
            (1, 12..) if m.ioapic_count < MAX_IOAPICS => {
                m.ioapics[m.ioapic_count] = IoApicInfo {
                    id: e[2],
                    addr: u64::from(u32_at(e, 4).ok_or(AcpiError::Malformed)?),
                    gsi_base: u32_at(e, 8).ok_or(AcpiError::Malformed)?,
                };
                m.ioapic_count += 1;
            }
            (2, 10..) if m.override_count < MAX_OVERRIDES => {
                m.overrides[m.override_count] = Override {
                    irq: e[3],
                    gsi: u32_at(e, 4).ok_or(AcpiError::Malformed)?,
                    flags: u16_at(e, 8).ok_or(AcpiError::Malformed)?,
                };
                m.override_count += 1;
            }
            (5, 12..) => m.lapic_addr = u64_at(e, 4).ok_or(AcpiError::Malformed)?,
            _ => {}
        }
        at += len;
    }
    Ok(m)
}

/// The ACPI power-management timer: a free-running counter at [`PM_TIMER_HZ`] read at an I/O
/// port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PmTimer {
    /// The port of its 32-bit counter register.
    pub port: u16,
    /// Bits that count: 24, or 32 where the FADT sets `TMR_VAL_EXT`.
    pub bits: u32,
}

/// The ACPI PM timer's frequency, fixed by the specification: 3.579545 MHz.
pub const PM_TIMER_HZ: u64 = 3_579_545;

/// FADT offsets (ACPI 6.5, table 5.9).
const FADT_PM_TMR_BLK: usize = 76;
const FADT_PM_TMR_LEN: usize = 91;
const FADT_FLAGS: usize = 112;
const FADT_X_PM_TMR_BLK: usize = 208;
/// FADT flags: the PM timer counts 32 bits, not 24.
const FADT_TMR_VAL_EXT: u32 = 1 << 8;
/// FADT flags: a hardware-reduced platform, which has no PM timer.
const FADT_HW_REDUCED: u32 = 1 << 20;

/// Generic address structure address spaces.
const GAS_MEMORY: u8 = 0;
const GAS_IO: u8 = 1;

/// A generic address structure (12 bytes at `at`): its address space and address.
fn gas_at(t: &[u8], at: usize) -> Option<(u8, u64)> {
    Some((*t.get(at)?, u64_at(t, at.checked_add(4)?)?))
}

/// Where the FADT (`t`, header included) puts the PM timer: `Ok(None)` if it has none (a
/// hardware-reduced platform, or both block fields zero); `Err(Malformed)` if the table is too
/// short to say or names a port block that does not fit below 0x10000; `Err(Unsupported)` for a
/// timer in memory space.
pub fn parse_fadt_pm_timer(t: &[u8]) -> Result<Option<PmTimer>, AcpiError> {
    if t.get(..4) != Some(b"FACP".as_slice()) {
        return Err(AcpiError::Malformed);
    }
    let flags = u32_at(t, FADT_FLAGS).ok_or(AcpiError::Malformed)?;
    if flags & FADT_HW_REDUCED != 0 {
        return Ok(None);
    }
    let bits = if flags & FADT_TMR_VAL_EXT != 0 { 32 } else { 24 };
    // ACPI 2.0 and later: the extended field, where it is filled in, wins.
    let port = match gas_at(t, FADT_X_PM_TMR_BLK) {
        Some((_, 0)) | None => {
            let port = u64::from(u32_at(t, FADT_PM_TMR_BLK).ok_or(AcpiError::Malformed)?);
            if port != 0 && t.get(FADT_PM_TMR_LEN).copied() != Some(4) {
                return Err(AcpiError::Malformed);
            }
            port
        }
        Some((GAS_IO, port)) => port,
        Some(_) => return Err(AcpiError::Unsupported),
    };
    match port {
        0 => Ok(None),
        p if p <= 0xfffc => Ok(Some(PmTimer { port: p as u16, bits })),
        _ => Err(AcpiError::Malformed),
    }
}

/// How to turn the machine off (ACPI sleep state S5): the PM1 control ports from the FADT and
/// the `SLP_TYP` values of the DSDT's `\_S5` package.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PowerOff {
    /// PM1a control port.
    pub pm1a_cnt: u16,
    /// PM1b control port (0: none).
    pub pm1b_cnt: u16,
    /// `SLP_TYP` for PM1a and PM1b.
    pub slp_typ_a: u8,
    pub slp_typ_b: u8,
}

impl PowerOff {
    /// What to write to a PM1 control register: `SLP_TYP` in bits 10-12, `SLP_EN` (bit 13).
    pub fn value(typ: u8) -> u16 {
        (u16::from(typ & 7) << 10) | 1 << 13
    }
}

/// FADT offsets of the DSDT's address and the PM1 control blocks (ACPI 6.5, table 5.9).
const FADT_DSDT: usize = 40;
const FADT_PM1A_CNT_BLK: usize = 64;
const FADT_PM1B_CNT_BLK: usize = 68;
const FADT_X_DSDT: usize = 140;
/// Longest DSDT scanned for `\_S5`.
pub const MAX_DSDT_LEN: usize = 256 * 1024;

/// The PM1 control ports and the DSDT's address, from the FADT (`t`, header included).
pub fn parse_fadt_power(t: &[u8]) -> Result<(u16, u16, u64), AcpiError> {
    if t.get(..4) != Some(b"FACP".as_slice()) {
        return Err(AcpiError::Malformed);
    }
    let port = |at| -> Result<u16, AcpiError> {
        let p = u32_at(t, at).ok_or(AcpiError::Malformed)?;
        u16::try_from(p).map_err(|_| AcpiError::Malformed)
    };
    let (a, b) = (port(FADT_PM1A_CNT_BLK)?, port(FADT_PM1B_CNT_BLK)?);
    if a == 0 {
        return Err(AcpiError::Unsupported);
    }
    let dsdt = match u64_at(t, FADT_X_DSDT) {
        Some(x) if x != 0 => x,
        _ => u64::from(u32_at(t, FADT_DSDT).ok_or(AcpiError::Malformed)?),
    };
    Ok((a, b, dsdt))
}

/// The two `SLP_TYP` values of the `\_S5` package in AML `aml` (a DSDT's body): the name
/// `_S5_` after a `NameOp` (0x08, perhaps with a root prefix `\`), then a `PackageOp` (0x12),
/// its length, its element count, and the first two elements, each a `BytePrefix` (0x0a)
/// constant, `ZeroOp` (0), `OneOp` (1) or `OnesOp` (0xff).
pub fn parse_s5(aml: &[u8]) -> Option<(u8, u8)> {
    let mut from = 0;
    while let Some(i) = aml.get(from..)?.windows(4).position(|w| w == b"_S5_").map(|i| i + from) {
        from = i + 1;
        let named = matches!(aml.get(i.wrapping_sub(1)), Some(0x08))
            || (aml.get(i.wrapping_sub(1)) == Some(&b'\\') && aml.get(i.wrapping_sub(2)) == Some(&0x08));
        if !named || aml.get(i + 4) != Some(&0x12) {
            continue;
        }
        // PkgLength: the lead byte's top two bits say how many bytes follow it.
        let lead = *aml.get(i + 5)?;
        let mut at = i + 6 + usize::from(lead >> 6);
        at += 1; // NumElements.
        let mut element = || -> Option<u8> {
            let op = *aml.get(at)?;
            at += 1;
            match op {
                0x0a => {
                    let v = *aml.get(at)?;
                    at += 1;
                    Some(v)
                }
                0x00 => Some(0),
                0x01 => Some(1),
                0xff => Some(0xff),
                _ => None,
            }
        };
        let a = element()?;
        let b = element()?;
        return Some((a, b));
    }
    None
}

impl RootTable {
    /// How to power the machine off: the FADT's PM1 control ports and the DSDT's `\_S5`
    /// package.
    pub fn power_off(&self, mem: &impl PhysMem) -> Result<PowerOff, AcpiError> {
        let mut buf = [0u8; MAX_FADT_LEN];
        let (pm1a_cnt, pm1b_cnt, dsdt) = parse_fadt_power(self.find(mem, b"FACP", &mut buf)?)?;
        let mut hdr = [0u8; 36];
        if !mem.read(dsdt, &mut hdr) || &hdr[..4] != b"DSDT" {
            return Err(AcpiError::Malformed);
        }
        let len = (u32_at(&hdr, 4).ok_or(AcpiError::Malformed)? as usize).clamp(36, MAX_DSDT_LEN);
        // Scanned in windows that overlap by enough to hold the whole pattern.
        let mut window = [0u8; 4096];
        let mut at = 36;
        while at < len {
            let n = window.len().min(len - at);
            if !mem.read(dsdt + at as u64, &mut window[..n]) {
                return Err(AcpiError::Unreadable);
            }
            if let Some((a, b)) = parse_s5(&window[..n]) {
                return Ok(PowerOff { pm1a_cnt, pm1b_cnt, slp_typ_a: a, slp_typ_b: b });
            }
            if n < window.len() {
                break;
            }
            at += n - 32;
        }
        Err(AcpiError::Missing)
    }
}

/// The HPET the HPET table describes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HpetInfo {
    /// Physical address of its 1 KiB register block.
    pub addr: u64,
}

/// Offset of the register block's generic address structure in the HPET table.
const HPET_BASE: usize = 40;

/// Parses the HPET table (`t`, header included): the register block must be in memory space,
/// non-zero and 1 KiB aligned.
pub fn parse_hpet(t: &[u8]) -> Result<HpetInfo, AcpiError> {
    if t.get(..4) != Some(b"HPET".as_slice()) {
        return Err(AcpiError::Malformed);
    }
    match gas_at(t, HPET_BASE).ok_or(AcpiError::Malformed)? {
        (GAS_MEMORY, addr) if addr != 0 && addr % 1024 == 0 && addr < 1 << 52 => Ok(HpetInfo { addr }),
        _ => Err(AcpiError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn s5_packages() {
        // QEMU's: Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero }) on PIIX4.
        let qemu = [0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00];
        assert_eq!(parse_s5(&qemu), Some((0, 0)));
        // BytePrefix values, no root prefix, a two-byte PkgLength.
        let other = [0x10, 0x08, b'_', b'S', b'5', b'_', 0x12, 0x40, 0x0a, 0x02, 0x0a, 0x05, 0x0a, 0x07];
        assert_eq!(parse_s5(&other), Some((5, 7)));
        // `_S5_` that is not a Name of a Package, then the real one.
        let decoy = [b'_', b'S', b'5', b'_', 0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x01, 0x01];
        assert_eq!(parse_s5(&decoy), Some((1, 1)));
        for cut in 0..qemu.len() - 2 {
            assert_eq!(parse_s5(&qemu[..cut]), None, "cut at {cut}");
        }
        assert_eq!(
            parse_s5(&[0x08, b'_', b'S', b'5', b'_', 0x12, 0x05, 0x02, 0x44, 0x00]),
            None,
            "an element of another kind"
        );
        assert_eq!(PowerOff::value(5), 0x3400);
    }

    /// Sparse fake physical memory.
    #[derive(Default)]
    struct Mem(BTreeMap<u64, Vec<u8>>);

    impl Mem {
        fn put(&mut self, at: u64, bytes: Vec<u8>) {
            self.0.insert(at, bytes);
        }
    }

    impl PhysMem for Mem {
        fn read(&self, phys: u64, buf: &mut [u8]) -> bool {
            for (&at, bytes) in &self.0 {
                if phys >= at && phys + buf.len() as u64 <= at + bytes.len() as u64 {
                    let off = (phys - at) as usize;
                    buf.copy_from_slice(&bytes[off..off + buf.len()]);
                    return true;
                }
            }
            false
        }
    }

    fn fix_checksum(t: &mut [u8], at: usize) {
        t[at] = 0;
        let sum = t.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        t[at] = 0u8.wrapping_sub(sum);
    }

    fn table(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = vec![0u8; 36];
        t[..4].copy_from_slice(sig);
        t.extend_from_slice(body);
        let len = t.len() as u32;
        t[4..8].copy_from_slice(&len.to_le_bytes());
        fix_checksum(&mut t, 9);
        t
    }

    fn madt_body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]); // CPU 0 enabled
        b.extend_from_slice(&[0, 8, 1, 1, 0, 0, 0, 0]); // CPU 1 disabled
        b.extend_from_slice(&[1, 12, 2, 0]);
        b.extend_from_slice(&0xfec0_0000u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[2, 10, 0, 0]); // IRQ 0 -> GSI 2
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b
    }

    fn machine(xsdt: bool) -> (Mem, u64) {
        let mut mem = Mem::default();
        mem.put(0x9000, table(b"APIC", &madt_body()));
        let mut rsdp = vec![0u8; 36];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        if xsdt {
            mem.put(0x8000, table(b"FACP", &[0; 8]));
            let mut body = 0x8000u64.to_le_bytes().to_vec();
            body.extend_from_slice(&0x9000u64.to_le_bytes());
            mem.put(0x7000, table(b"XSDT", &body));
            rsdp[15] = 2;
            rsdp[20..24].copy_from_slice(&36u32.to_le_bytes());
            rsdp[24..32].copy_from_slice(&0x7000u64.to_le_bytes());
            fix_checksum(&mut rsdp[..20], 8);
            fix_checksum(&mut rsdp, 32);
        } else {
            mem.put(0x7000, table(b"RSDT", &0x9000u32.to_le_bytes()));
            rsdp[16..20].copy_from_slice(&0x7000u32.to_le_bytes());
            fix_checksum(&mut rsdp[..20], 8);
        }
        mem.put(0xe0010, rsdp);
        (mem, 0xe0010)
    }

    #[test]
    fn finds_madt_through_rsdt_and_xsdt() {
        for xsdt in [false, true] {
            let (mem, rsdp) = machine(xsdt);
            assert_eq!(scan_rsdp(&mem), Some(rsdp));
            let m = find_madt(&mem, rsdp).unwrap();
            assert_eq!(m.lapic_addr, 0xfee0_0000);
            assert_eq!(m.cpus, 1);
            assert_eq!(m.ioapics(), &[IoApicInfo { id: 2, addr: 0xfec0_0000, gsi_base: 0 }]);
            assert_eq!(m.isa_route(0), (2, 0));
            assert_eq!(m.isa_route(8), (8, 0));
        }
    }

    #[test]
    fn bad_checksum_and_missing_tables_are_errors() {
        let (mut mem, rsdp) = machine(false);
        let mut bad = table(b"APIC", &madt_body());
        bad[40] ^= 1;
        mem.put(0x9000, bad);
        assert_eq!(find_madt(&mem, rsdp), Err(AcpiError::BadChecksum));
        assert_eq!(find_madt(&mem, 0x1234), Err(AcpiError::Unreadable));
        assert_eq!(scan_rsdp(&Mem::default()), None);
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        let mut body = madt_body();
        body.extend_from_slice(&[1, 40, 0, 0]); // claims 40 bytes, has 4
        assert_eq!(parse_madt(&table(b"APIC", &body)), Err(AcpiError::Malformed));
        let mut body = madt_body();
        body.extend_from_slice(&[9, 0]); // zero length would loop forever
        assert_eq!(parse_madt(&table(b"APIC", &body)), Err(AcpiError::Malformed));
        assert_eq!(parse_madt(&[0u8; 10]), Err(AcpiError::Malformed));
    }

    /// A FADT body (after the header) of `len` bytes in all, with the PM timer block fields.
    fn fadt(len: usize, port: u32, timer_len: u8, flags: u32, x_timer: Option<(u8, u64)>) -> Vec<u8> {
        let mut t = vec![0u8; len];
        t[..4].copy_from_slice(b"FACP");
        t[4..8].copy_from_slice(&(len as u32).to_le_bytes());
        if len >= 80 {
            t[76..80].copy_from_slice(&port.to_le_bytes());
        }
        if len > 91 {
            t[91] = timer_len;
        }
        if len >= 116 {
            t[112..116].copy_from_slice(&flags.to_le_bytes());
        }
        if let Some((space, addr)) = x_timer {
            t[208] = space;
            t[209] = 32;
            t[212..220].copy_from_slice(&addr.to_le_bytes());
        }
        fix_checksum(&mut t, 9);
        t
    }

    fn hpet(space: u8, addr: u64) -> Vec<u8> {
        let mut body = vec![0u8; 20];
        body[..4].copy_from_slice(&0x8086_a201u32.to_le_bytes());
        body[4] = space;
        body[8..16].copy_from_slice(&addr.to_le_bytes());
        table(b"HPET", &body)
    }

    #[test]
    fn pm_timer_from_the_fadt() {
        let pm = |port, bits| Ok(Some(PmTimer { port, bits }));
        // ACPI 1.0: the 32-bit block field, with its length 4; 24 bits unless TMR_VAL_EXT.
        assert_eq!(parse_fadt_pm_timer(&fadt(116, 0xb008, 4, 0, None)), pm(0xb008, 24));
        assert_eq!(parse_fadt_pm_timer(&fadt(116, 0x608, 4, 1 << 8, None)), pm(0x608, 32));
        // ACPI 2.0 and later: the extended field wins when it is filled in.
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0xb008, 4, 0, Some((1, 0x1808)))), pm(0x1808, 24));
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0xb008, 4, 0, Some((0, 0)))), pm(0xb008, 24));
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0xb008, 4, 0, Some((1, 0)))), pm(0xb008, 24));
        // No timer: hardware-reduced (QEMU's microvm), or no block at all.
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0xb008, 4, 1 << 20, None)), Ok(None));
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0, 0, 0, None)), Ok(None));
        // What cannot be used.
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0, 0, 0, Some((0, 0xfed0_0000)))), Err(AcpiError::Unsupported));
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0, 0, 0, Some((1, 0xfffd)))), Err(AcpiError::Malformed));
        assert_eq!(parse_fadt_pm_timer(&fadt(276, 0, 0, 0, Some((1, 1 << 40)))), Err(AcpiError::Malformed));
        assert_eq!(parse_fadt_pm_timer(&fadt(116, 0xb008, 2, 0, None)), Err(AcpiError::Malformed));
        assert_eq!(parse_fadt_pm_timer(&fadt(100, 0xb008, 4, 0, None)), Err(AcpiError::Malformed));
        assert_eq!(parse_fadt_pm_timer(&table(b"APIC", &[0; 240])), Err(AcpiError::Malformed));
        assert_eq!(parse_fadt_pm_timer(&[]), Err(AcpiError::Malformed));
    }

    #[test]
    fn hpet_table() {
        assert_eq!(parse_hpet(&hpet(0, 0xfed0_0000)), Ok(HpetInfo { addr: 0xfed0_0000 }));
        for (space, addr) in [(1, 0xfed0_0000), (0, 0), (0, 0xfed0_0010), (0, 1 << 52)] {
            assert_eq!(parse_hpet(&hpet(space, addr)), Err(AcpiError::Malformed), "space {space}, {addr:#x}");
        }
        let mut short = hpet(0, 0xfed0_0000);
        short.truncate(50);
        assert_eq!(parse_hpet(&short), Err(AcpiError::Malformed));
        assert_eq!(parse_hpet(&table(b"FACP", &[0; 20])), Err(AcpiError::Malformed));
    }

    #[test]
    fn tables_found_by_signature() {
        for xsdt in [false, true] {
            let (mut mem, rsdp) = machine(xsdt);
            let root = RootTable::read(&mem, rsdp).unwrap();
            let mut buf = [0u8; MAX_FADT_LEN];
            assert_eq!(root.find(&mem, b"HPET", &mut buf), Err(AcpiError::Missing));
            assert_eq!(root.hpet(&mem), Err(AcpiError::Missing));
            if xsdt {
                // The XSDT of `machine` lists a FADT (too short to name a PM timer) and the MADT.
                assert_eq!(root.entries(), &[0x8000, 0x9000]);
                assert_eq!(root.find(&mem, b"FACP", &mut buf).unwrap()[..4], *b"FACP");
                assert_eq!(root.pm_timer(&mem), Err(AcpiError::Malformed));
                mem.put(0x8000, fadt(276, 0xb008, 4, 0, None));
                assert_eq!(root.pm_timer(&mem), Ok(Some(PmTimer { port: 0xb008, bits: 24 })));
                mem.put(0x8000, hpet(0, 0xfed0_0000));
                assert_eq!(root.hpet(&mem), Ok(HpetInfo { addr: 0xfed0_0000 }));
                assert_eq!(root.pm_timer(&mem), Err(AcpiError::Missing));
            } else {
                assert_eq!(root.entries(), &[0x9000]);
                assert_eq!(root.find(&mem, b"FACP", &mut buf), Err(AcpiError::Missing));
                assert_eq!(root.pm_timer(&mem), Err(AcpiError::Missing));
            }
            assert!(root.madt(&mem).is_ok());
            // A table longer than the buffer is refused, not cut.
            let mut small = [0u8; 40];
            assert_eq!(root.find(&mem, b"APIC", &mut small), Err(AcpiError::Malformed));
            // A listed table with a bad checksum is an error.
            let mut bad = table(b"APIC", &madt_body());
            bad[37] ^= 0x40;
            mem.put(0x9000, bad);
            assert_eq!(root.find(&mem, b"APIC", &mut [0u8; 1024]), Err(AcpiError::BadChecksum));
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_madt_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_madt(&table(b"APIC", &body));
        }

        #[test]
        fn arbitrary_fadt_and_hpet_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_fadt_pm_timer(&table(b"FACP", &body));
            let _ = parse_hpet(&table(b"HPET", &body));
            if let Ok(Some(pm)) = parse_fadt_pm_timer(&table(b"FACP", &body)) {
                proptest::prop_assert!(pm.port != 0 && pm.port <= 0xfffc && (pm.bits == 24 || pm.bits == 32));
            }
        }
    }
}
