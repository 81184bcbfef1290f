//! JSON renderings for people and scripts: amounts as decimal strings (base units), addresses in
//! checksum form, durations in milliseconds.

use alloy::primitives::{Address, U256};
use serde::{ser::SerializeSeq, Serializer};
use std::time::Duration;

pub(crate) fn u256<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

pub(crate) fn u256_pair<S: Serializer>(v: &(U256, U256), s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(2))?;
    seq.serialize_element(&v.0.to_string())?;
    seq.serialize_element(&v.1.to_string())?;
    seq.end()
}

pub(crate) fn address<S: Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_checksum(None))
}

pub(crate) fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}
