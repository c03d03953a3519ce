//! The keys an options struct takes, asked of its serde derive. serde-wasm-bindgen reads only
//! the fields a struct names (so `deny_unknown_fields` never sees the others); a typo such as
//! `maxDelay` must still be an error, so the object's own keys are checked against these.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The names `T` deserializes from, as its `Deserialize` impl hands them to
/// `deserialize_struct` (renamed, as JS spells them).
pub fn keys_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut keys: &'static [&'static str] = &[];
    let _ = T::deserialize(KeysProbe(&mut keys));
    keys
}

/// A deserializer that only records the field names it is asked for.
struct KeysProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for KeysProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs have keys"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("the keys are known"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
