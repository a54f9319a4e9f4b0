//! A driver's manifest in its ELF file: [`manifest!`](crate::manifest!) puts the driver's
//! `manifest.ini` into the section `.manifest`, which `sys/user.ld` keeps (`KEEP`, so
//! `--gc-sections` cannot drop it) as a section of the file that no segment loads. Mercury finds
//! it by name through the section headers (`mercury/loader`'s `elf::manifest_section`), and
//! `cargo xtask build` checks that every built driver carries its `manifest.ini` byte for byte.
//! The format is `docs/manifest.md`.

/// Embeds a driver's manifest in its ELF section `.manifest`: `sys::manifest!()` embeds
/// `manifest.ini` from the crate's directory (`drivers/<name>/manifest.ini`),
/// `sys::manifest!("PATH")` the file at `PATH` relative to it. Use it once, at the top level of
/// the driver's binary crate:
///
/// ```text
/// #![no_std]
/// #![no_main]
/// #![forbid(unsafe_code)]
///
/// sys::entry!(main);
/// sys::manifest!();
/// ```
///
/// Compiled here with pcserial's manifest (the path is relative to the `sys` crate):
///
/// ```
/// sys::manifest!("../drivers/pcserial/manifest.ini");
/// ```
#[macro_export]
macro_rules! manifest {
    () => {
        $crate::manifest!("manifest.ini");
    };
    ($path:literal) => {
        #[doc(hidden)]
        #[used]
        #[unsafe(link_section = ".manifest")]
        static __SYS_MANIFEST: [u8; include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)).len()] =
            *include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path));
    };
}
