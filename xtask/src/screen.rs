//! The screen test: the normal system booted with QEMU's standard VGA, driven through QMP the
//! way a person uses the QEMU window. xtask waits (taking screendumps) until the screen shows
//! exactly getty's banner and the shell's prompt, types a command with `send-key` (with a
//! typo mended by Backspace and the arrow keys on the way), and waits until the screen shows exactly the
//! command and its output: each picture is compared pixel for pixel with the screen rendered on
//! the host by the framebuffer terminal's own library ([`crate::picture::render`]). The cursor
//! does not blink, so there is no phase to wait for.
//!
//! The last screendump is kept, as PPM and PNG, in `target/perihelion/screen/` (with the
//! expected picture beside it when they differ); `docs/screenshot.png` is a copy of the PNG.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::picture::{self, Picture};

/// The mode Mercury gives QEMU's standard VGA (`mercury/src/screen.rs`).
pub const SCREEN: (usize, usize) = (800, 600);

/// What the screen shows once getty has started a shell on it.
pub fn ready_text() -> String {
    format!("\nPerihelion {} on screen. Type `help` for the commands.\n$ ", env!("CARGO_PKG_VERSION"))
}

/// What is typed: `echo scren okk`, Backspace, four times Left, `e`, Enter (QEMU's key names):
/// a typo mended with Backspace and the arrow keys, so the keyboard's escapes, the shell's line
/// editor and the terminal's cursor movement are all on the way.
pub fn typed_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = "echo scren okk".chars().map(qcode).collect();
    keys.push("backspace");
    keys.extend(["left"; 4]);
    keys.extend(["e", "ret"]);
    keys
}

/// What the screen shows after it: the line as mended, its output and the next prompt.
pub fn final_text() -> String {
    format!("{}echo screen ok\nscreen ok\n$ ", ready_text())
}

/// QEMU's key name for a character of the typed text.
fn qcode(c: char) -> &'static str {
    const LETTERS: [&str; 26] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v",
        "w", "x", "y", "z",
    ];
    match c {
        'a'..='z' => LETTERS[(c as u8 - b'a') as usize],
        ' ' => "spc",
        _ => "unknown",
    }
}

/// How long to wait for each picture.
const READY_WAIT: Duration = Duration::from_secs(60);
const FINAL_WAIT: Duration = Duration::from_secs(30);

/// A QMP connection.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects to QEMU's QMP socket (retrying until `deadline`: QEMU makes it as it starts).
    fn connect(path: &Path, deadline: Instant) -> Result<Qmp> {
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => return Err(e).context("connecting to QEMU's QMP socket"),
                Err(_) => thread::sleep(Duration::from_millis(50)),
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(20))).context("a QMP read timeout")?;
        let writer = stream.try_clone().context("cloning the QMP socket")?;
        let mut qmp = Qmp { reader: BufReader::new(stream), writer };
        let mut greeting = String::new();
        qmp.reader.read_line(&mut greeting).context("reading QMP's greeting")?;
        qmp.execute("qmp_capabilities", json!({}))?;
        Ok(qmp)
    }

    /// Runs one command and returns its `return` value (events on the way are skipped).
    fn execute(&mut self, command: &str, arguments: Value) -> Result<Value> {
        let line = json!({ "execute": command, "arguments": arguments }).to_string();
        self.writer.write_all(format!("{line}\n").as_bytes()).with_context(|| format!("sending QMP `{command}`"))?;
        loop {
            let mut answer = String::new();
            if self.reader.read_line(&mut answer).with_context(|| format!("QMP's answer to `{command}`"))? == 0 {
                bail!("QEMU closed QMP before answering `{command}`");
            }
            let v: Value = serde_json::from_str(&answer).with_context(|| format!("QMP said {answer:?}"))?;
            if let Some(r) = v.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = v.get("error") {
                bail!("QMP `{command}` failed: {e}");
            }
        }
    }

    /// Takes a screendump into `file` and reads it.
    fn screendump(&mut self, file: &Path) -> Result<Picture> {
        let name = file.to_str().context("a screendump path that is not UTF-8")?;
        self.execute("screendump", json!({ "filename": name }))?;
        Picture::from_ppm(&std::fs::read(file).with_context(|| format!("reading {}", file.display()))?)
    }
}

/// Where the pictures go.
pub fn artifacts(out_dir: &Path) -> PathBuf {
    out_dir.join("screen")
}

/// Waits until the screen is `want`, taking a screendump every 250 ms; the last one in `last`.
fn wait_for(
    qmp: &mut Qmp,
    dump: &Path,
    want: &Picture,
    limit: Duration,
    last: &mut Option<Picture>,
) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let got = qmp.screendump(dump)?;
        let same = got == *want;
        *last = Some(got);
        if same {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            let (n, first) = last.as_ref().map_or((0, None), |g| g.diff(want));
            let (x, y) = first.unwrap_or((0, 0));
            bail!(
                "after {} s the screen differs from the expected one in {n} pixels, the first at ({x}, {y})",
                limit.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// Drives the machine through QMP at `socket`: waits for the prompt, types, waits for the
/// output; then ends QEMU (`quit`) whatever happened. Pictures go to `dir`.
pub fn drive(socket: &Path, dir: &Path) -> (Result<(Duration, Duration)>, Option<Picture>) {
    let mut last = None;
    let result = (|| {
        let mut qmp = Qmp::connect(socket, Instant::now() + Duration::from_secs(20))?;
        let dump = dir.join("dump.ppm");
        let (w, h) = SCREEN;
        let ready = wait_for(&mut qmp, &dump, &picture::render(w, h, ready_text().as_bytes()), READY_WAIT, &mut last)
            .context("waiting for the prompt on the screen")?;
        for key in typed_keys() {
            if key == "unknown" {
                return Err(anyhow!("a character with no QEMU key name in the typed text"));
            }
            qmp.execute("send-key", json!({ "keys": [{ "type": "qcode", "data": key }] }))?;
            thread::sleep(Duration::from_millis(30));
        }
        let done = wait_for(&mut qmp, &dump, &picture::render(w, h, final_text().as_bytes()), FINAL_WAIT, &mut last)
            .context("waiting for the command's output on the screen")?;
        let _ = std::fs::remove_file(&dump);
        let _ = qmp.execute("quit", json!({}));
        Ok((ready, done))
    })();
    if result.is_err() {
        // QEMU must not outlive a failed test: a fresh connection ends it.
        if let Ok(mut q) = Qmp::connect(socket, Instant::now()) {
            let _ = q.execute("quit", json!({}));
        }
    }
    (result, last)
}

/// Keeps the last screendump (and, if it is not what was expected at the end, the expected
/// picture) in `dir`; returns the PNG's path.
pub fn keep(dir: &Path, last: Option<&Picture>, ok: bool) -> Result<Option<PathBuf>> {
    let Some(last) = last else { return Ok(None) };
    std::fs::write(dir.join("screen.ppm"), last.to_ppm()).context("writing screen.ppm")?;
    let png = dir.join("screen.png");
    std::fs::write(&png, last.to_png()).context("writing screen.png")?;
    let expected = dir.join("expected.ppm");
    let _ = std::fs::remove_file(&expected);
    if !ok {
        let (w, h) = SCREEN;
        std::fs::write(&expected, picture::render(w, h, final_text().as_bytes()).to_ppm())
            .context("writing expected.ppm")?;
    }
    Ok(Some(png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_key_has_a_name() {
        assert!(typed_keys().iter().all(|&k| k != "unknown"));
        assert_eq!(qcode('?'), "unknown");
        assert_eq!(typed_keys().len(), 14 + 1 + 4 + 2);
    }

    #[test]
    fn the_expected_screens_differ_only_below_the_prompt_line() {
        let (w, h) = SCREEN;
        let ready = picture::render(w, h, ready_text().as_bytes());
        let done = picture::render(w, h, final_text().as_bytes());
        let (n, first) = ready.diff(&done);
        assert!(n > 0);
        // Row 2 (0-based) holds the prompt: the first change is the cursor moving on from it.
        let (_, y) = first.unwrap();
        assert!((32..48).contains(&y), "first difference on pixel line {y}");
    }
}
