//! A small pickle reader for what `torch.save` writes (protocol 2, plus the protocol 3–5 opcodes a
//! newer pickler may use). It builds an object graph and never runs code: `GLOBAL` names a callable,
//! `REDUCE`/`NEWOBJ` record "callable(args)" unevaluated, persistent ids are recorded for the caller
//! (torch.rs) to resolve. The one evaluation done here is `collections.OrderedDict()`, which becomes a
//! dict, because a torch state dict is one and is filled by `SETITEMS` afterwards.
//!
//! Why not a crate: `serde-pickle` rejects persistent ids (`BINPERSID`), which every torch tensor
//! uses; `repugnant-pickle` is a single 0.0.1 release; candle's reader comes with all of candle.
//!
//! Objects live in an arena and are referred to by index, so memo gets and `DUP` copy an index, not a
//! tree: memory stays linear in the input, and a malicious pickle cannot blow it up. Every read is
//! bounds-checked; every problem is an error naming the byte offset.

use std::collections::HashMap;

pub type Id = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    /// `module.name`, e.g. `torch._utils._rebuild_tensor_v2`.
    Global { module: String, name: String },
    /// `callable(*args)` (`REDUCE`) or `cls.__new__(cls, *args)` (`NEWOBJ`), with the `BUILD` state if any.
    Call { callable: Id, args: Id, state: Option<Id> },
    /// The object a persistent id stands for (torch: a storage).
    Persistent(Id),
}

/// A parsed pickle: the arena and the object `STOP` returned.
#[derive(Debug)]
pub struct Pickle {
    pub objs: Vec<Obj>,
    pub root: Id,
}

impl Pickle {
    pub fn get(&self, id: Id) -> &Obj {
        &self.objs[id]
    }

    pub fn as_str(&self, id: Id) -> Option<&str> {
        match self.get(id) {
            Obj::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self, id: Id) -> Option<i64> {
        match self.get(id) {
            Obj::Int(i) => Some(*i),
            Obj::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    pub fn as_tuple(&self, id: Id) -> Option<&[Id]> {
        match self.get(id) {
            Obj::Tuple(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_global(&self, id: Id) -> Option<(&str, &str)> {
        match self.get(id) {
            Obj::Global { module, name } => Some((module, name)),
            _ => None,
        }
    }

    /// A short description of an object for error messages.
    pub fn describe(&self, id: Id) -> String {
        match self.get(id) {
            Obj::None => "None".into(),
            Obj::Bool(b) => format!("bool {b}"),
            Obj::Int(i) => format!("int {i}"),
            Obj::Float(f) => format!("float {f}"),
            Obj::Str(s) => format!("str {s:?}"),
            Obj::Bytes(b) => format!("{} bytes", b.len()),
            Obj::Tuple(t) => format!("tuple of {}", t.len()),
            Obj::List(l) => format!("list of {}", l.len()),
            Obj::Dict(d) => format!("dict of {}", d.len()),
            Obj::Global { module, name } => format!("{module}.{name}"),
            Obj::Call { callable, .. } => match self.as_global(*callable) {
                Some((m, n)) => format!("a {m}.{n}(…) object"),
                None => "an object".into(),
            },
            Obj::Persistent(_) => "a persistent reference".into(),
        }
    }
}

/// A pickle problem at byte `offset` of the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct PickleError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for PickleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pickle byte {}: {}", self.offset, self.message)
    }
}

/// Runs the pickle program in `data` and returns the object graph it builds.
pub fn parse(data: &[u8]) -> Result<Pickle, PickleError> {
    Machine { data, pos: 0, op_at: 0, objs: Vec::new(), stack: Vec::new(), marks: Vec::new(), memo: HashMap::new() }
        .run()
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of the opcode being executed, for error messages.
    op_at: usize,
    objs: Vec<Obj>,
    stack: Vec<Id>,
    /// Stack heights at each `MARK`.
    marks: Vec<usize>,
    memo: HashMap<u32, Id>,
}

impl<'a> Machine<'a> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError { offset: self.op_at, message: message.into() })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        match self.pos.checked_add(n).filter(|&end| end <= self.data.len()) {
            Some(end) => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => self.err(format!("truncated: needs {n} more bytes, {} left", self.data.len() - self.pos)),
        }
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, PickleError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    /// A length prefix, refused when it points past the end (so no huge allocation on bad input).
    fn len_bytes(&mut self, len: u64) -> Result<&'a [u8], PickleError> {
        match usize::try_from(len) {
            Ok(n) => self.take(n),
            Err(_) => self.err(format!("length {len} is too large")),
        }
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return self.err("truncated: unterminated text line");
        };
        let line = self.take(n + 1)?;
        std::str::from_utf8(&line[..n]).or_else(|_| self.err("text line is not UTF-8"))
    }

    fn utf8(&self, bytes: &[u8]) -> Result<String, PickleError> {
        String::from_utf8(bytes.to_vec()).or_else(|_| self.err("string is not valid UTF-8"))
    }

    fn new_obj(&mut self, obj: Obj) -> Id {
        self.objs.push(obj);
        self.objs.len() - 1
    }

    fn push(&mut self, obj: Obj) {
        let id = self.new_obj(obj);
        self.stack.push(id);
    }

    fn pop(&mut self) -> Result<Id, PickleError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.err("stack underflow (pop across a MARK)");
        }
        match self.stack.pop() {
            Some(id) => Ok(id),
            None => self.err("stack underflow"),
        }
    }

    fn top(&self) -> Result<Id, PickleError> {
        match self.stack.last() {
            Some(&id) => Ok(id),
            None => self.err("stack underflow"),
        }
    }

    /// Everything above the last MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Id>, PickleError> {
        let Some(mark) = self.marks.pop() else {
            return self.err("no MARK to pop to");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<Id>, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() < floor + n {
            return self.err("stack underflow");
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let id = self.top()?;
        self.memo.insert(key, id);
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), PickleError> {
        match self.memo.get(&key) {
            Some(&id) => {
                self.stack.push(id);
                Ok(())
            }
            None => self.err(format!("memo key {key} was never stored")),
        }
    }

    fn set_items(&mut self, items: Vec<Id>) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return self.err("SETITEMS with an odd number of items");
        }
        let dict = self.top()?;
        match &mut self.objs[dict] {
            Obj::Dict(entries) => {
                entries.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])));
                Ok(())
            }
            _ => self.err("SETITEM(S) on something that is not a dict"),
        }
    }

    fn append(&mut self, items: Vec<Id>) -> Result<(), PickleError> {
        let list = self.top()?;
        match &mut self.objs[list] {
            Obj::List(l) => {
                l.extend(items);
                Ok(())
            }
            _ => self.err("APPEND(S) on something that is not a list"),
        }
    }

    fn call(&mut self, callable: Id, args: Id) -> Obj {
        let ordered_dict = matches!(self.objs.get(callable), Some(Obj::Global { module, name })
            if module == "collections" && name == "OrderedDict");
        let no_args = matches!(self.objs.get(args), Some(Obj::Tuple(a)) if a.is_empty());
        if ordered_dict && no_args {
            Obj::Dict(Vec::new())
        } else {
            Obj::Call { callable, args, state: None }
        }
    }

    fn run(mut self) -> Result<Pickle, PickleError> {
        loop {
            self.op_at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    // PROTO
                    let v = self.u8()?;
                    if v > 5 {
                        return self.err(format!("pickle protocol {v} is not supported (at most 5)"));
                    }
                }
                0x95 => {
                    // FRAME: a length hint only
                    self.u64()?;
                }
                b'.' => {
                    // STOP
                    let root = self.pop()?;
                    return Ok(Pickle { objs: self.objs, root });
                }
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let id = self.top()?;
                    self.stack.push(id);
                }
                b'N' => self.push(Obj::None),
                0x88 => self.push(Obj::Bool(true)),
                0x89 => self.push(Obj::Bool(false)),
                b'J' => {
                    let v = self.u32()? as i32;
                    self.push(Obj::Int(v as i64));
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Obj::Int(v as i64));
                }
                b'M' => {
                    let b = self.take(2)?;
                    self.push(Obj::Int(u16::from_le_bytes([b[0], b[1]]) as i64));
                }
                0x8a | 0x8b => {
                    // LONG1 / LONG4: little-endian two's complement of the given length
                    let n = if op == 0x8a { self.u8()? as u64 } else { self.u32()? as u64 };
                    let bytes = self.len_bytes(n)?;
                    if bytes.len() > 8 {
                        return self.err(format!("integer of {} bytes does not fit in 64 bits", bytes.len()));
                    }
                    let mut v: i64 = 0;
                    for (i, &b) in bytes.iter().enumerate() {
                        v |= (b as i64) << (8 * i);
                    }
                    if let Some(&last) = bytes.last() {
                        if last & 0x80 != 0 && bytes.len() < 8 {
                            v -= 1i64 << (8 * bytes.len());
                        }
                    }
                    self.push(Obj::Int(v));
                }
                b'G' => {
                    let b = self.take(8)?;
                    self.push(Obj::Float(f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])));
                }
                b'X' | 0x8c | 0x8d => {
                    // BINUNICODE / SHORT_BINUNICODE / BINUNICODE8
                    let n = match op {
                        b'X' => self.u32()? as u64,
                        0x8c => self.u8()? as u64,
                        _ => self.u64()?,
                    };
                    let bytes = self.len_bytes(n)?;
                    let s = self.utf8(bytes)?;
                    self.push(Obj::Str(s));
                }
                b'B' | b'C' | 0x8e => {
                    // BINBYTES / SHORT_BINBYTES / BINBYTES8
                    let n = match op {
                        b'B' => self.u32()? as u64,
                        b'C' => self.u8()? as u64,
                        _ => self.u64()?,
                    };
                    let bytes = self.len_bytes(n)?.to_vec();
                    self.push(Obj::Bytes(bytes));
                }
                b')' => self.push(Obj::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items));
                }
                0x85..=0x87 => {
                    let items = self.pop_n((op - 0x84) as usize)?;
                    self.push(Obj::Tuple(items));
                }
                b']' => self.push(Obj::List(Vec::new())),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items));
                }
                b'a' => {
                    let item = self.pop()?;
                    self.append(vec![item])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b'}' => self.push(Obj::Dict(Vec::new())),
                b'd' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Dict(Vec::new()));
                    self.set_items(items)?;
                }
                b's' => {
                    let items = self.pop_n(2)?;
                    self.set_items(items)?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.push(Obj::Global { module, name });
                }
                0x93 => {
                    // STACK_GLOBAL
                    let parts = self.pop_n(2)?;
                    let (Obj::Str(module), Obj::Str(name)) = (&self.objs[parts[0]], &self.objs[parts[1]]) else {
                        return self.err("STACK_GLOBAL needs two strings");
                    };
                    let g = Obj::Global { module: module.clone(), name: name.clone() };
                    self.push(g);
                }
                b'R' | 0x81 => {
                    // REDUCE / NEWOBJ
                    let parts = self.pop_n(2)?;
                    if !matches!(self.objs[parts[1]], Obj::Tuple(_)) {
                        return self.err("REDUCE/NEWOBJ arguments are not a tuple");
                    }
                    let obj = self.call(parts[0], parts[1]);
                    self.push(obj);
                }
                b'b' => {
                    // BUILD: obj.__setstate__(state); a dict's state (OrderedDict metadata) is dropped
                    let state = self.pop()?;
                    let target = self.top()?;
                    match &mut self.objs[target] {
                        Obj::Call { state: s, .. } => *s = Some(state),
                        Obj::Dict(_) => {}
                        _ => return self.err("BUILD on an object that takes no state"),
                    }
                }
                b'Q' => {
                    // BINPERSID
                    let pid = self.pop()?;
                    self.push(Obj::Persistent(pid));
                }
                b'P' => {
                    // PERSID: the id is a text line
                    let s = self.line()?.to_string();
                    let pid = self.new_obj(Obj::Str(s));
                    self.push(Obj::Persistent(pid));
                }
                b'q' => {
                    let k = self.u8()? as u32;
                    self.memo_put(k)?;
                }
                b'r' => {
                    let k = self.u32()?;
                    self.memo_put(k)?;
                }
                0x94 => {
                    // MEMOIZE
                    let k = self.memo.len() as u32;
                    self.memo_put(k)?;
                }
                b'h' => {
                    let k = self.u8()? as u32;
                    self.memo_get(k)?;
                }
                b'j' => {
                    let k = self.u32()?;
                    self.memo_get(k)?;
                }
                other => return self.err(format!("unsupported pickle opcode 0x{other:02x}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_program() {
        // {'a': (1, -2, 300, 'x'), 'b': [True, None, 1.5]} as protocol 2 would write it (hand-assembled).
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
        p.extend([b'X', 1, 0, 0, 0, b'a']);
        p.extend([b'(', b'K', 1, b'J']);
        p.extend((-2i32).to_le_bytes());
        p.extend([b'M', 0x2c, 0x01, 0x8c, 1, b'x', b't']);
        p.extend([0x8c, 1, b'b', b']', b'q', 1, b'(', 0x88, b'N', b'G']);
        p.extend(1.5f64.to_be_bytes());
        p.extend([b'e', b'u', b'.']);
        let pk = parse(&p).unwrap();
        let Obj::Dict(entries) = pk.get(pk.root) else { panic!("root {:?}", pk.get(pk.root)) };
        assert_eq!(entries.len(), 2);
        assert_eq!(pk.as_str(entries[0].0), Some("a"));
        let t = pk.as_tuple(entries[0].1).unwrap();
        let ints: Vec<_> = t[..3].iter().map(|&i| pk.as_int(i).unwrap()).collect();
        assert_eq!(ints, vec![1, -2, 300]);
        assert_eq!(pk.as_str(t[3]), Some("x"));
        let Obj::List(l) = pk.get(entries[1].1) else { panic!() };
        assert_eq!(l.iter().map(|&i| pk.get(i).clone()).collect::<Vec<_>>(), vec![
            Obj::Bool(true),
            Obj::None,
            Obj::Float(1.5)
        ]);
    }

    #[test]
    fn long1_sign_and_memo_sharing() {
        // LONG1 of -1 (ff), LONG1 of 255 (ff 00), then BINPUT / BINGET share one object.
        let p = [0x80, 2, 0x8a, 1, 0xff, 0x8a, 2, 0xff, 0x00, 0x86, b'q', 7, b'h', 7, 0x86, b'.'];
        let pk = parse(&p).unwrap();
        let outer = pk.as_tuple(pk.root).unwrap();
        assert_eq!(outer[0], outer[1], "memo get copies the reference");
        let inner = pk.as_tuple(outer[0]).unwrap();
        assert_eq!((pk.as_int(inner[0]), pk.as_int(inner[1])), (Some(-1), Some(255)));
    }

    #[test]
    fn ordered_dict_becomes_a_dict_and_build_is_accepted() {
        let mut p = vec![0x80, 2, b'c'];
        p.extend(b"collections\nOrderedDict\n");
        p.extend([b')', b'R', 0x8c, 1, b'k', b'K', 5, b's', b'}', b'b', b'.']);
        let pk = parse(&p).unwrap();
        let Obj::Dict(e) = pk.get(pk.root) else { panic!() };
        assert_eq!((pk.as_str(e[0].0), pk.as_int(e[0].1)), (Some("k"), Some(5)));
    }

    #[test]
    fn errors_name_the_offset() {
        let e = parse(&[0x80, 2, b'X', 200, 0, 0, 0, b'a']).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("truncated"), "{e}");
        let e = parse(&[0x80, 2, b'h', 3]).unwrap_err();
        assert!(e.message.contains("memo key 3"), "{e}");
        let e = parse(&[0x80, 2, b'.']).unwrap_err();
        assert!(e.message.contains("underflow"), "{e}");
        let e = parse(&[0x80, 2, 0xfe]).unwrap_err();
        assert!(e.message.contains("opcode 0xfe"), "{e}");
        let e = parse(&[0x80, 2, b'K', 1]).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        // A pop may not reach below a MARK.
        let e = parse(&[0x80, 2, b'K', 1, b'(', b'0', b'.']).unwrap_err();
        assert!(e.message.contains("MARK"), "{e}");
        // A huge declared length is refused before any allocation.
        let e = parse(&[0x80, 2, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).unwrap_err();
        assert!(e.message.contains("truncated") || e.message.contains("too large"), "{e}");
    }

    #[test]
    fn self_referencing_containers_do_not_hang() {
        // d = {}; d['x'] = d
        let p = [0x80, 2, b'}', b'q', 0, 0x8c, 1, b'x', b'h', 0, b's', b'.'];
        let pk = parse(&p).unwrap();
        let Obj::Dict(e) = pk.get(pk.root) else { panic!() };
        assert_eq!(e[0].1, pk.root);
        assert_eq!(pk.describe(pk.root), "dict of 1");
    }
}
