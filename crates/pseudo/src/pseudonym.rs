//! Keyed pseudonyms: HMAC-SHA256 under a per-lab, per-kind subkey.
//!
//! A pseudonym is `p{version}.{b32}` (strong: the identifier is a stable code such as a tax code)
//! or `w{version}.{b32}` (weak: built from name and birth date, see [`crate::normalize`]), where
//! `b32` is the lowercase, unpadded RFC 4648 base32 of the first 16 bytes of
//! `HMAC-SHA256(subkey, normalized identifier)`: 26 characters, 128 bits.
//!
//! The subkey is `HMAC-SHA256(secret, "datalab pseudonym v1\0" ++ lab ++ "\0" ++ kind ++ "\0" ++
//! ("weak" | "strong"))`, so the same person gets unrelated pseudonyms in two labs, for two
//! identifier kinds, or under two key versions. Nothing in this module goes back from a
//! pseudonym to an identifier: that needs the custodian's lookup table.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

type HmacSha256 = Hmac<Sha256>;

/// Domain-separation prefix of the subkey derivation. Changing it changes every pseudonym.
const DOMAIN: &[u8] = b"datalab pseudonym v1\0";

/// Number of HMAC output bytes kept in a pseudonym.
const KEPT_BYTES: usize = 16;

/// Length of the base32 part of a pseudonym (16 bytes, unpadded).
pub const PSEUDONYM_B32_LEN: usize = 26;

/// HMAC-SHA256 (RFC 2104 with SHA-256) of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = new_mac(key);
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// A keyed HMAC instance. HMAC accepts keys of any length (long keys are hashed first), so
/// `new_from_slice` cannot fail for it.
fn new_mac(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// Turns normalized identifiers of one kind into pseudonyms, for one lab and one key version.
///
/// Build it once per column: the subkey's HMAC key schedule is computed in [`Pseudonymizer::new`]
/// and each call only clones the keyed state and hashes the message.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: HmacSha256,
    /// `p{version}.` or `w{version}.`
    prefix: String,
    version: u32,
    weak: bool,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("version", &self.version)
            .field("weak", &self.weak)
            .finish_non_exhaustive()
    }
}

impl Pseudonymizer {
    /// A pseudonymizer for identifiers of `kind` in `lab`, under key `version` whose secret is
    /// `secret`; `weak` marks identifiers built from name and birth date.
    ///
    /// `lab` and `kind` should not contain NUL bytes: they are separated by NUL in the subkey
    /// derivation (the key ring refuses such lab names).
    pub fn new(
        secret: &[u8; 32],
        version: u32,
        lab: &str,
        kind: &str,
        weak: bool,
    ) -> Pseudonymizer {
        let strength: &[u8] = if weak { b"weak" } else { b"strong" };
        let mut derive = new_mac(secret);
        derive.update(DOMAIN);
        derive.update(lab.as_bytes());
        derive.update(b"\0");
        derive.update(kind.as_bytes());
        derive.update(b"\0");
        derive.update(strength);
        let mut subkey: [u8; 32] = derive.finalize().into_bytes().into();
        let mac = new_mac(&subkey);
        subkey.zeroize();
        let prefix = format!("{}{}.", if weak { 'w' } else { 'p' }, version);
        Pseudonymizer {
            mac,
            prefix,
            version,
            weak,
        }
    }

    /// The key version this pseudonymizer uses.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Whether this pseudonymizer makes weak (`w`) pseudonyms.
    pub fn is_weak(&self) -> bool {
        self.weak
    }

    /// The pseudonym of an already normalized identifier.
    pub fn pseudonym(&self, normalized: &str) -> String {
        let mut out = String::with_capacity(self.prefix.len() + PSEUDONYM_B32_LEN);
        self.write(normalized, &mut out);
        out
    }

    /// Appends the pseudonym of `normalized` to `out`, without allocating when `out` has room.
    pub fn write(&self, normalized: &str, out: &mut String) {
        let mut mac = self.mac.clone();
        mac.update(normalized.as_bytes());
        let tag = mac.finalize().into_bytes();
        out.push_str(&self.prefix);
        let start = out.len();
        data_encoding::BASE32_NOPAD.encode_append(&tag[..KEPT_BYTES], out);
        out[start..].make_ascii_lowercase();
    }
}

/// What the shape of a pseudonym says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PseudonymInfo {
    /// Made from a weak identifier (name and birth date): `w` prefix.
    pub weak: bool,
    /// Key version it was made with.
    pub version: u32,
}

/// Parses the shape of a pseudonym: `p` or `w`, a version `1..=u32::MAX` without leading zeros,
/// a dot, and 26 lowercase base32 characters encoding exactly 16 bytes. `None` otherwise.
pub fn parse(s: &str) -> Option<PseudonymInfo> {
    let bytes = s.as_bytes();
    let weak = match bytes.first()? {
        b'p' => false,
        b'w' => true,
        _ => return None,
    };
    let rest = &s[1..];
    let dot = rest.find('.')?;
    let (digits, b32) = (&rest[..dot], &rest[dot + 1..]);
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let version: u32 = digits.parse().ok()?;
    if b32.len() != PSEUDONYM_B32_LEN {
        return None;
    }
    let mut last = 0u8;
    for b in b32.bytes() {
        last = match b {
            b'a'..=b'z' => b - b'a',
            b'2'..=b'7' => b - b'2' + 26,
            _ => return None,
        };
    }
    // 16 bytes = 128 bits = 25 full symbols + 3 bits; the last symbol's 2 low bits are padding.
    if last & 0b11 != 0 {
        return None;
    }
    Some(PseudonymInfo { weak, version })
}

/// Whether `s` has the shape of a pseudonym (see [`parse`]).
pub fn is_pseudonym(s: &str) -> bool {
    parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        data_encoding::HEXLOWER
            .decode(s.as_bytes())
            .expect("test vector is valid hex")
    }

    fn check_rfc4231(key: &[u8], data: &[u8], expected_hex: &str) {
        let expected = hex(expected_hex);
        let got = hmac_sha256(key, data);
        assert_eq!(&got[..expected.len()], &expected[..]);
    }

    #[test]
    fn rfc4231_case_1() {
        check_rfc4231(
            &[0x0b; 20],
            b"Hi There",
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        );
    }

    #[test]
    fn rfc4231_case_2() {
        check_rfc4231(
            b"Jefe",
            b"what do ya want for nothing?",
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        );
    }

    #[test]
    fn rfc4231_case_3() {
        check_rfc4231(
            &[0xaa; 20],
            &[0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        );
    }

    #[test]
    fn rfc4231_case_4() {
        let key: Vec<u8> = (0x01..=0x19).collect();
        check_rfc4231(
            &key,
            &[0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        );
    }

    #[test]
    fn rfc4231_case_5_truncated_to_128_bits() {
        check_rfc4231(
            &[0x0c; 20],
            b"Test With Truncation",
            "a3b6167473100ee06e0c796c2955552b",
        );
    }

    #[test]
    fn rfc4231_case_6() {
        check_rfc4231(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        );
    }

    #[test]
    fn rfc4231_case_7() {
        check_rfc4231(
            &[0xaa; 131],
            b"This is a test using a larger than block-size key and a larger than block-size \
              data. The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        );
    }

    #[test]
    fn pseudonym_is_truncated_hmac_under_derived_subkey() {
        let secret = [7u8; 32];
        let mut info = b"datalab pseudonym v1\0".to_vec();
        info.extend_from_slice(b"lab-a\0tax_code\0strong");
        let subkey = hmac_sha256(&secret, &info);
        let tag = hmac_sha256(&subkey, b"RSSMRA85T10A562S");
        let b32 = data_encoding::BASE32_NOPAD
            .encode(&tag[..16])
            .to_ascii_lowercase();
        let p = Pseudonymizer::new(&secret, 1, "lab-a", "tax_code", false);
        assert_eq!(p.pseudonym("RSSMRA85T10A562S"), format!("p1.{b32}"));
        assert_eq!(b32.len(), 26);
    }

    #[test]
    fn write_appends() {
        let p = Pseudonymizer::new(&[1u8; 32], 3, "lab", "kind", true);
        let mut out = String::from("x,");
        p.write("A", &mut out);
        assert_eq!(out, format!("x,{}", p.pseudonym("A")));
        assert!(out[2..].starts_with("w3."));
    }

    #[test]
    fn parse_accepts_exactly_the_format() {
        let p = Pseudonymizer::new(&[2u8; 32], 42, "lab", "kind", false).pseudonym("X");
        assert_eq!(
            parse(&p),
            Some(PseudonymInfo {
                weak: false,
                version: 42
            })
        );
        let b32 = &p[p.len() - 26..];
        assert!(is_pseudonym(&format!("w4294967295.{b32}")));
        for bad in [
            String::new(),
            "p".to_string(),
            format!("p0.{b32}"),
            format!("p01.{b32}"),
            format!("p4294967296.{b32}"),
            format!("p.{b32}"),
            format!("x1.{b32}"),
            format!("P1.{b32}"),
            format!("p1.{}", b32.to_ascii_uppercase()),
            format!("p1.{}", &b32[..25]),
            format!("p1.{b32}a"),
            format!("p1-{b32}"),
            format!("p+1.{b32}"),
            format!("p1.{}1", &b32[..25]),
            // last symbol with non-zero padding bits ('b' = 1)
            format!("p1.{}b", &b32[..25]),
            format!("p1.{}é", &b32[..24]),
        ] {
            assert_eq!(parse(&bad), None, "{bad:?} should not parse");
        }
    }

    #[test]
    fn debug_does_not_show_key_material() {
        let p = Pseudonymizer::new(&[9u8; 32], 1, "lab", "kind", false);
        let shown = format!("{p:?}");
        assert!(shown.contains("version: 1"), "{shown}");
        assert!(!shown.contains("mac"), "{shown}");
    }

    fn secret() -> impl Strategy<Value = [u8; 32]> {
        proptest::array::uniform32(any::<u8>())
    }

    proptest! {
        #[test]
        fn deterministic(s in secret(), v in 1u32.., lab in ".{0,12}", kind in "[a-z_]{1,10}",
                         weak in any::<bool>(), id in ".{0,40}") {
            let a = Pseudonymizer::new(&s, v, &lab, &kind, weak);
            let b = Pseudonymizer::new(&s, v, &lab, &kind, weak);
            prop_assert_eq!(a.pseudonym(&id), b.pseudonym(&id));
            prop_assert_eq!(a.pseudonym(&id), a.pseudonym(&id));
        }

        #[test]
        fn output_parses_with_version_and_strength(s in secret(), v in 1u32.., weak in any::<bool>(),
                                                    id in ".{0,40}") {
            let p = Pseudonymizer::new(&s, v, "lab", "tax_code", weak).pseudonym(&id);
            prop_assert_eq!(parse(&p), Some(PseudonymInfo { weak, version: v }));
        }

        #[test]
        fn lab_separates(s in secret(), a in "[a-z]{1,8}", b in "[a-z]{1,8}", id in ".{1,20}") {
            prop_assume!(a != b);
            let pa = Pseudonymizer::new(&s, 1, &a, "tax_code", false).pseudonym(&id);
            let pb = Pseudonymizer::new(&s, 1, &b, "tax_code", false).pseudonym(&id);
            prop_assert_ne!(pa, pb);
        }

        #[test]
        fn kind_separates(s in secret(), a in "[a-z_]{1,8}", b in "[a-z_]{1,8}", id in ".{1,20}") {
            prop_assume!(a != b);
            let pa = Pseudonymizer::new(&s, 1, "lab", &a, false).pseudonym(&id);
            let pb = Pseudonymizer::new(&s, 1, "lab", &b, false).pseudonym(&id);
            prop_assert_ne!(pa, pb);
        }

        #[test]
        fn version_separates(s in secret(), a in 1u32.., b in 1u32.., id in ".{1,20}") {
            // The version is not part of the subkey: it separates through the prefix here, and
            // through the distinct secret of each version in a key ring.
            prop_assume!(a != b);
            let pa = Pseudonymizer::new(&s, a, "lab", "k", false).pseudonym(&id);
            let pb = Pseudonymizer::new(&s, b, "lab", "k", false).pseudonym(&id);
            prop_assert_ne!(pa, pb);
        }

        #[test]
        fn secret_separates(a in secret(), b in secret(), id in ".{1,20}") {
            prop_assume!(a != b);
            let pa = Pseudonymizer::new(&a, 1, "lab", "k", false).pseudonym(&id);
            let pb = Pseudonymizer::new(&b, 1, "lab", "k", false).pseudonym(&id);
            // Compare the keyed part: the prefixes are equal by construction.
            prop_assert_ne!(&pa[3..], &pb[3..]);
        }

        #[test]
        fn strength_separates(s in secret(), id in ".{1,20}") {
            let strong = Pseudonymizer::new(&s, 1, "lab", "k", false).pseudonym(&id);
            let weak = Pseudonymizer::new(&s, 1, "lab", "k", true).pseudonym(&id);
            prop_assert_ne!(&strong[3..], &weak[3..]);
        }
    }
}
