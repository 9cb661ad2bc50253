//! Domain types shared by every datalab crate.
//!
//! `model` owns the vocabulary of DESIGN.md's "Words": what a source's columns can hold
//! ([`ColumnType`]), how a holder exports a file ([`Format`], [`Encoding`]), what a period is
//! ([`PeriodType`]) and the names of territory levels ([`TerritoryLevel`]).
//!
//! It must not know about files, TOML, Arrow, DataFusion or any I/O: it is plain data with
//! serde derives, so that every other crate can depend on it without pulling anything in.
//!
//! Extension point: new canonical column types are added to [`ColumnType`]; every match on it
//! is exhaustive, so the compiler lists the readers and writers that must learn the new type.

use serde::{Deserialize, Serialize};
use std::fmt;

pub mod forecast;
pub mod indicator;
pub mod role;
pub mod territory;

pub use forecast::{ForecastMethod, Horizon, Reconcile};
pub use indicator::{
    Definition, Direction, Estimate, Indicator, IndicatorKind, IndicatorPeriod, Measure, Need,
    TOPICS, Text, breakdown_key,
};
pub use role::Role;
pub use territory::{Crosswalk, Hierarchy, Territory};

/// Canonical type of a column once loaded into the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text.
    String,
    /// 64-bit signed integer.
    Integer,
    /// 64-bit float (amounts, rates).
    Float,
    /// true / false (also accepts si/no, s/n, 1/0, yes/no).
    Boolean,
    /// Calendar date without time.
    Date,
}

impl ColumnType {
    /// Every type, in documentation order.
    pub const ALL: [ColumnType; 5] = [
        ColumnType::String,
        ColumnType::Integer,
        ColumnType::Float,
        ColumnType::Boolean,
        ColumnType::Date,
    ];

    /// The name used in source specs.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Integer => "integer",
            ColumnType::Float => "float",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
        }
    }

    /// Whether `min` / `max` rules make sense for this type.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            ColumnType::Integer | ColumnType::Float | ColumnType::Date
        )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// File format of a source as its holder exports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Delimited text (`,` or `;` or tab), any supported encoding.
    Csv,
    /// Excel workbook (Office Open XML).
    Xlsx,
    /// Apache Parquet.
    Parquet,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Character encoding of a text source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark. Invalid bytes are an error, never replaced.
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// Windows-1252 (the usual "ANSI" export of Italian public administrations).
    #[serde(rename = "windows-1252", alias = "cp1252", alias = "ansi")]
    Windows1252,
    /// ISO-8859-1. Decoded as Windows-1252, its superset for printable characters (as browsers do).
    #[serde(rename = "latin-1", alias = "latin1", alias = "iso-8859-1")]
    Latin1,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Latin1 => "latin-1",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Granularity of the periods a project reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodType {
    Year,
    Quarter,
    Month,
}

/// Standard territory levels, from the largest to the smallest. Projects may declare any
/// subset or their own names; these are the ones the synthetic city and the docs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TerritoryLevel {
    Region,
    Province,
    Municipality,
    District,
    Zone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_type_names_round_trip_through_serde() {
        for ty in ColumnType::ALL {
            let json = format!("\"{}\"", ty.name());
            let back: ColumnType = serde_json_like(&json);
            assert_eq!(back, ty);
        }
    }

    fn serde_json_like(s: &str) -> ColumnType {
        // a minimal deserializer through serde's value machinery: the string variant name
        use serde::de::IntoDeserializer;
        let name = s.trim_matches('"').to_string();
        let de: serde::de::value::StringDeserializer<serde::de::value::Error> =
            name.into_deserializer();
        ColumnType::deserialize(de).expect("known type")
    }

    #[test]
    fn only_numbers_and_dates_are_ordered() {
        assert!(ColumnType::Date.is_ordered());
        assert!(ColumnType::Float.is_ordered());
        assert!(!ColumnType::String.is_ordered());
        assert!(!ColumnType::Boolean.is_ordered());
    }
}

/// A hasher for keys that are already digests (xxh3 of a pseudonym or of a unique key): they
/// are uniformly distributed, so hashing them again (SipHash) only costs time. The table uses
/// their low 64 bits as they are.
#[derive(Default, Clone, Copy, Debug)]
pub struct KeyHash;

impl std::hash::BuildHasher for KeyHash {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

/// The [`KeyHash`] hasher.
#[derive(Debug)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

/// The column holding a row's line in the holder's own file: written by the custodian's
/// pseudonymizer, read back by the lab's Parquet reader, kept in every lab table.
pub const LINE_COLUMN: &str = "_line";
