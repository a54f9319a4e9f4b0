//! The tree against a model: random sequences of operations, run on [`Fs`] and on a plain map of
//! nodes (`Model`, a direct reading of the rules in the crate's documentation), must give the same
//! results and leave the same tree; the budget's figures must agree with a recount after every
//! step ([`Fs::audit`]). With a tight budget, an operation may fail with `NoSpace` where the
//! model succeeds, but must then have changed nothing; and emptying the tree must always work.

use std::collections::BTreeMap;

use proptest::prelude::*;
use ramfs_tree::{Error, Fs, Kind, NodeId, Open};

/// A node of the model.
#[derive(Clone, Debug)]
enum MNode {
    File(Vec<u8>),
    Dir(BTreeMap<String, u64>),
}

/// The model: nodes by number, the root 0.
#[derive(Clone, Debug)]
struct Model {
    nodes: BTreeMap<u64, MNode>,
    next: u64,
}

type MResult<T> = Result<T, Error>;

fn valid(c: &str) -> bool {
    !c.is_empty() && c.len() <= 255 && c != "." && c != ".." && !c.contains(['/', '\0'])
}

fn comps(path: &str) -> MResult<Vec<&str>> {
    let v: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    if v.iter().all(|c| valid(c)) { Ok(v) } else { Err(Error::BadPath) }
}

impl Model {
    fn new() -> Model {
        Model { nodes: BTreeMap::from([(0, MNode::Dir(BTreeMap::new()))]), next: 1 }
    }

    fn dir(&self, n: u64) -> MResult<&BTreeMap<String, u64>> {
        match self.nodes.get(&n) {
            Some(MNode::Dir(d)) => Ok(d),
            Some(MNode::File(_)) => Err(Error::NotADirectory),
            None => Err(Error::NotFound),
        }
    }

    fn dir_mut(&mut self, n: u64) -> &mut BTreeMap<String, u64> {
        match self.nodes.get_mut(&n) {
            Some(MNode::Dir(d)) => d,
            _ => unreachable!("checked"),
        }
    }

    fn walk(&self, comps: &[&str]) -> MResult<u64> {
        let mut at = 0;
        for c in comps {
            at = *self.dir(at)?.get(*c).ok_or(Error::NotFound)?;
        }
        Ok(at)
    }

    fn is_dir(&self, n: u64) -> bool {
        matches!(self.nodes.get(&n), Some(MNode::Dir(_)))
    }

    fn add(&mut self, parent: u64, name: &str, node: MNode) -> u64 {
        let n = self.next;
        self.next += 1;
        self.nodes.insert(n, node);
        self.dir_mut(parent).insert(name.to_string(), n);
        n
    }

    fn make_dirs(&mut self, comps: &[&str]) -> MResult<u64> {
        let mut at = 0;
        for c in comps {
            at = match self.dir(at)?.get(*c) {
                Some(&n) => n,
                None => self.add(at, c, MNode::Dir(BTreeMap::new())),
            };
        }
        Ok(at)
    }

    /// Runs `f` on a copy; keeps the copy only if it succeeded (the tree's all-or-nothing).
    fn atomic<T>(&mut self, f: impl FnOnce(&mut Model) -> MResult<T>) -> MResult<T> {
        let mut copy = self.clone();
        let r = f(&mut copy);
        if r.is_ok() {
            *self = copy;
        }
        r
    }

    fn open(&mut self, path: &str, how: Open) -> MResult<u64> {
        let c = comps(path)?;
        let Some((name, dirs)) = c.split_last() else { return self.opened(0, how) };
        if let Ok(p) = self.walk(dirs)
            && let Some(&found) = self.dir(p)?.get(*name)
        {
            return self.opened(found, how);
        }
        if !how.create {
            let p = self.walk(dirs)?;
            self.dir(p)?;
            return Err(Error::NotFound);
        }
        if how.directory {
            return Err(Error::Invalid);
        }
        self.atomic(|m| {
            let p = if how.parents { m.make_dirs(dirs)? } else { m.walk(dirs)? };
            m.dir(p)?;
            Ok(m.add(p, name, MNode::File(Vec::new())))
        })
    }

    fn opened(&mut self, n: u64, how: Open) -> MResult<u64> {
        if how.create && how.exclusive {
            return Err(Error::Exists);
        }
        if how.directory && !self.is_dir(n) {
            return Err(Error::NotADirectory);
        }
        if how.truncate {
            match self.nodes.get_mut(&n) {
                Some(MNode::File(f)) => f.clear(),
                _ => return Err(Error::IsADirectory),
            }
        }
        Ok(n)
    }

    fn mkdir(&mut self, path: &str, parents: bool) -> MResult<u64> {
        let c = comps(path)?;
        let Some((name, dirs)) = c.split_last() else {
            return if parents { Ok(0) } else { Err(Error::Exists) };
        };
        self.atomic(|m| {
            let p = if parents { m.make_dirs(dirs)? } else { m.walk(dirs)? };
            if let Some(&found) = m.dir(p)?.get(*name) {
                return match (m.is_dir(found), parents) {
                    (true, true) => Ok(found),
                    (false, true) => Err(Error::NotADirectory),
                    _ => Err(Error::Exists),
                };
            }
            Ok(m.add(p, name, MNode::Dir(BTreeMap::new())))
        })
    }

    fn kind_check(&self, n: u64, directory: bool) -> MResult<()> {
        match (self.nodes.get(&n), directory) {
            (Some(MNode::File(_)), false) => Ok(()),
            (Some(MNode::Dir(d)), true) if d.is_empty() => Ok(()),
            (Some(MNode::Dir(_)), true) => Err(Error::NotEmpty),
            (Some(MNode::Dir(_)), false) => Err(Error::IsADirectory),
            (Some(MNode::File(_)), true) => Err(Error::NotADirectory),
            (None, _) => Err(Error::NotFound),
        }
    }

    fn unlink(&mut self, path: &str, directory: bool) -> MResult<()> {
        let c = comps(path)?;
        let Some((name, dirs)) = c.split_last() else { return Err(Error::Invalid) };
        let p = self.walk(dirs)?;
        let n = *self.dir(p)?.get(*name).ok_or(Error::NotFound)?;
        self.kind_check(n, directory)?;
        self.dir_mut(p).remove(*name);
        self.nodes.remove(&n);
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> MResult<()> {
        let f = comps(from)?;
        let t = comps(to)?;
        let fp = self.walk(f.split_last().map_or(&[][..], |(_, d)| d))?;
        let Some(fname) = f.last() else { return Err(Error::Invalid) };
        let moving = *self.dir(fp)?.get(*fname).ok_or(Error::NotFound)?;
        let Some((tname, tdirs)) = t.split_last() else { return Err(Error::Invalid) };
        let tp = self.walk(tdirs)?;
        self.dir(tp)?;
        if self.is_dir(moving) && t.len() > f.len() && t[..f.len()] == f[..] {
            return Err(Error::Invalid);
        }
        if let Some(&target) = self.dir(tp)?.get(*tname) {
            if target == moving {
                return Ok(());
            }
            self.kind_check(target, self.is_dir(moving))?;
            self.nodes.remove(&target);
        }
        self.dir_mut(fp).remove(*fname);
        self.dir_mut(tp).insert(tname.to_string(), moving);
        Ok(())
    }

    fn size(&self, n: u64) -> u64 {
        match &self.nodes[&n] {
            MNode::File(f) => f.len() as u64,
            MNode::Dir(d) => d.len() as u64,
        }
    }

    fn kind(&self, n: u64) -> Kind {
        if self.is_dir(n) { Kind::Directory } else { Kind::File }
    }
}

/// Checks that `fs` holds the model's tree, node for node.
fn same_tree(fs: &Fs, m: &Model, real: NodeId, n: u64) -> Result<(), TestCaseError> {
    let st = fs.stat(real).map_err(|e| TestCaseError::fail(format!("stat: {e}")))?;
    prop_assert_eq!(st.kind, m.kind(n));
    prop_assert_eq!(st.size, m.size(n));
    match &m.nodes[&n] {
        MNode::File(bytes) => {
            let mut buf = vec![0u8; bytes.len() + 1];
            prop_assert_eq!(fs.read(real, 0, &mut buf), Ok(bytes.len()));
            prop_assert_eq!(&buf[..bytes.len()], &bytes[..]);
        }
        MNode::Dir(d) => {
            let entries: Vec<(String, Kind, u64)> =
                fs.entries(real).unwrap().map(|e| (e.name.to_string(), e.kind, e.size)).collect();
            let want: Vec<(String, Kind, u64)> = d.iter().map(|(k, &c)| (k.clone(), m.kind(c), m.size(c))).collect();
            prop_assert_eq!(&entries, &want);
            for (name, &child) in d {
                let id = entry_id(fs, real, name)?;
                same_tree(fs, m, id, child)?;
            }
        }
    }
    Ok(())
}

/// The id of entry `name` of directory `dir`, found through a path from the root.
fn entry_id(fs: &Fs, dir: NodeId, name: &str) -> Result<NodeId, TestCaseError> {
    // Find the directory's path by searching from the root (the tree is small).
    fn find(fs: &Fs, at: NodeId, prefix: &str, want: NodeId) -> Option<String> {
        if at == want {
            return Some(prefix.to_string());
        }
        let names: Vec<String> = fs.entries(at).ok()?.map(|e| e.name.to_string()).collect();
        names.iter().find_map(|n| {
            let p = format!("{prefix}/{n}");
            let id = fs.lookup(&p).ok()?;
            find(fs, id, &p, want)
        })
    }
    let base = find(fs, fs.root(), "", dir).ok_or_else(|| TestCaseError::fail("directory not reachable"))?;
    fs.lookup(&format!("{base}/{name}")).map_err(|e| TestCaseError::fail(format!("lookup: {e}")))
}

#[derive(Clone, Debug)]
enum Op {
    Open(String, Open),
    Write { handle: usize, offset: u64, len: usize, byte: u8 },
    Read { handle: usize, offset: u64, len: usize },
    Mkdir(String, bool),
    Unlink(String, bool),
    Rename(String, String),
    Stat(String),
    StatHandle(usize),
    List(String),
    Truncate(usize),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => prop_oneof![Just("a"), Just("b"), Just("c")].prop_map(String::from),
        1 => prop_oneof![Just(".."), Just("."), Just("x\0")].prop_map(String::from),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (prop::collection::vec(name(), 0..=3), any::<bool>(), any::<bool>()).prop_map(|(names, lead, trail)| {
        let mut p = if lead { "/".to_string() } else { String::new() };
        p.push_str(&names.join("/"));
        if trail {
            p.push('/');
        }
        p
    })
}

fn how() -> impl Strategy<Value = Open> {
    (
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
        any::<bool>(),
    )
        .prop_map(|(create, exclusive, truncate, directory, parents)| Open {
            create,
            exclusive,
            truncate,
            directory,
            parents,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (path(), how()).prop_map(|(p, h)| Op::Open(p, h)),
        6 => (any::<usize>(), prop_oneof![0u64..64, 0u64..16_000], 0usize..600, any::<u8>())
            .prop_map(|(handle, offset, len, byte)| Op::Write { handle, offset, len, byte }),
        2 => (any::<usize>(), 0u64..9000, 0usize..600).prop_map(|(handle, offset, len)| Op::Read { handle, offset, len }),
        3 => (path(), any::<bool>()).prop_map(|(p, parents)| Op::Mkdir(p, parents)),
        2 => (path(), any::<bool>()).prop_map(|(p, d)| Op::Unlink(p, d)),
        2 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => path().prop_map(Op::Stat),
        1 => any::<usize>().prop_map(Op::StatHandle),
        1 => path().prop_map(Op::List),
        1 => any::<usize>().prop_map(Op::Truncate),
    ]
}

/// Runs `ops` on both; `tight`: the budget may refuse where the model succeeds.
fn run(limit: usize, ops: &[Op], tight: bool) -> Result<(), TestCaseError> {
    let mut fs = Fs::new(limit).map_err(|e| TestCaseError::fail(format!("new: {e}")))?;
    let mut m = Model::new();
    let mut handles: Vec<(NodeId, u64)> = vec![(fs.root(), 0)];
    let mut refused = 0;
    let mut succeeded = 0;
    for op in ops {
        let before = m.clone();
        // Each arm: the tree's result and the model's, as comparable values.
        let (real, model): (Result<u64, Error>, Result<u64, Error>) = match op {
            Op::Open(p, h) => {
                let r = fs.open(p, *h);
                let mr = m.open(p, *h);
                if let (Ok(id), Ok(n)) = (r, mr) {
                    handles.push((id, n));
                }
                (r.map(|_| 0), mr.map(|_| 0))
            }
            Op::Write { handle, offset, len, byte } => {
                let (id, n) = handles[handle % handles.len()];
                let data = vec![*byte; *len];
                let mr = match m.nodes.get_mut(&n) {
                    None => Err(Error::Stale),
                    Some(MNode::Dir(_)) => Err(Error::IsADirectory),
                    Some(MNode::File(f)) => {
                        if *len > 0 {
                            let end = *offset as usize + len;
                            if f.len() < end {
                                f.resize(end, 0);
                            }
                            f[*offset as usize..end].fill(*byte);
                        }
                        Ok(0)
                    }
                };
                (fs.write(id, *offset, &data).map(|()| 0), mr)
            }
            Op::Read { handle, offset, len } => {
                let (id, n) = handles[handle % handles.len()];
                let mut buf = vec![0u8; *len];
                let r = fs.read(id, *offset, &mut buf).map(|k| k as u64);
                let mr = match m.nodes.get(&n) {
                    None => Err(Error::Stale),
                    Some(MNode::Dir(_)) => Err(Error::IsADirectory),
                    Some(MNode::File(f)) => {
                        let from = (*offset as usize).min(f.len());
                        let k = (f.len() - from).min(*len);
                        if let Ok(got) = r {
                            prop_assert_eq!(&buf[..got as usize], &f[from..from + k]);
                        }
                        Ok(k as u64)
                    }
                };
                (r, mr)
            }
            Op::Mkdir(p, parents) => {
                let r = fs.mkdir(p, *parents);
                let mr = m.mkdir(p, *parents);
                if let (Ok(id), Ok(n)) = (r, mr) {
                    handles.push((id, n));
                }
                (r.map(|_| 0), mr.map(|_| 0))
            }
            Op::Unlink(p, d) => (fs.unlink(p, *d).map(|()| 0), m.unlink(p, *d).map(|()| 0)),
            Op::Rename(a, b) => (fs.rename(a, b).map(|()| 0), m.rename(a, b).map(|()| 0)),
            Op::Stat(p) => {
                let r = fs.lookup(p).and_then(|id| fs.stat(id)).map(|s| s.size);
                let mr = comps(p).and_then(|c| m.walk(&c)).map(|n| m.size(n));
                (r, mr)
            }
            Op::StatHandle(h) => {
                let (id, n) = handles[h % handles.len()];
                let mr = if m.nodes.contains_key(&n) { Ok(m.size(n)) } else { Err(Error::Stale) };
                (fs.stat(id).map(|s| s.size), mr)
            }
            Op::List(p) => {
                let r = fs.lookup(p).and_then(|id| fs.entries(id).map(|e| e.len() as u64));
                let mr = comps(p).and_then(|c| m.walk(&c)).and_then(|n| m.dir(n).map(|d| d.len() as u64));
                (r, mr)
            }
            Op::Truncate(h) => {
                let (id, n) = handles[h % handles.len()];
                let mr = match m.nodes.get_mut(&n) {
                    None => Err(Error::Stale),
                    Some(MNode::Dir(_)) => Err(Error::IsADirectory),
                    Some(MNode::File(f)) => {
                        f.clear();
                        Ok(0)
                    }
                };
                (fs.truncate(id).map(|()| 0), mr)
            }
        };
        succeeded += usize::from(real.is_ok());
        if tight && real == Err(Error::NoSpace) && model.is_ok() {
            // Refused for room: nothing may have changed.
            m = before;
            refused += 1;
        } else {
            prop_assert_eq!(real, model, "{:?}", op);
        }
        prop_assert_eq!(fs.audit(), Ok(()), "after {:?}", op);
        prop_assert!(fs.used() <= fs.limit(), "used {} > limit {}", fs.used(), fs.limit());
        same_tree(&fs, &m, fs.root(), 0)?;
    }
    // Everything can be removed, whatever the budget, and then the tree still works.
    empty(&mut fs, "")?;
    prop_assert_eq!(fs.nodes(), 1);
    prop_assert_eq!(fs.audit(), Ok(()));
    if std::env::var("MODEL_STATS").is_ok() {
        eprintln!("limit {limit}: {} ops, {succeeded} succeeded, {refused} refused for room", ops.len());
    }
    if limit >= 8192 {
        let f = fs
            .open("/again", Open { create: true, ..Open::default() })
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(fs.write(f, 0, b"still works"), Ok(()));
    }
    Ok(())
}

/// Removes everything under directory `path`.
fn empty(fs: &mut Fs, path: &str) -> Result<(), TestCaseError> {
    let id = fs.lookup(path).unwrap();
    let entries: Vec<(String, Kind)> = fs.entries(id).unwrap().map(|e| (e.name.to_string(), e.kind)).collect();
    for (name, kind) in entries {
        let p = format!("{path}/{name}");
        if kind == Kind::Directory {
            empty(fs, &p)?;
        }
        prop_assert_eq!(fs.unlink(&p, kind == Kind::Directory), Ok(()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tree_behaves_as_the_model(ops in prop::collection::vec(op(), 1..60)) {
        run(1 << 30, &ops, false)?;
    }

    #[test]
    fn a_tight_budget_refuses_cleanly(limit in 1024usize..16_000, ops in prop::collection::vec(op(), 1..80)) {
        run(limit, &ops, true)?;
    }
}
