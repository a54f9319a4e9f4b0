//! Vulcan's test inventory: the tests every boot of Vulcan must run, and the debug-write markers
//! they must leave on the serial log.
//!
//! [`FILE`] (`vulcan/inventory.txt`) lists every Vulcan test by group, in run order, and after a
//! test the tags of the markers it writes (`vulcan/src/marker.rs`; [`crate::markers`] checks
//! them). The list is committed, so that a test or a whole group can leave Vulcan only through an
//! edit of this file as well, one that a reviewer sees. A host test reads Vulcan's source ([`Source`]:
//! the groups `tests::ALL` runs, each group's `TESTS` slice, the tags passed to `marker` and
//! `fill_marker`) and fails, saying what differs, wherever the file and the source disagree. The
//! source is never what a boot is judged against: reading it at test time would let a test deleted
//! from its group, or a group deleted from `tests::ALL`, shrink the expectation with it.
//!
//! Every boot of Vulcan is judged against the file ([`judge_boot`]): a listed test that printed no
//! result line (a dropped group, a lost test), a result line for a test that is not listed, and a
//! test with two result lines each fail the boot. A skipped test is present (whether it may skip
//! on that machine is [`crate::test`]'s judgement).
//!
//! The file's format: `#` starts a comment line; `[GROUP]` starts a group (the module name in
//! `vulcan/src/tests/`); every other line is a test, `NAME` or `NAME writes TAG...`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use crate::markers;
use crate::test::VulcanReport;

/// The inventory, relative to the workspace root.
pub const FILE: &str = "vulcan/inventory.txt";

/// At most this many names are shown in one list of a message.
const SHOWN_NAMES: usize = 12;

/// The parsed inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// In run order.
    pub groups: Vec<Group>,
}

/// One group of tests (one `TESTS` slice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The module's name.
    pub name: String,
    /// In run order.
    pub tests: Vec<Entry>,
}

/// One test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As its result line prints it.
    pub name: String,
    /// The tags of the debug-write markers it writes.
    pub markers: Vec<String>,
}

impl Inventory {
    /// Reads and parses [`FILE`] under the workspace `root`.
    pub fn load(root: &Path) -> Result<Inventory, String> {
        let text = fs::read_to_string(root.join(FILE)).map_err(|e| format!("cannot read {FILE}: {e}"))?;
        Inventory::parse(&text).map_err(|e| format!("{FILE}:{e}"))
    }

    /// Parses the inventory's text; an error starts with the line number.
    pub fn parse(text: &str) -> Result<Inventory, String> {
        let mut groups: Vec<Group> = Vec::new();
        let mut names = HashSet::new();
        let mut tags = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or(format!("{n}: a group line is `[NAME]`"))?;
                if !is_name(name) {
                    return Err(format!("{n}: {name:?} is not a group name (a-z, 0-9, _)"));
                }
                if groups.iter().any(|g| g.name == name) {
                    return Err(format!("{n}: group {name} appears twice"));
                }
                if let Some(last) = groups.last().filter(|g| g.tests.is_empty()) {
                    return Err(format!("{n}: group {} lists no test", last.name));
                }
                groups.push(Group { name: name.to_string(), tests: Vec::new() });
                continue;
            }
            let mut words = line.split_whitespace();
            let name = words.next().unwrap_or_default();
            let group = groups.last_mut().ok_or(format!("{n}: test {name} comes before the first `[GROUP]`"))?;
            if !is_name(name) {
                return Err(format!("{n}: {name:?} is not a test name (a-z, 0-9, _)"));
            }
            if !names.insert(name.to_string()) {
                return Err(format!("{n}: test {name} appears twice"));
            }
            let mut entry = Entry { name: name.to_string(), markers: Vec::new() };
            match words.next() {
                None => {}
                Some("writes") => {
                    for tag in words {
                        if !markers::is_tag(tag) {
                            return Err(format!("{n}: {tag:?} is not a marker tag (a-z, 0-9, -; not `refused`)"));
                        }
                        if !tags.insert(tag.to_string()) {
                            return Err(format!("{n}: marker {tag} appears twice"));
                        }
                        entry.markers.push(tag.to_string());
                    }
                    if entry.markers.is_empty() {
                        return Err(format!("{n}: `writes` names no marker"));
                    }
                }
                Some(other) => return Err(format!("{n}: expected `NAME` or `NAME writes TAG...`, found {other:?}")),
            }
            group.tests.push(entry);
        }
        match groups.last() {
            None => Err("0: no group".to_string()),
            Some(last) if last.tests.is_empty() => Err(format!("0: group {} lists no test", last.name)),
            Some(_) => Ok(Inventory { groups }),
        }
    }

    /// How many tests it lists.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|g| g.tests.len()).sum()
    }

    /// Every test, in run order.
    pub fn tests(&self) -> impl Iterator<Item = &Entry> {
        self.groups.iter().flat_map(|g| g.tests.iter())
    }

    /// Every marker: (the test that writes it, its tag).
    pub fn markers(&self) -> impl Iterator<Item = (&Entry, &str)> {
        self.tests().flat_map(|t| t.markers.iter().map(move |m| (t, m.as_str())))
    }
}

/// A group or test name: `snake_case` ASCII.
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Judges one boot of Vulcan against the inventory under `root`: its tests ([`judge_tests`]) and
/// its markers ([`markers::judge`]). Returns how many tests the inventory lists.
pub fn judge_boot(root: &Path, report: &VulcanReport, serial: &str) -> Result<usize, String> {
    let inventory = Inventory::load(root)?;
    judge_tests(&inventory, &report.results)?;
    markers::judge(&inventory, serial, &report.results, &report.skipped)?;
    Ok(inventory.len())
}

/// Checks the result lines of one boot (line index, test name) against the inventory: every
/// listed test printed exactly one, and no other test printed any.
pub fn judge_tests(inventory: &Inventory, results: &[(usize, String)]) -> Result<(), String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut order = Vec::new();
    for (_, name) in results {
        let n = count.entry(name).or_default();
        if *n == 0 {
            order.push(name.as_str());
        }
        *n += 1;
    }
    let listed: HashSet<&str> = inventory.tests().map(|t| t.name.as_str()).collect();
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    for group in &inventory.groups {
        let absent: Vec<&str> =
            group.tests.iter().map(|t| t.name.as_str()).filter(|name| !count.contains_key(name)).collect();
        if absent.len() == group.tests.len() {
            missing.push(format!("group {} (all {} tests)", group.name, absent.len()));
        } else {
            missing.extend(absent.into_iter().map(String::from));
        }
    }
    if !missing.is_empty() {
        let ran = listed.iter().filter(|name| count.contains_key(*name)).count();
        problems.push(format!("ran {ran} of the {} tests in {FILE}; missing: {}", listed.len(), shown(&missing)));
    }
    let unknown: Vec<String> = order.iter().filter(|name| !listed.contains(*name)).map(|s| s.to_string()).collect();
    if !unknown.is_empty() {
        problems.push(format!("not in {FILE}: {}", shown(&unknown)));
    }
    let twice: Vec<String> =
        order.iter().filter(|name| count[*name] > 1).map(|name| format!("{name} ({} times)", count[name])).collect();
    if !twice.is_empty() {
        problems.push(format!("result printed more than once: {}", shown(&twice)));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// `names` joined with `, `, at most [`SHOWN_NAMES`] of them.
pub fn shown(names: &[String]) -> String {
    let mut text = names.iter().take(SHOWN_NAMES).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN_NAMES {
        text.push_str(&format!(" and {} more", names.len() - SHOWN_NAMES));
    }
    text
}

/// Reading Vulcan's source, for the host test that holds the inventory to it (nothing else needs
/// it: a boot is judged against the committed list alone).
#[cfg(test)]
mod source {
    use std::collections::{HashMap, HashSet};
    use std::fs;
    use std::path::Path;

    use super::{FILE, Inventory, is_name, shown};
    use crate::markers;

    /// Vulcan's source files the inventory is checked against, relative to the workspace root:
    /// the group list, and the directory of the group modules.
    pub const ALL_FILE: &str = "vulcan/src/tests.rs";
    pub const GROUPS_DIR: &str = "vulcan/src/tests";

    /// What Vulcan's source says: the groups `tests::ALL` runs, in order, each with its tests in
    /// order, and every marker tag a test module passes to `marker` or `fill_marker`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Source {
        /// (group, its test names).
        pub groups: Vec<(String, Vec<String>)>,
        /// (tag, the file that writes it), in the order found.
        pub markers: Vec<(String, String)>,
    }

    impl Source {
        /// Reads Vulcan's test modules under the workspace `root`.
        pub fn read(root: &Path) -> Result<Source, String> {
            let all = fs::read_to_string(root.join(ALL_FILE)).map_err(|e| format!("cannot read {ALL_FILE}: {e}"))?;
            let dir = root.join(GROUPS_DIR);
            let mut modules = Vec::new();
            let entries = fs::read_dir(&dir).map_err(|e| format!("cannot read {GROUPS_DIR}: {e}"))?;
            for entry in entries {
                let path = entry.map_err(|e| format!("cannot read {GROUPS_DIR}: {e}"))?.path();
                let (name, file) = if path.is_dir() {
                    (path.file_name(), path.join("mod.rs"))
                } else if path.extension().is_some_and(|e| e == "rs") {
                    (path.file_stem(), path.clone())
                } else {
                    continue;
                };
                let Some(name) = name.and_then(|n| n.to_str()) else { continue };
                if !file.is_file() {
                    continue;
                }
                let text = fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                modules.push((name.to_string(), text));
            }
            modules.sort();
            Source::parse(&all, &modules)
        }

        /// Reads the source from the text of `tests.rs` and of each module in `tests/` (name, text).
        /// Every module that defines `TESTS` must be one `tests::ALL` runs, and every group it runs a
        /// module that defines `TESTS`: a group left out of `ALL` is an error here, not a smaller
        /// source.
        pub fn parse(all: &str, modules: &[(String, String)]) -> Result<Source, String> {
            let all = strip_comments(all);
            let groups = group_list(&all).map_err(|e| format!("{ALL_FILE}: {e}"))?;
            let mut source = Source { groups: Vec::new(), markers: Vec::new() };
            let mut seen = HashSet::new();
            for group in &groups {
                if !seen.insert(group.as_str()) {
                    return Err(format!("{ALL_FILE}: tests::ALL runs group {group} twice"));
                }
                if !modules.iter().any(|(name, _)| name == group) {
                    return Err(format!(
                        "{ALL_FILE}: tests::ALL runs {group}::TESTS, but there is no {GROUPS_DIR}/{group}.rs"
                    ));
                }
            }
            let mut sliced = HashMap::new();
            for (name, text) in modules {
                let file = format!("{GROUPS_DIR}/{name}.rs");
                let text = strip_comments(text);
                if let Some(tests) = test_list(&text).map_err(|e| format!("{file}: {e}"))? {
                    if !seen.contains(name.as_str()) {
                        return Err(format!("{file} defines TESTS, but tests::ALL in {ALL_FILE} does not run them"));
                    }
                    sliced.insert(name.as_str(), tests);
                }
                for tag in marker_tags(&text).map_err(|e| format!("{file}: {e}"))? {
                    source.markers.push((tag, file.clone()));
                }
            }
            for tag in marker_tags(&all).map_err(|e| format!("{ALL_FILE}: {e}"))? {
                source.markers.push((tag, ALL_FILE.to_string()));
            }
            for group in groups {
                let tests = sliced.remove(group.as_str()).ok_or(format!("{GROUPS_DIR}/{group}.rs defines no TESTS"))?;
                source.groups.push((group, tests));
            }
            Ok(source)
        }
    }

    /// Compares the inventory with the source; the error lists every difference, one per line.
    pub fn compare(inventory: &Inventory, source: &Source) -> Result<(), String> {
        let mut problems = Vec::new();
        let listed: Vec<&str> = inventory.groups.iter().map(|g| g.name.as_str()).collect();
        let run: Vec<&str> = source.groups.iter().map(|(g, _)| g.as_str()).collect();
        let (only_run, only_listed) = differences(&run, &listed);
        if !only_run.is_empty() {
            problems.push(format!("groups tests::ALL runs that {FILE} does not list: {}", shown(&only_run)));
        }
        if !only_listed.is_empty() {
            problems.push(format!("groups {FILE} lists that tests::ALL does not run: {}", shown(&only_listed)));
        }
        if only_run.is_empty() && only_listed.is_empty() && run != listed {
            problems.push(format!("groups in another order: tests::ALL runs {}", run.join(", ")));
        }
        let mut listed_where: HashMap<&str, &str> = HashMap::new();
        for group in &inventory.groups {
            for test in &group.tests {
                listed_where.insert(&test.name, &group.name);
            }
        }
        let mut seen = HashSet::new();
        for (group, tests) in &source.groups {
            let tests: Vec<&str> = tests.iter().map(String::as_str).collect();
            let twice: Vec<String> = tests.iter().filter(|t| !seen.insert(**t)).map(|t| t.to_string()).collect();
            if !twice.is_empty() {
                problems.push(format!("tests defined twice in the source: {}", shown(&twice)));
            }
            let Some(entry) = inventory.groups.iter().find(|g| &g.name == group) else { continue };
            let listed: Vec<&str> = entry.tests.iter().map(|t| t.name.as_str()).collect();
            let (only_source, only_listed) = differences(&tests, &listed);
            if !only_source.is_empty() {
                let at = |t: &String| match listed_where.get(t.as_str()) {
                    Some(g) => format!("{t} (listed under {g})"),
                    None => t.clone(),
                };
                let names: Vec<String> = only_source.iter().map(at).collect();
                problems.push(format!(
                    "tests in {group}::TESTS that {FILE} does not list under [{group}]: {}",
                    shown(&names)
                ));
            }
            if !only_listed.is_empty() {
                problems.push(format!(
                    "tests {FILE} lists under [{group}] that {group}::TESTS lacks: {}",
                    shown(&only_listed)
                ));
            }
            if only_source.is_empty() && only_listed.is_empty() && tests != listed {
                problems.push(format!("[{group}] lists its tests in another order than {group}::TESTS runs them"));
            }
        }
        let written: Vec<&str> = source.markers.iter().map(|(t, _)| t.as_str()).collect();
        let mut once = HashSet::new();
        let twice: Vec<String> = source
            .markers
            .iter()
            .filter(|(t, _)| !once.insert(t.as_str()))
            .map(|(t, f)| format!("{t} (in {f})"))
            .collect();
        if !twice.is_empty() {
            problems.push(format!("marker tags passed to more than one call: {}", shown(&twice)));
        }
        let tags: Vec<&str> = inventory.markers().map(|(_, tag)| tag).collect();
        let (only_source, only_listed) = differences(&written, &tags);
        if !only_source.is_empty() {
            problems.push(format!("markers the tests write that {FILE} does not list: {}", shown(&only_source)));
        }
        if !only_listed.is_empty() {
            problems.push(format!("markers {FILE} lists that no test writes: {}", shown(&only_listed)));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{FILE} disagrees with Vulcan's source; change it with the tests (a test removed from Vulcan \
                 leaves it on purpose):\n{}",
                problems.join("\n")
            ))
        }
    }

    /// (in `a` and not in `b`, in `b` and not in `a`), each in order.
    fn differences(a: &[&str], b: &[&str]) -> (Vec<String>, Vec<String>) {
        let only = |x: &[&str], y: &[&str]| -> Vec<String> {
            x.iter().filter(|s| !y.contains(s)).map(|s| s.to_string()).collect()
        };
        (only(a, b), only(b, a))
    }

    /// Rust source with every comment (line, block, doc) turned into spaces, newlines kept, and
    /// string and character literals left as they are: so that a commented-out test is not a test.
    pub fn strip_comments(src: &str) -> String {
        let b = src.as_bytes();
        let mut out = b.to_vec();
        let mut i = 0;
        while i < b.len() {
            if b[i..].starts_with(b"//") {
                while i < b.len() && b[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
            } else if b[i..].starts_with(b"/*") {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        out[i] = b' ';
                        out[i + 1] = b' ';
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        out[i] = b' ';
                        out[i + 1] = b' ';
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if b[i] != b'\n' {
                            out[i] = b' ';
                        }
                        i += 1;
                    }
                }
            } else {
                i = literal_end(b, i).unwrap_or(i + 1);
            }
        }
        // Only ASCII bytes were replaced, and each whole character of a comment: still UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Where the string or character literal that starts at `i` ends (one past it), or `None` if
    /// none starts there (a lifetime's `'`, or anything else).
    fn literal_end(b: &[u8], i: usize) -> Option<usize> {
        let ident = |j: usize| b[j].is_ascii_alphanumeric() || b[j] == b'_';
        match b[i] {
            b'"' => {
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 2,
                        b'"' => return Some(j + 1),
                        _ => j += 1,
                    }
                }
                Some(b.len())
            }
            b'r' if i == 0 || !ident(i - 1) || (b[i - 1] == b'b' && (i < 2 || !ident(i - 2))) => {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    return None;
                }
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let body = i + 2 + hashes;
                let end = b[body..].windows(close.len()).position(|w| w == close.as_slice());
                Some(end.map_or(b.len(), |p| body + p + close.len()))
            }
            b'\'' => {
                if b.get(i + 1) == Some(&b'\\') {
                    // An escape: '\n', '\'', '\u{..}'.
                    let j = i + 3 + b.get(i + 3..)?.iter().position(|&c| c == b'\'')?;
                    return Some(j + 1);
                }
                // One character, which may take several bytes.
                let len = std::str::from_utf8(&b[i + 1..(i + 5).min(b.len())])
                    .or_else(|e| std::str::from_utf8(&b[i + 1..i + 1 + e.valid_up_to()]))
                    .ok()?
                    .chars()
                    .next()?
                    .len_utf8();
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
            }
            _ => None,
        }
    }

    /// The elements of the array literal `= &[ ... ];` that follows `item` (such as `const ALL`),
    /// trimmed; `None` if `item` does not occur.
    fn array_after(src: &str, item: &str) -> Result<Option<Vec<String>>, String> {
        let mut found = src.match_indices(item).filter(|(at, _)| {
            let after = src.as_bytes().get(at + item.len());
            after.is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        });
        let Some((at, _)) = found.next() else { return Ok(None) };
        if found.next().is_some() {
            return Err(format!("`{item}` appears twice"));
        }
        let rest = &src[at + item.len()..];
        let not_array = || format!("`{item}` is not `= &[...]`");
        let eq = rest.find('=').ok_or_else(not_array)?;
        if rest[..eq].contains(';') {
            return Err(not_array());
        }
        let value = rest[eq + 1..].trim_start();
        let value =
            value.strip_prefix('&').map(str::trim_start).and_then(|v| v.strip_prefix('[')).ok_or_else(not_array)?;
        let rest = value;
        let b = rest.as_bytes();
        let start = 0;
        let mut depth = 0usize;
        let mut elements = Vec::new();
        let mut from = start;
        let mut i = start;
        while i < b.len() {
            if let Some(end) = literal_end(b, i) {
                i = end;
                continue;
            }
            match b[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b'}' => depth = depth.saturating_sub(1),
                b']' if depth == 0 => {
                    elements.push(rest[from..i].trim().to_string());
                    elements.retain(|e| !e.is_empty());
                    return Ok(Some(elements));
                }
                b']' => depth -= 1,
                b',' if depth == 0 => {
                    elements.push(rest[from..i].trim().to_string());
                    from = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        Err(format!("the array after `{item}` does not end"))
    }

    /// The groups `tests::ALL` runs: every element must be `GROUP::TESTS`.
    fn group_list(all: &str) -> Result<Vec<String>, String> {
        let elements = array_after(all, "const ALL")?.ok_or("no `const ALL`")?;
        elements
            .iter()
            .map(|e| match e.strip_suffix("::TESTS") {
                Some(group) if is_name(group) => Ok(group.to_string()),
                _ => Err(format!("an element of tests::ALL is not `GROUP::TESTS`: {e}")),
            })
            .collect()
    }

    /// The test names of a group module's `TESTS`, or `None` if it has none: every element must be
    /// `Test::new("NAME", ...)`.
    fn test_list(module: &str) -> Result<Option<Vec<String>>, String> {
        let Some(elements) = array_after(module, "const TESTS")? else { return Ok(None) };
        let tests = elements
            .iter()
            .map(|e| {
                let name = e.strip_prefix("Test::new(").map(str::trim_start).and_then(string_literal);
                match name {
                    Some(name) if is_name(name) => Ok(name.to_string()),
                    _ => Err(format!("an element of TESTS is not `Test::new(\"NAME\", ...)`: {}", first_line(e))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(tests))
    }

    /// The tags passed to `marker(` and `fill_marker(` in a module: each must be a string literal.
    pub fn marker_tags(module: &str) -> Result<Vec<String>, String> {
        let b = module.as_bytes();
        let mut tags = Vec::new();
        for (at, call) in module.match_indices("marker(") {
            let before = at.checked_sub(1).map(|j| b[j]);
            let call_start = match before {
                Some(c) if c.is_ascii_alphanumeric() || c == b'_' => {
                    if module[..at].ends_with("fill_")
                        && !module[..at - 5].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    {
                        at - 5
                    } else {
                        continue;
                    }
                }
                _ => at,
            };
            let after = module[at + call.len()..].trim_start();
            let line = module[..call_start].lines().count().max(1);
            match string_literal(after) {
                Some(tag) if markers::is_tag(tag) => tags.push(tag.to_string()),
                _ => return Err(format!("line {line}: a marker whose tag is not a string literal of a-z, 0-9 and -")),
            }
        }
        Ok(tags)
    }

    /// The contents of the plain string literal that starts `s` (no escapes).
    fn string_literal(s: &str) -> Option<&str> {
        let rest = s.strip_prefix('"')?;
        let end = rest.find('"')?;
        let text = &rest[..end];
        (!text.contains('\\')).then_some(text)
    }

    fn first_line(s: &str) -> &str {
        s.lines().next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::source::*;
    use super::*;

    /// The workspace root.
    fn root() -> &'static Path {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest.parent().unwrap_or(manifest)
    }

    fn real() -> (Inventory, String, Vec<(String, String)>) {
        let inventory = Inventory::load(root()).unwrap_or_else(|e| panic!("{e}"));
        let all = fs::read_to_string(root().join(ALL_FILE)).unwrap();
        let mut modules = Vec::new();
        for entry in fs::read_dir(root().join(GROUPS_DIR)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let name = path.file_stem().unwrap().to_str().unwrap().to_string();
                modules.push((name, fs::read_to_string(&path).unwrap()));
            }
        }
        modules.sort();
        (inventory, all, modules)
    }

    /// The check that keeps the committed list in step with Vulcan.
    #[test]
    fn the_inventory_matches_the_source() {
        let inventory = Inventory::load(root()).unwrap_or_else(|e| panic!("{e}"));
        let source = Source::read(root()).unwrap_or_else(|e| panic!("{e}"));
        if let Err(e) = compare(&inventory, &source) {
            panic!("{e}");
        }
        assert!(inventory.len() > 200, "{} tests", inventory.len());
        assert!(inventory.markers().count() >= 5);
    }

    /// `modules` with the text of `name` changed by `f`.
    fn doctor(modules: &[(String, String)], name: &str, f: impl Fn(&str) -> String) -> Vec<(String, String)> {
        let mut modules = modules.to_vec();
        let module = modules.iter_mut().find(|(n, _)| n == name).unwrap();
        let changed = f(&module.1);
        assert_ne!(changed, module.1, "the doctoring of {name} changed nothing");
        module.1 = changed;
        modules
    }

    #[test]
    fn a_group_dropped_from_all_is_caught() {
        let (inventory, all, modules) = real();
        let dropped = all.replacen("    fuzz::TESTS,\n", "", 1);
        assert_ne!(dropped, all);
        let err = Source::parse(&dropped, &modules).unwrap_err();
        assert!(err.contains("fuzz.rs defines TESTS, but tests::ALL"), "{err}");
        // And were the module gone as well, the inventory still lists the group.
        let gone: Vec<_> = modules.iter().filter(|(n, _)| n != "fuzz").cloned().collect();
        let source = Source::parse(&dropped, &gone).unwrap();
        let err = compare(&inventory, &source).unwrap_err();
        assert!(err.contains("groups vulcan/inventory.txt lists that tests::ALL does not run: fuzz"), "{err}");
    }

    #[test]
    fn a_test_dropped_or_commented_out_is_caught() {
        let (inventory, all, modules) = real();
        for doctored in [
            doctor(&modules, "debug_write", |t| t.replacen("    Test::new(\"debug_write_null\", null),\n", "", 1)),
            doctor(&modules, "debug_write", |t| {
                t.replacen("    Test::new(\"debug_write_null\"", "    // Test::new(\"debug_write_null\"", 1)
            }),
            doctor(&modules, "debug_write", |t| {
                t.replacen(
                    "    Test::new(\"debug_write_null\", null),\n",
                    "    /* Test::new(\"debug_write_null\", null), */\n",
                    1,
                )
            }),
        ] {
            let source = Source::parse(&all, &doctored).unwrap();
            let err = compare(&inventory, &source).unwrap_err();
            assert!(err.contains("lists under [debug_write] that debug_write::TESTS lacks: debug_write_null"), "{err}");
        }
        // A test added to the source but not to the list.
        let added = doctor(&modules, "image", |t| {
            t.replacen(
                "pub const TESTS: &[Test] = &[\n",
                "pub const TESTS: &[Test] = &[\n    Test::new(\"image_new\", |_| Ok(())),\n",
                1,
            )
        });
        let err = compare(&inventory, &Source::parse(&all, &added).unwrap()).unwrap_err();
        assert!(
            err.contains("tests in image::TESTS that vulcan/inventory.txt does not list under [image]: image_new"),
            "{err}"
        );
        // A test moved to another group.
        let mut moved = real().0;
        let test = moved.groups[0].tests.remove(1);
        moved.groups[1].tests.push(test);
        let to = format!("(listed under {})", moved.groups[1].name);
        let err = compare(&moved, &Source::parse(&all, &modules).unwrap()).unwrap_err();
        assert!(err.contains(&to), "{err}");
    }

    #[test]
    fn unreadable_tests_are_errors_not_omissions() {
        let (_, all, modules) = real();
        let by_struct = doctor(&modules, "image", |t| {
            t.replacen(
                "pub const TESTS: &[Test] = &[\n",
                "pub const TESTS: &[Test] = &[\n    Test { name: \"x\", run: f },\n",
                1,
            )
        });
        assert!(Source::parse(&all, &by_struct).unwrap_err().contains("is not `Test::new(\"NAME\", ...)`"));
        let by_const = doctor(&modules, "image", |t| {
            t.replacen("pub const TESTS: &[Test] = &[\n", "pub const TESTS: &[Test] = &[\n    Test::new(NAME, f),\n", 1)
        });
        assert!(Source::parse(&all, &by_const).is_err());
        let odd_all = all.replacen("fuzz::TESTS,", "fuzz::MORE_TESTS,", 1);
        assert!(Source::parse(&odd_all, &modules).unwrap_err().contains("not `GROUP::TESTS`"));
        let twice = all.replacen("fuzz::TESTS,", "fuzz::TESTS, fuzz::TESTS,", 1);
        assert!(Source::parse(&twice, &modules).unwrap_err().contains("runs group fuzz twice"));
    }

    #[test]
    fn marker_tags_follow_the_source() {
        let (inventory, all, modules) = real();
        let renamed = doctor(&modules, "debug_write", |t| t.replacen("marker(\"stack\"", "marker(\"stack-2\"", 1));
        let err = compare(&inventory, &Source::parse(&all, &renamed).unwrap()).unwrap_err();
        assert!(err.contains("markers the tests write that vulcan/inventory.txt does not list: stack-2"), "{err}");
        assert!(err.contains("markers vulcan/inventory.txt lists that no test writes: stack"), "{err}");
        let doubled =
            doctor(&modules, "cap", |t| t.replacen("marker(\"moved-console\"", "marker(\"minted-console\"", 1));
        let err = compare(&inventory, &Source::parse(&all, &doubled).unwrap()).unwrap_err();
        assert!(err.contains("passed to more than one call: minted-console"), "{err}");
        let computed = doctor(&modules, "cap", |t| t.replacen("marker(\"moved-console\"", "marker(TAG", 1));
        assert!(Source::parse(&all, &computed).unwrap_err().contains("not a string literal"));
        let filled =
            doctor(&modules, "debug_write", |t| t.replacen("fill_marker(\"max-length\"", "fill_marker(\"max\"", 1));
        let err = compare(&inventory, &Source::parse(&all, &filled).unwrap()).unwrap_err();
        assert!(err.contains("does not list: max"), "{err}");
        // Names that merely end in `marker(` are other functions.
        assert_eq!(marker_tags("write_marker(x); fill_marker(\"a\", b); m::marker(\"c\", d)").unwrap(), ["a", "c"]);
    }

    #[test]
    fn comments_are_stripped_and_literals_kept() {
        let src = "a // b \"c\n\"// not a comment\" /* x /* y */ z */ '\"' 'static r#\"//\"# é /// doc\n'\\n'";
        let out = strip_comments(src);
        assert_eq!(out.len(), src.len());
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.contains("\"// not a comment\""));
        assert!(out.contains("r#\"//\"#"));
        assert!(!out.contains('b') && !out.contains('x') && !out.contains("doc"));
        assert!(out.contains("'\"'") && out.contains("'static") && out.contains('é'));
    }

    fn inventory(text: &str) -> Result<Inventory, String> {
        Inventory::parse(text)
    }

    #[test]
    fn the_file_format() {
        let inv = inventory("# c\n\n[a]\nt1\nt2 writes m1 m2\n[b]\nt3\n").unwrap();
        assert_eq!(inv.len(), 3);
        assert_eq!(inv.markers().map(|(t, m)| (t.name.as_str(), m)).collect::<Vec<_>>(), [("t2", "m1"), ("t2", "m2")]);
        for (bad, why) in [
            ("t1\n", "before the first"),
            ("[a]\nt1\n[a]\nt2\n", "group a appears twice"),
            ("[a]\nt1\n[b]\nt1\n", "test t1 appears twice"),
            ("[a]\n[b]\nt1\n", "group a lists no test"),
            ("[a]\nt1\n[b]\n", "group b lists no test"),
            ("[a]\nt1 writes\n", "names no marker"),
            ("[a]\nt1 writes m\nt2 writes m\n", "marker m appears twice"),
            ("[a]\nt1 writes refused\n", "not a marker tag"),
            ("[a]\nt1 writes Big\n", "not a marker tag"),
            ("[a]\nt1 t2\n", "expected `NAME`"),
            ("[a]\nT1\n", "not a test name"),
            ("[a b]\nt1\n", "not a group name"),
            ("", "no group"),
        ] {
            let err = inventory(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    fn results(names: &[&str]) -> Vec<(usize, String)> {
        names.iter().enumerate().map(|(i, n)| (i, n.to_string())).collect()
    }

    #[test]
    fn every_boot_must_run_every_listed_test_once() {
        let inv = inventory("[a]\na1\na2\n[b]\nb1\nb2\n").unwrap();
        assert_eq!(judge_tests(&inv, &results(&["a1", "a2", "b1", "b2"])), Ok(()));
        // Order does not matter; presence does.
        assert_eq!(judge_tests(&inv, &results(&["b2", "a1", "a2", "b1"])), Ok(()));
        assert_eq!(
            judge_tests(&inv, &results(&["a1", "a2"])),
            Err("ran 2 of the 4 tests in vulcan/inventory.txt; missing: group b (all 2 tests)".to_string())
        );
        assert_eq!(
            judge_tests(&inv, &results(&["a1", "a2", "b2"])),
            Err("ran 3 of the 4 tests in vulcan/inventory.txt; missing: b1".to_string())
        );
        assert_eq!(
            judge_tests(&inv, &results(&["a1", "a2", "b1", "b2", "c1"])),
            Err("not in vulcan/inventory.txt: c1".to_string())
        );
        assert_eq!(
            judge_tests(&inv, &results(&["a1", "a2", "a2", "b1", "b2"])),
            Err("result printed more than once: a2 (2 times)".to_string())
        );
        let err = judge_tests(&inv, &results(&[])).unwrap_err();
        assert!(err.contains("group a (all 2 tests), group b (all 2 tests)"), "{err}");
    }

    #[test]
    fn long_lists_are_cut() {
        let names: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert!(shown(&names).ends_with("t11 and 8 more"));
    }
}
