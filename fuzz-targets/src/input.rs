//! A cursor over fuzz input bytes: fixed-width integers and length-prefixed
//! fields, which never fail (a short input yields zeros and empty slices), so
//! every byte string is a valid input and mutations stay meaningful.

/// Reads fields from the front of a byte string.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts at the first byte of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.rest.len());
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    /// One byte (0 when exhausted).
    pub fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> u16 {
        let mut b = [0u8; 2];
        let got = self.bytes(2);
        b[..got.len()].copy_from_slice(got);
        u16::from_le_bytes(b)
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        let got = self.bytes(4);
        b[..got.len()].copy_from_slice(got);
        u32::from_le_bytes(b)
    }

    /// A little-endian `i64`.
    pub fn i64(&mut self) -> i64 {
        let mut b = [0u8; 8];
        let got = self.bytes(8);
        b[..got.len()].copy_from_slice(got);
        i64::from_le_bytes(b)
    }

    /// A field prefixed by its `u16` length.
    pub fn field16(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    /// A field prefixed by its `u32` length.
    pub fn field32(&mut self) -> &'a [u8] {
        let n = self.u32() as usize;
        self.bytes(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}

/// Writes fields in the layout [`Reader`] reads (for seed generators).
#[derive(Debug, Default, Clone)]
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// An empty input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raw bytes.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.out.extend_from_slice(b);
        self
    }

    /// One byte.
    pub fn u8(self, v: u8) -> Self {
        self.bytes(&[v])
    }

    /// A little-endian `i64`.
    pub fn i64(self, v: i64) -> Self {
        self.bytes(&v.to_le_bytes())
    }

    /// A field prefixed by its `u16` length (truncated to fit).
    pub fn field16(self, b: &[u8]) -> Self {
        let b = &b[..b.len().min(usize::from(u16::MAX))];
        let len = b.len() as u16;
        self.bytes(&len.to_le_bytes()).bytes(b)
    }

    /// A field prefixed by its `u32` length.
    pub fn field32(self, b: &[u8]) -> Self {
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.bytes(&len.to_le_bytes()).bytes(b)
    }

    /// The input.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}
