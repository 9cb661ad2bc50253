//! Pseudonymization, on the custodian's side of the line.
//!
//! `pseudo` owns everything that touches a direct identifier: the custodian's key (a 256-bit
//! secret, versioned, encrypted under a passphrase, shareable with a partner custodian by sealing
//! it to the partner's public key), keyed pseudonyms (HMAC-SHA256, domain-separated per lab and
//! per identifier kind), Italian tax codes (normalization, validation, what can be derived from
//! them), name normalization for weak pseudonyms, generalization (dates, ages, addresses), the
//! custodian spec and the streaming pseudonymizer that turns a raw table into a pseudonymized
//! Parquet plus the custodian's lookup table, the identifier scanner the lab's guard uses, and
//! re-identification for outreach.
//!
//! It must not know about the warehouse, indicators or HTTP, and it never reads a file on the
//! lab's behalf that could turn a pseudonym back into a person: re-identification needs the key
//! and the lookup, which exist only at the custodian.
//!
//! Extension points: a new identifier kind is a `kind` string in a custodian spec (kinds other
//! than `tax_code` and `name_birth` are plain identifiers, normalized by trimming and
//! upper-casing); a new detector is a variant of [`scan::IdentifierKind`] with its check in
//! `scan.rs`; a new generalization is a `to` target in `spec.rs` backed by `generalize.rs`.

pub mod generalize;
pub mod keys;
pub mod normalize;
pub mod pipeline;
pub mod pseudonym;
pub mod reidentify;
pub mod scan;
pub mod spec;
pub mod taxcode;
