//! A compact, exact byte encoding of the modelled state, for the exhaustive search's queues
//! and fingerprints: bytes and booleans as one byte, wider integers as LEB128 (signed ones
//! zigzagged), sequences with their length first, enums by variant index. Every field is
//! written, in declaration order (the [`pack_struct!`] impls destructure without `..`, so a
//! new field does not compile until it is packed), and the encoding is canonical: two values
//! are equal exactly when their encodings are, which is what lets a fingerprint be taken over
//! the bytes. Written by hand rather than through serde because the search encodes every
//! state it reaches and decodes every state it settles; this is the hot path.

/// A value with a compact, canonical byte encoding.
pub trait Pack: Sized {
    /// Append the encoding to `out`.
    fn pack(&self, out: &mut Vec<u8>);
    /// Read one value back. Panics on bytes [`Pack::pack`] did not write: they are this
    /// process's own, never input.
    fn unpack(r: &mut Reader<'_>) -> Self;
}

/// A cursor over encoded bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Read from the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }
    /// The next byte.
    #[inline]
    pub fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }
    /// The next LEB128 integer.
    #[inline]
    pub fn uleb(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
            shift += 7;
        }
    }
    /// How many bytes were read.
    pub fn at(&self) -> usize {
        self.at
    }
    /// Whether every byte was read.
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Append `v` as LEB128.
#[inline]
pub fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decode a whole value that [`Pack::pack`] wrote into `bytes`.
pub fn unpack_all<T: Pack>(bytes: &[u8]) -> T {
    let mut r = Reader::new(bytes);
    let v = T::unpack(&mut r);
    assert!(r.done(), "packed state has trailing bytes");
    v
}

impl Pack for u8 {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        r.byte()
    }
}

impl Pack for i8 {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        r.byte() as i8
    }
}

impl Pack for bool {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => false,
            1 => true,
            b => panic!("packed bool {b}"),
        }
    }
}

macro_rules! pack_unsigned {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                put_uleb(out, *self as u64);
            }
            #[inline]
            fn unpack(r: &mut Reader<'_>) -> Self {
                <$t>::try_from(r.uleb()).expect("packed integer in range")
            }
        }
    )*};
}
pack_unsigned!(u16, u32, u64, usize);

macro_rules! pack_signed {
    ($($t:ty),*) => {$(
        impl Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                let v = i64::from(*self);
                put_uleb(out, ((v << 1) ^ (v >> 63)) as u64);
            }
            #[inline]
            fn unpack(r: &mut Reader<'_>) -> Self {
                let z = r.uleb();
                let v = (z >> 1) as i64 ^ -((z & 1) as i64);
                <$t>::try_from(v).expect("packed integer in range")
            }
        }
    )*};
}
pack_signed!(i32, i64);

impl<T: Pack> Pack for Option<T> {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.pack(out);
            }
        }
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        match r.byte() {
            0 => None,
            1 => Some(T::unpack(r)),
            b => panic!("packed option tag {b}"),
        }
    }
}

/// A sequence: its length, then each item.
fn pack_seq<T: Pack>(items: &[T], out: &mut Vec<u8>) {
    put_uleb(out, items.len() as u64);
    for v in items {
        v.pack(out);
    }
}

impl<T: Pack> Pack for Vec<T> {
    fn pack(&self, out: &mut Vec<u8>) {
        pack_seq(self, out);
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        let n = r.uleb() as usize;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::unpack(r));
        }
        v
    }
}

impl<A: smallvec::Array> Pack for smallvec::SmallVec<A>
where
    A::Item: Pack,
{
    fn pack(&self, out: &mut Vec<u8>) {
        pack_seq(self, out);
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        let n = r.uleb() as usize;
        let mut v = smallvec::SmallVec::with_capacity(n);
        for _ in 0..n {
            v.push(A::Item::unpack(r));
        }
        v
    }
}

impl<T: Pack + Copy + Default, const N: usize> Pack for [T; N] {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        for v in self {
            v.pack(out);
        }
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        let mut a = [T::default(); N];
        for v in &mut a {
            *v = T::unpack(r);
        }
        a
    }
}

impl<A: Pack, B: Pack> Pack for (A, B) {
    #[inline]
    fn pack(&self, out: &mut Vec<u8>) {
        self.0.pack(out);
        self.1.pack(out);
    }
    #[inline]
    fn unpack(r: &mut Reader<'_>) -> Self {
        let a = A::unpack(r);
        (a, B::unpack(r))
    }
}

impl Pack for String {
    fn pack(&self, out: &mut Vec<u8>) {
        put_uleb(out, self.len() as u64);
        out.extend_from_slice(self.as_bytes());
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        let n = r.uleb() as usize;
        let s = String::from_utf8(r.bytes[r.at..r.at + n].to_vec()).expect("packed UTF-8");
        r.at += n;
        s
    }
}

impl<K: Pack + Ord, V: Pack> Pack for std::collections::BTreeMap<K, V> {
    fn pack(&self, out: &mut Vec<u8>) {
        put_uleb(out, self.len() as u64);
        for (k, v) in self {
            k.pack(out);
            v.pack(out);
        }
    }
    fn unpack(r: &mut Reader<'_>) -> Self {
        let n = r.uleb() as usize;
        (0..n)
            .map(|_| {
                let k = K::unpack(r);
                (k, V::unpack(r))
            })
            .collect()
    }
}

/// [`Pack`] for a struct, field by field in the order given, which must name every field (the
/// encoder destructures without `..`).
#[macro_export]
macro_rules! pack_struct {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::pack::Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                $( $crate::pack::Pack::pack($f, out); )*
            }
            #[inline]
            fn unpack(r: &mut $crate::pack::Reader<'_>) -> Self {
                $t { $( $f: $crate::pack::Pack::unpack(r) ),* }
            }
        }
    };
}

/// [`Pack`] for a field-less enum as its index in a table of every variant (`$all`, which
/// must list them in declaration order; the tests check it).
#[macro_export]
macro_rules! pack_enum {
    ($t:ty, $all:expr) => {
        impl $crate::pack::Pack for $t {
            #[inline]
            fn pack(&self, out: &mut Vec<u8>) {
                out.push(*self as u8);
            }
            #[inline]
            fn unpack(r: &mut $crate::pack::Reader<'_>) -> Self {
                $all[r.byte() as usize]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round<T: Pack + PartialEq + std::fmt::Debug>(v: T) {
        let mut b = Vec::new();
        v.pack(&mut b);
        assert_eq!(unpack_all::<T>(&b), v);
    }

    #[test]
    fn integers_round_trip() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            round(v);
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX] {
            round(v);
        }
        for v in [0i32, -1, 63, -64, 64, i32::MIN, i32::MAX] {
            round(v);
        }
        round(-3i8);
        round(Some(vec![(1u8, true), (2, false)]));
        round(String::from("mm->mmap"));
    }

    #[test]
    fn small_values_take_one_byte() {
        let mut b = Vec::new();
        127u64.pack(&mut b);
        (-64i32).pack(&mut b);
        assert_eq!(b.len(), 2);
    }
}
