//! Debug-write markers on a Vulcan boot's serial log: the bytes `debug_write` put on the console,
//! checked where they landed rather than by the length the kernel returned.
//!
//! A Vulcan test that writes through a console writes a marker (`vulcan/src/marker.rs`), one
//! whole line:
//!
//! ```text
//! vulcan: debug-write TAG (LEN bytes, fnv1a HASH): BODY
//! ```
//!
//! where BODY is LEN bytes and HASH their 32-bit FNV-1a in 8 hex digits. [`judge`] fails the boot
//! unless every marker the inventory lists ([`crate::inventory`]) appears exactly once, at the
//! start of its line and whole (the line ends where the body does, and the length and hash agree
//! with it), among the lines of its own test: after the result line before its test's and before
//! its test's own. The marker of a test that was skipped may be absent. A line with the marker
//! prefix that does not parse, or a tag the inventory does not list, fails the boot too; so does
//! `debug-write refused` anywhere on the log: it starts the text Vulcan puts in the buffer of
//! every write the kernel must refuse.
//!
//! The kernel writes each `debug_write` and each log line whole under its console lock, so kernel
//! lines and other tests' output may come between lines but never inside one: a marker that is
//! cut, broken across lines, doubled or changed is the kernel's doing (or the harness's), and the
//! check can be strict about each line without being fragile about what surrounds it.

use std::collections::HashMap;

use crate::inventory::{FILE, Inventory, shown};

/// What every marker line starts with.
pub const PREFIX: &str = "vulcan: debug-write ";

/// What the text of a write the kernel must refuse contains, and nothing else on the log may.
pub const REFUSED: &str = "debug-write refused";

/// At most this many characters of a log line are quoted in a message.
const QUOTED: usize = 100;

/// Whether `tag` can be a marker's tag: lowercase letters, digits and `-`, and not `refused`.
pub fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag != "refused"
        && tag.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// 32-bit FNV-1a, as Vulcan computes it.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, &b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Reads a marker line after [`PREFIX`]: its tag if it is whole, else why not.
pub fn parse(record: &str) -> Result<&str, String> {
    let (tag, rest) = record.split_once(" (").ok_or("no ` (` after the tag")?;
    if !is_tag(tag) {
        return Err(format!("{tag:?} is not a tag"));
    }
    let (len, rest) = rest.split_once(" bytes, fnv1a ").ok_or("no ` bytes, fnv1a `")?;
    let (hash, body) = rest.split_once("): ").ok_or("no `): ` after the hash")?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{len:?} is not a length"));
    }
    let len: usize = len.parse().map_err(|_| format!("{len:?} is not a length"))?;
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("{hash:?} is not 8 hex digits"));
    }
    if body.len() != len {
        return Err(format!("{len} bytes announced, {} found", body.len()));
    }
    let found = fnv1a(body.as_bytes());
    if format!("{found:08x}") != hash {
        return Err(format!("fnv1a {hash} announced, the body's is {found:08x}"));
    }
    Ok(tag)
}

/// Checks the markers of one boot of Vulcan against the inventory: `results` are the result
/// lines (line index in `serial`, test name), `skipped` the tests that were skipped. Returns how
/// many markers were found.
pub fn judge(
    inventory: &Inventory,
    serial: &str,
    results: &[(usize, String)],
    skipped: &[String],
) -> Result<usize, String> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
    let listed: HashMap<&str, &str> = inventory.markers().map(|(test, tag)| (tag, test.name.as_str())).collect();
    for (index, line) in serial.lines().enumerate() {
        let n = index + 1;
        if let Some(at) = line.find(REFUSED) {
            problems.push(format!("line {n}: a write the kernel must refuse reached the log: {}", quote(&line[at..])));
            continue;
        }
        let Some(at) = line.find(PREFIX) else { continue };
        let record = &line[at + PREFIX.len()..];
        let tag = match parse(record) {
            Ok(tag) => tag,
            Err(why) => {
                problems.push(format!("line {n}: a broken marker ({why}): {}", quote(&line[at..])));
                continue;
            }
        };
        if at > 0 {
            problems.push(format!("line {n}: marker {tag} does not start its line: {}", quote(line)));
        } else if !listed.contains_key(tag) {
            problems.push(format!("line {n}: marker {tag} is not in {FILE}"));
        } else {
            seen.entry(tag).or_default().push(index);
        }
    }
    let mut found = 0;
    for (test, tag) in inventory.markers() {
        let Some(position) = results.iter().position(|(_, name)| *name == test.name) else {
            // The test printed no result: the inventory check says so.
            continue;
        };
        let lines = seen.get(tag).map(Vec::as_slice).unwrap_or_default();
        let was_skipped = skipped.contains(&test.name);
        match lines {
            [] if was_skipped => {}
            [] => problems.push(format!("marker {tag} of test {} is missing", test.name)),
            [line] => {
                found += 1;
                let end = results[position].0;
                let start = results.iter().map(|(l, _)| *l).filter(|&l| l < end).max();
                if *line >= end || start.is_some_and(|s| *line <= s) {
                    let after =
                        start.map_or(String::new(), |s| format!("after line {} (the result before) and ", s + 1));
                    problems.push(format!(
                        "marker {tag} (line {}) is not {after}before line {} (the result of its test {})",
                        line + 1,
                        end + 1,
                        test.name
                    ));
                }
            }
            more => {
                let at: Vec<String> = more.iter().map(|l| (l + 1).to_string()).collect();
                problems.push(format!("marker {tag} appears {} times (lines {})", more.len(), shown(&at)));
            }
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        let count = problems.len();
        let mut text = problems.into_iter().take(8).collect::<Vec<_>>().join("; ");
        if count > 8 {
            text.push_str(&format!("; and {} more", count - 8));
        }
        Err(format!("debug-write markers: {text}"))
    }
}

/// `line`, cut to [`QUOTED`] characters.
fn quote(line: &str) -> String {
    match line.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{:?}...", &line[..at]),
        None => format!("{line:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A marker line as Vulcan writes it (without the newline).
    fn marker(tag: &str, body: &str) -> String {
        format!("{PREFIX}{tag} ({} bytes, fnv1a {:08x}): {body}", body.len(), fnv1a(body.as_bytes()))
    }

    #[test]
    fn fnv1a_is_the_standard_one() {
        // The published FNV-1a 32-bit test vectors.
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn a_line_vulcan_wrote_parses() {
        // Copied from a boot's serial log.
        let line = "vulcan: debug-write stack (33 bytes, fnv1a 9dd458b7): a buffer on the root task's stack";
        assert_eq!(parse(line.strip_prefix(PREFIX).unwrap()), Ok("stack"));
        assert_eq!(marker("stack", "a buffer on the root task's stack"), line);
    }

    #[test]
    fn broken_markers_do_not_parse() {
        let good = marker("t", "some text");
        let record = good.strip_prefix(PREFIX).unwrap();
        assert_eq!(parse(record), Ok("t"));
        for (bad, why) in [
            (record.replace("some text", "some txet"), "the body's is"),
            (record.replace("some text", "some tex"), "9 bytes announced, 8 found"),
            (format!("{record}x"), "9 bytes announced, 10 found"),
            (format!("{record}{record}"), "announced"),
            (record.replace("9 bytes", "+9 bytes"), "not a length"),
            (record.replace("fnv1a ", "fnv1a 0x"), "not 8 hex digits"),
            (record.replacen("t (", "T (", 1), "not a tag"),
            (record.replace("): ", ") "), "no `): `"),
            ("t".to_string(), "no ` (`"),
        ] {
            let err = parse(&bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    fn inventory() -> Inventory {
        Inventory::parse("[g]\nfirst\nwrites_a writes a\nquiet\nwrites_bc writes b c\n[h]\nmaybe writes d\n").unwrap()
    }

    /// A log: `lines`, and the result lines found in it, as `parse_vulcan` finds them.
    fn boot(lines: &[String]) -> (String, Vec<(usize, String)>) {
        let serial = lines.join("\n") + "\n";
        let results = crate::test::parse_vulcan(&serial).results;
        (serial, results)
    }

    fn good_lines() -> Vec<String> {
        vec![
            "[ info] starting root task 'init'".to_string(),
            "vulcan: running 5 tests".to_string(),
            "test first ... ok".to_string(),
            marker("a", "A"),
            "[ warn] a kernel line between lines".to_string(),
            "test writes_a ... ok".to_string(),
            "test quiet ... ok".to_string(),
            marker("c", "the c marker"),
            marker("b", &(0..250).map(|i| format!("{:04x}............", i * 16)).collect::<String>()),
            "test writes_bc ... ok".to_string(),
            marker("d", "D"),
            "test maybe ... ok".to_string(),
            "vulcan: 5 passed, 0 failed, 0 skipped".to_string(),
        ]
    }

    fn judged(lines: &[String], skipped: &[&str]) -> Result<usize, String> {
        let (serial, results) = boot(lines);
        let skipped: Vec<String> = skipped.iter().map(|s| s.to_string()).collect();
        judge(&inventory(), &serial, &results, &skipped)
    }

    #[test]
    fn whole_markers_in_their_tests_pass() {
        assert_eq!(judged(&good_lines(), &[]), Ok(4));
        // A skipped test need not have written its marker.
        let mut lines = good_lines();
        lines.remove(10);
        lines[10] = "test maybe ... skipped: no such device".to_string();
        assert_eq!(judged(&lines, &["maybe"]), Ok(3));
        // But one that ran must.
        lines[10] = "test maybe ... ok".to_string();
        assert_eq!(judged(&lines, &[]), Err("debug-write markers: marker d of test maybe is missing".to_string()));
    }

    /// A change made to a good log.
    type Doctor = dyn Fn(&mut Vec<String>);

    /// Each way the kernel could get a write wrong, done to a good log.
    #[test]
    fn every_broken_write_fails() {
        let cases: Vec<(&str, Box<Doctor>)> = vec![
            ("marker a of test writes_a is missing", Box::new(|l| l[3] = "vulcan: running".to_string())),
            ("marker a appears 2 times (lines 4, 5)", Box::new(|l| l[4] = l[3].clone())),
            (
                "line 9: a broken marker (4000 bytes announced, 3999 found)",
                Box::new(|l| {
                    l[8].pop();
                }),
            ),
            ("line 9: a broken marker (fnv1a", Box::new(|l| l[8] = l[8].replacen("0100", "0010", 1))),
            // Cut in two by a line break (another write landing inside it).
            (
                "line 9: a broken marker",
                Box::new(|l| {
                    let tail = l[8].split_off(200);
                    l.insert(9, tail);
                }),
            ),
            // Something written before it on its line.
            ("line 8: marker c does not start its line", Box::new(|l| l[7].insert_str(0, "...."))),
            ("line 8: marker c does not start its line", Box::new(|l| l[7].insert_str(0, "[ warn] x"))),
            // Two writes run together: the first loses its newline.
            (
                "line 8: a broken marker",
                Box::new(|l| {
                    let c = l.remove(7);
                    l[7].insert_str(0, &c);
                }),
            ),
            ("line 4: marker x is not in vulcan/inventory.txt", Box::new(|l| l[3] = marker("x", "A"))),
            // In another test's lines.
            (
                "marker a (line 6) is not after line 3 (the result before) and before line 4 (the result of its test \
                 writes_a)",
                Box::new(|l| l.swap(3, 5)),
            ),
            (
                "marker c (line 11) is not after line 7 (the result before) and before line 10 (the result of its \
                 test writes_bc)",
                Box::new(|l| l.swap(7, 10)),
            ),
            (
                "line 5: a write the kernel must refuse reached the log: \"debug-write refused too-long: x\"",
                Box::new(|l| l[4] = "vulcan: debug-write refused too-long: x".to_string()),
            ),
            // Even a piece of one, glued to another line.
            (
                "line 6: a write the kernel must refuse",
                Box::new(|l| l[5].insert_str(0, "e debug-write refused own-page: r")),
            ),
        ];
        for (why, doctor) in cases {
            let mut lines = good_lines();
            doctor(&mut lines);
            let err = judged(&lines, &[]).unwrap_err();
            assert!(err.contains(why), "expected {why:?} in {err:?}");
        }
    }

    #[test]
    fn a_real_log_passes_and_a_doctored_one_fails() {
        let log = "\
vulcan: running 3 tests
vulcan: debug-write read-only (41 bytes, fnv1a 08ca2671): a static in the image's read-only segment
test debug_write_returns_length ... ok
vulcan: debug-write stack (33 bytes, fnv1a 9dd458b7): a buffer on the root task's stack
test debug_write_from_stack ... ok
test debug_write_too_long ... ok
vulcan: 3 passed, 0 failed, 0 skipped
";
        let inv = Inventory::parse(
            "[debug_write]\ndebug_write_returns_length writes read-only\ndebug_write_from_stack writes stack\n\
             debug_write_too_long\n",
        )
        .unwrap();
        let results = crate::test::parse_vulcan(log).results;
        assert_eq!(judge(&inv, log, &results, &[]), Ok(2));
        let doctored = log.replace("root task's", "root tasks'");
        assert!(judge(&inv, &doctored, &results, &[]).unwrap_err().contains("line 4: a broken marker (fnv1a 9dd458b7"));
    }
}
