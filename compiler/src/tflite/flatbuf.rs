//! A minimal, bounds-checked FlatBuffers reader: tables, vectors, strings and scalars read by
//! field index from untrusted bytes. Every read checks its bounds and returns an error instead
//! of panicking, so a truncated or corrupt file is a clear message.
//!
//! Format (FlatBuffers "internals" documentation): a table starts with an `i32` offset back
//! to its vtable; the vtable holds `u16` vtable size, `u16` table size, then one `u16` field
//! offset per field (0: absent). Offsets to tables, vectors and strings are `u32` forward
//! offsets relative to where they are stored. Vectors are a `u32` length followed by elements.

use std::fmt;

/// A reading error: what was being read and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FbError(pub String);

impl fmt::Display for FbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, FbError>;

fn err<T>(what: &str, at: usize) -> Result<T> {
    Err(FbError(format!("{what} at byte {at} is outside the file")))
}

/// The whole buffer.
#[derive(Clone, Copy)]
pub struct Buf<'a>(pub &'a [u8]);

impl<'a> Buf<'a> {
    fn bytes(&self, at: usize, n: usize, what: &str) -> Result<&'a [u8]> {
        match at.checked_add(n) {
            Some(end) if end <= self.0.len() => Ok(&self.0[at..end]),
            _ => err(what, at),
        }
    }

    pub fn u8(&self, at: usize) -> Result<u8> {
        Ok(self.bytes(at, 1, "a byte")?[0])
    }

    pub fn u16(&self, at: usize) -> Result<u16> {
        let b = self.bytes(at, 2, "a 16-bit value")?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&self, at: usize) -> Result<u32> {
        let b = self.bytes(at, 4, "a 32-bit value")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i32(&self, at: usize) -> Result<i32> {
        Ok(self.u32(at)? as i32)
    }

    pub fn i64(&self, at: usize) -> Result<i64> {
        let b = self.bytes(at, 8, "a 64-bit value")?;
        Ok(i64::from_le_bytes(b.try_into().unwrap_or_default()))
    }

    pub fn f32(&self, at: usize) -> Result<f32> {
        Ok(f32::from_bits(self.u32(at)?))
    }

    /// Follow the forward offset stored at `at`.
    fn follow(&self, at: usize) -> Result<usize> {
        let off = self.u32(at)? as usize;
        at.checked_add(off)
            .filter(|&t| t < self.0.len())
            .map_or_else(|| err("an offset", at), Ok)
    }

    /// The root table.
    pub fn root(&self) -> Result<Table<'a>> {
        let at = self.follow(0)?;
        Table::at(*self, at)
    }
}

/// A table: its position and its vtable.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: Buf<'a>,
    at: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    fn at(buf: Buf<'a>, at: usize) -> Result<Table<'a>> {
        let back = buf.i32(at)?;
        let vtable = (at as i64 - i64::from(back)) as usize;
        let vtable_len = buf.u16(vtable)? as usize;
        if vtable_len < 4
            || vtable
                .checked_add(vtable_len)
                .is_none_or(|e| e > buf.0.len())
        {
            return err("a vtable", vtable);
        }
        Ok(Table {
            buf,
            at,
            vtable,
            vtable_len,
        })
    }

    /// The byte position of field `index`, if present.
    fn field(&self, index: usize) -> Result<Option<usize>> {
        let slot = 4 + 2 * index;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = self.buf.u16(self.vtable + slot)? as usize;
        Ok((off != 0).then_some(self.at + off))
    }

    pub fn u8_or(&self, index: usize, default: u8) -> Result<u8> {
        self.field(index)?.map_or(Ok(default), |at| self.buf.u8(at))
    }

    pub fn bool_or(&self, index: usize, default: bool) -> Result<bool> {
        Ok(self.u8_or(index, u8::from(default))? != 0)
    }

    pub fn i32_or(&self, index: usize, default: i32) -> Result<i32> {
        self.field(index)?
            .map_or(Ok(default), |at| self.buf.i32(at))
    }

    pub fn u32_or(&self, index: usize, default: u32) -> Result<u32> {
        self.field(index)?
            .map_or(Ok(default), |at| self.buf.u32(at))
    }

    pub fn f32_or(&self, index: usize, default: f32) -> Result<f32> {
        self.field(index)?
            .map_or(Ok(default), |at| self.buf.f32(at))
    }

    /// A sub-table.
    pub fn table(&self, index: usize) -> Result<Option<Table<'a>>> {
        match self.field(index)? {
            Some(at) => Ok(Some(Table::at(self.buf, self.buf.follow(at)?)?)),
            None => Ok(None),
        }
    }

    /// A vector: its element count and the position of its first element.
    pub fn vector(&self, index: usize) -> Result<Option<Vector<'a>>> {
        let Some(at) = self.field(index)? else {
            return Ok(None);
        };
        let start = self.buf.follow(at)?;
        let len = self.buf.u32(start)? as usize;
        Ok(Some(Vector {
            buf: self.buf,
            first: start + 4,
            len,
        }))
    }

    pub fn string(&self, index: usize) -> Result<Option<String>> {
        Ok(self
            .vector(index)?
            .map(|v| v.bytes())
            .transpose()?
            .map(|b| String::from_utf8_lossy(b).into_owned()))
    }
}

/// A vector of scalars or of offsets to tables.
#[derive(Clone, Copy)]
pub struct Vector<'a> {
    buf: Buf<'a>,
    first: usize,
    pub len: usize,
}

impl<'a> Vector<'a> {
    /// The elements as bytes (for `[ubyte]` and strings).
    pub fn bytes(&self) -> Result<&'a [u8]> {
        self.buf.bytes(self.first, self.len, "a byte vector")
    }

    fn elem(&self, i: usize, size: usize) -> Result<usize> {
        // Check the whole vector once per element read; lengths are untrusted.
        self.buf
            .bytes(self.first, self.len.saturating_mul(size), "a vector")?;
        Ok(self.first + i * size)
    }

    pub fn i32s(&self) -> Result<Vec<i32>> {
        (0..self.len)
            .map(|i| self.buf.i32(self.elem(i, 4)?))
            .collect()
    }

    pub fn i64s(&self) -> Result<Vec<i64>> {
        (0..self.len)
            .map(|i| self.buf.i64(self.elem(i, 8)?))
            .collect()
    }

    pub fn f32s(&self) -> Result<Vec<f32>> {
        (0..self.len)
            .map(|i| self.buf.f32(self.elem(i, 4)?))
            .collect()
    }

    /// The tables of a vector of tables.
    pub fn tables(&self) -> Result<Vec<Table<'a>>> {
        (0..self.len)
            .map(|i| {
                let at = self.elem(i, 4)?;
                Table::at(self.buf, self.buf.follow(at)?)
            })
            .collect()
    }
}
