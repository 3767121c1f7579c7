//! Hashing structured data into the trace hash, without formatting it first.
//!
//! The trace hash must be the same for the same run on every platform, so what goes into it
//! must not depend on the platform or on a library's internals. Hashing each event's
//! `Display` text met that, but formatting every node event cost more than most of the
//! simulation. [`hash_serialized`] walks a value through its `serde::Serialize`
//! implementation instead (which the trace types have anyway, for export) and feeds the
//! fixed-width numbers, strings and variant indices it meets straight into [`Fnv64`].
//!
//! Every datum is written with a one-byte tag, integers widened to 64 bits (never `usize`,
//! so wasm32 and x86_64 agree) and written as LEB128 varints (most are small ids, slots and
//! rounds: one byte instead of eight, and FNV costs a multiply per byte), signed ones
//! zig-zagged, and strings and byte strings with their length first, so that two
//! different values cannot feed the same bytes by running into each other ("ab","c"
//! against "a","bc"). Field names are not hashed: the variant index
//! and the field order of the types say the same, more cheaply.

use serde::ser::{self, Serialize};
use std::fmt;
use synod_core::kv::Fnv64;

/// Feeds `value`'s serialized structure into `h`.
pub fn hash_serialized<T: Serialize + ?Sized>(h: &mut Fnv64, value: &T) {
    value
        .serialize(Hasher(h))
        .expect("hashing a value cannot fail");
}

/// The only error: serde requires one, and `Serialize` implementations may raise a custom
/// one (the trace types do not).
#[derive(Debug)]
pub struct Never(String);

impl fmt::Display for Never {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: fmt::Display>(msg: T) -> Never {
        Never(msg.to_string())
    }
}

/// A serializer whose output is the hash state.
struct Hasher<'a>(&'a mut Fnv64);

/// Tags that keep one kind of datum from being read as another.
mod tag {
    pub const BOOL: u8 = 1;
    pub const INT: u8 = 2;
    pub const UINT: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const STR: u8 = 5;
    pub const BYTES: u8 = 6;
    pub const NONE: u8 = 7;
    pub const SOME: u8 = 8;
    pub const UNIT: u8 = 9;
    pub const VARIANT: u8 = 10;
    pub const SEQ: u8 = 11;
    pub const MAP: u8 = 12;
    pub const STRUCT: u8 = 13;
    pub const END: u8 = 14;
}

impl<'a> Hasher<'a> {
    fn tag(&mut self, t: u8) {
        self.0.write(&[t]);
    }

    fn uint(&mut self, n: u64) {
        varint(self.0, tag::UINT, n);
    }

    fn int(&mut self, n: i64) {
        // Zig-zag: small magnitudes of either sign stay short.
        varint(self.0, tag::INT, ((n << 1) ^ (n >> 63)) as u64);
    }

    fn bytes(&mut self, t: u8, b: &[u8]) {
        varint(self.0, t, b.len() as u64);
        self.0.write(b);
    }

    fn variant(&mut self, index: u32) {
        varint(self.0, tag::VARIANT, u64::from(index));
    }

    fn compound(self, t: u8, len: Option<usize>) -> Compound<'a> {
        let h = self.0;
        // The length, when serde knows it up front; the end tag closes it either way.
        varint(h, t, len.map_or(u64::MAX, |n| n as u64));
        Compound(h)
    }
}

/// Writes a tag and then `n` as a LEB128 varint (seven bits a byte, low bits first, the
/// high bit set on every byte but the last), in one call.
fn varint(h: &mut Fnv64, tag: u8, mut n: u64) {
    let mut buf = [0u8; 11];
    buf[0] = tag;
    let mut len = 1;
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf[len] = low;
            len += 1;
            break;
        }
        buf[len] = low | 0x80;
        len += 1;
    }
    h.write(&buf[..len]);
}

/// Sequences, tuples, maps and structs: their elements in order, then an end tag.
struct Compound<'a>(&'a mut Fnv64);

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        value.serialize(Hasher(self.0))
    }

    fn end(self) -> Result<(), Never> {
        self.0.write(&[tag::END]);
        Ok(())
    }
}

impl<'a> ser::Serializer for Hasher<'a> {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(mut self, v: bool) -> Result<(), Never> {
        self.tag(tag::BOOL);
        self.0.write(&[u8::from(v)]);
        Ok(())
    }
    fn serialize_i8(mut self, v: i8) -> Result<(), Never> {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i16(mut self, v: i16) -> Result<(), Never> {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i32(mut self, v: i32) -> Result<(), Never> {
        self.int(i64::from(v));
        Ok(())
    }
    fn serialize_i64(mut self, v: i64) -> Result<(), Never> {
        self.int(v);
        Ok(())
    }
    fn serialize_u8(mut self, v: u8) -> Result<(), Never> {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u16(mut self, v: u16) -> Result<(), Never> {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u32(mut self, v: u32) -> Result<(), Never> {
        self.uint(u64::from(v));
        Ok(())
    }
    fn serialize_u64(mut self, v: u64) -> Result<(), Never> {
        self.uint(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Never> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(mut self, v: f64) -> Result<(), Never> {
        self.tag(tag::FLOAT);
        self.0.write(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Never> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(mut self, v: &str) -> Result<(), Never> {
        self.bytes(tag::STR, v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(mut self, v: &[u8]) -> Result<(), Never> {
        self.bytes(tag::BYTES, v);
        Ok(())
    }
    fn serialize_none(mut self) -> Result<(), Never> {
        self.tag(tag::NONE);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(mut self, value: &T) -> Result<(), Never> {
        self.tag(tag::SOME);
        value.serialize(self)
    }
    fn serialize_unit(mut self) -> Result<(), Never> {
        self.tag(tag::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Never> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        mut self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), Never> {
        self.variant(index);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.variant(index);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, Never> {
        Ok(self.compound(tag::SEQ, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Never> {
        Ok(self.compound(tag::SEQ, Some(len)))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Never> {
        Ok(self.compound(tag::STRUCT, Some(len)))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Never> {
        self.variant(index);
        Ok(self.compound(tag::STRUCT, Some(len)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, Never> {
        Ok(self.compound(tag::MAP, len))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Never> {
        Ok(self.compound(tag::STRUCT, Some(len)))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Never> {
        self.variant(index);
        Ok(self.compound(tag::STRUCT, Some(len)))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Never> {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        self.element(value)
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.element(value)
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), Never> {
        // A skipped field still counts, or (None, x) and (x) could collide.
        self.0.write(&[tag::NONE]);
        Ok(())
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        self.element(value)
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), Never> {
        self.0.write(&[tag::NONE]);
        Ok(())
    }
    fn end(self) -> Result<(), Never> {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn hash<T: Serialize>(v: &T) -> u64 {
        let mut h = Fnv64::new();
        hash_serialized(&mut h, v);
        h.finish()
    }

    #[derive(Serialize)]
    #[serde(tag = "event")]
    enum Tagged {
        A { x: u8, s: String },
        B { x: u8 },
    }

    #[test]
    fn neighbouring_strings_do_not_run_into_each_other() {
        assert_ne!(hash(&("ab", "c")), hash(&("a", "bc")));
        assert_ne!(hash(&vec!["ab"]), hash(&vec!["a", "b"]));
    }

    #[test]
    fn variants_fields_and_options_are_told_apart() {
        let a = Tagged::A {
            x: 1,
            s: String::new(),
        };
        assert_ne!(hash(&a), hash(&Tagged::B { x: 1 }));
        assert_ne!(hash(&Some(0u8)), hash(&None::<u8>));
        assert_ne!(hash(&1u8), hash(&1i8));
        assert_eq!(
            hash(&1u8),
            hash(&1u64),
            "integers are widened, not usize-sized"
        );
    }

    #[test]
    fn the_hash_of_a_value_is_fixed_forever() {
        // Golden value: it changes only if this module's encoding does (and then every
        // trace hash does too). It must be the same on wasm32 and x86_64.
        let v = (7u16, "k1", Some(vec![1u64, 2]), -3i32);
        assert_eq!(hash(&v), 4_066_904_498_555_216_286);
    }
}
