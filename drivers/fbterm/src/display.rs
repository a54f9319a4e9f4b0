//! The screen as the driver draws on it: the framebuffer's Pages mapped into the driver as one
//! run of bytes, and its geometry as Mercury told it (`framebuffer.*` in the environment, `docs/manifest.md`).

use sys::mmap::{self, Mapping, Place};
use sys::vspace::access;
use sys::{Boot, IoPort, Page};

use fbterm_term::render::{Format, Surface};

use crate::dispi;

/// The mapped framebuffer and its geometry.
pub struct Display {
    map: Mapping,
    pub width: usize,
    pub height: usize,
    pitch: usize,
    format: Format,
}

fn number(boot: &Boot, key: &str) -> Option<usize> {
    boot.env_var(key)?.parse().ok()
}

impl Display {
    /// Maps the screen the start page grants, setting the mode first if it is ours to set; the
    /// reason in a few words if there is none to draw on.
    pub fn open(boot: &Boot, dispi_ports: Option<IoPort>) -> Result<Display, &'static str> {
        let page = boot.cap("framebuffer").ok_or("no framebuffer (this machine has no screen Mercury can give)")?;
        let (Some(width), Some(height), Some(pitch)) =
            (number(boot, "framebuffer.width"), number(boot, "framebuffer.height"), number(boot, "framebuffer.pitch"))
        else {
            return Err("the framebuffer's geometry is missing from my environment");
        };
        let mut shifts = boot.env_var("framebuffer.format").unwrap_or("").split(',').map(|s| s.parse::<u32>().ok());
        let format = match (shifts.next().flatten(), shifts.next().flatten(), shifts.next().flatten()) {
            (Some(r), Some(g), Some(b)) => Format::from_shifts(r, g, b).ok_or("an unknown pixel format")?,
            _ => return Err("the framebuffer's pixel format is missing from my environment"),
        };
        if boot.env_var("framebuffer.mode") == Some("bochs") {
            let io = dispi_ports.ok_or("the mode is mine to set, but I have no DISPI ports")?;
            let (w, h) = (u16::try_from(width), u16::try_from(height));
            let (Ok(w), Ok(h)) = (w, h) else { return Err("a mode larger than the card can have") };
            dispi::set_mode(io, w, h)?;
        }
        // The screen comes as `framebuffer.pages` Pages: `framebuffer`, `framebuffer.1`, ...
        let count = number(boot, "framebuffer.pages").unwrap_or(1);
        let mut parts = alloc::vec![Page::new(page)];
        for i in 1..count {
            let name = alloc::format!("framebuffer.{i}");
            parts.push(Page::new(boot.cap(&name).ok_or("a part of the framebuffer is missing")?));
        }
        let mut map = mmap::map_pages(&parts, access::RW, Place::Anywhere).map_err(|_| "cannot map the framebuffer")?;
        let ok = map.bytes_mut().is_some_and(|b| Surface::new(b, width, height, pitch, format).is_some());
        if !ok {
            return Err("the framebuffer is smaller than its geometry says");
        }
        Ok(Display { map, width, height, pitch, format })
    }

    /// The surface to draw on.
    pub fn surface(&mut self) -> Option<Surface<'_>> {
        let (w, h, p, f) = (self.width, self.height, self.pitch, self.format);
        Surface::new(self.map.bytes_mut()?, w, h, p, f)
    }
}
