//! The custodian's key ring: versioned 256-bit secrets, their encrypted file, and sharing with a
//! partner custodian.
//!
//! A [`KeyRing`] holds one secret per key version. Rotation adds a version and keeps the old ones,
//! so pseudonyms made under an old version can still be reproduced and re-identified.
//!
//! On disk the ring is a JSON document whose secrets are encrypted with XChaCha20-Poly1305 under
//! a key derived from a passphrase with Argon2id. Every header field (format, key id, lab,
//! holder, key derivation parameters, ...) is authenticated as associated data: editing any of
//! them makes the file fail to open. `open` reads the Argon2id parameters from the file but
//! refuses parameters below a floor, so nobody can hand the custodian a weakened copy.
//!
//! A partner custodian (say, the regional labour agency) that must make pseudonyms linking with
//! the city's gets the ring sealed to its public key with HPKE (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305): the lab never holds a key and the
//! partner never receives the city's lookup table.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use data_encoding::{BASE64, HEXLOWER};
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

use crate::pseudonym::Pseudonymizer;

type ShareKem = hpke::kem::X25519HkdfSha256;
type ShareKdf = hpke::kdf::HkdfSha256;
type ShareAead = hpke::aead::ChaCha20Poly1305;

type JsonObject = Map<String, Value>;

const KEY_FORMAT: &str = "datalab-key";
const IDENTITY_FORMAT: &str = "datalab-identity";
const PUBLIC_KEY_FORMAT: &str = "datalab-public-key";
const SHARE_FORMAT: &str = "datalab-key-share";
const FORMAT_VERSION: u32 = 1;

const KDF_ALGORITHM: &str = "argon2id";
/// Argon2 version 0x13.
const KDF_VERSION: u32 = 19;
const AEAD: &str = "xchacha20poly1305";
const SHARE_SUITE: &str = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305";
const SHARE_INFO: &[u8] = b"datalab key share v1\0";

/// Minimum Argon2id memory accepted when saving or opening, in KiB (8 MiB).
pub const MIN_M_COST_KIB: u32 = 8 * 1024;
/// Minimum Argon2id passes accepted when saving or opening.
pub const MIN_T_COST: u32 = 1;
/// Maximum Argon2id memory accepted, in KiB (4 GiB): a file cannot make `open` exhaust memory.
pub const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
/// Maximum Argon2id passes accepted.
pub const MAX_T_COST: u32 = 64;
/// Maximum Argon2id lanes accepted.
pub const MAX_P_COST: u32 = 64;
/// Minimum passphrase length, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// What went wrong with a key, identity, public key or key share.
#[derive(Debug, Error)]
pub enum KeyError {
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {message}", .path.display())]
    Io {
        /// What was being done ("read", "write", ...).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// The file is not a datalab file of the expected kind.
    #[error("{} is not a datalab {what}: {detail}", .path.display())]
    NotAKeyFile {
        /// The file involved.
        path: PathBuf,
        /// What was expected ("key file", "identity file", "public key file").
        what: &'static str,
        /// Why it was not recognized.
        detail: String,
    },
    /// The file is a datalab file of another kind.
    #[error("{} is a {found} file, not a {expected} file", .path.display())]
    WrongFileKind {
        /// The file involved.
        path: PathBuf,
        /// Its `format` field.
        found: String,
        /// The expected `format`.
        expected: &'static str,
    },
    /// The file's format version is not one this build reads.
    #[error(
        "{} has format version {found}, this datalab reads version {supported}: use a newer datalab",
        .path.display()
    )]
    UnsupportedFormatVersion {
        /// The file involved.
        path: PathBuf,
        /// The version found.
        found: String,
        /// The version this build reads.
        supported: u32,
    },
    /// The file names an algorithm this build does not implement.
    #[error("{} uses {what} {found:?}, this datalab supports only {supported:?}", .path.display())]
    UnsupportedAlgorithm {
        /// The file involved.
        path: PathBuf,
        /// Which algorithm slot ("key derivation", "encryption", ...).
        what: &'static str,
        /// The value found.
        found: String,
        /// The supported value.
        supported: &'static str,
    },
    /// Decryption failed: the passphrase is wrong or the file was edited.
    #[error("wrong passphrase, or the key file was altered ({})", .path.display())]
    WrongPassphrase {
        /// The file involved.
        path: PathBuf,
    },
    /// The passphrase offered for saving is too weak.
    #[error("the passphrase is too weak: {reason}")]
    WeakPassphrase {
        /// What is wrong with it.
        reason: String,
    },
    /// Argon2id parameters outside the accepted range.
    #[error(
        "{}: key derivation parameters of {m_cost_kib} KiB, {t_cost} passes and {p_cost} lanes are \
         outside the accepted range ({MIN_M_COST_KIB} to {MAX_M_COST_KIB} KiB, {MIN_T_COST} to \
         {MAX_T_COST} passes, 1 to {MAX_P_COST} lanes); a file with weaker parameters may have \
         been rewritten to make its passphrase easier to guess",
        .path.display()
    )]
    KdfParams {
        /// The file involved.
        path: PathBuf,
        /// Memory in KiB.
        m_cost_kib: u32,
        /// Passes.
        t_cost: u32,
        /// Lanes.
        p_cost: u32,
    },
    /// A name (lab, holder, partner) is unusable.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// Which name ("lab", "holder", "partner name").
        what: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The ring already has version `u32::MAX`.
    #[error("the key is at version {0}, the last possible one: it cannot be rotated again")]
    VersionOverflow(u32),
    /// A file or share decrypted but its content is not what datalab writes.
    #[error("{what} is damaged: {detail}")]
    Corrupt {
        /// The file or share involved.
        what: String,
        /// What is malformed.
        detail: String,
    },
    /// A key share sealed to another partner.
    #[error(
        "this share was sealed to {sealed_to} (key {sealed_fingerprint}), not to {identity} (key {identity_fingerprint})"
    )]
    WrongRecipient {
        /// The recipient named in the share.
        sealed_to: String,
        /// The recipient's fingerprint recorded in the share.
        sealed_fingerprint: String,
        /// The name of the identity used to open it.
        identity: String,
        /// That identity's fingerprint.
        identity_fingerprint: String,
    },
    /// Not a key share, or a malformed one.
    #[error("not a valid datalab key share: {detail}")]
    InvalidShare {
        /// What is wrong.
        detail: String,
    },
    /// The share's authentication failed.
    #[error("the key share could not be opened: it was altered or damaged in transit")]
    ShareAltered,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    /// An encryption primitive failed where it should not (a bug or invalid parameters).
    #[error("encryption failed: {0}")]
    Crypto(String),
}

/// Argon2id cost parameters used to derive a file's encryption key from its passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Number of lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane.
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    fn check(&self, path: &Path) -> Result<(), KeyError> {
        let ok = (MIN_M_COST_KIB..=MAX_M_COST_KIB).contains(&self.m_cost_kib)
            && (MIN_T_COST..=MAX_T_COST).contains(&self.t_cost)
            && (1..=MAX_P_COST).contains(&self.p_cost);
        if ok {
            Ok(())
        } else {
            Err(KeyError::KdfParams {
                path: path.to_path_buf(),
                m_cost_kib: self.m_cost_kib,
                t_cost: self.t_cost,
                p_cost: self.p_cost,
            })
        }
    }
}

/// One version of the key: its number, when it was made, and its secret.
pub struct KeyVersion {
    /// Version number, from 1.
    pub version: u32,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    secret: Zeroizing<[u8; 32]>,
}

impl Clone for KeyVersion {
    fn clone(&self) -> Self {
        KeyVersion {
            version: self.version,
            created_at: self.created_at.clone(),
            secret: Zeroizing::new(*self.secret),
        }
    }
}

impl std::fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVersion")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The custodian's versioned pseudonymization key (a copy held by `holder`).
#[derive(Clone)]
pub struct KeyRing {
    /// Random identifier of the key, 16 hex characters; every copy of the key shares it.
    pub key_id: String,
    /// The lab the key pseudonymizes for; part of every pseudonym's domain separation.
    pub lab: String,
    /// Creation time of the key, RFC 3339 UTC.
    pub created_at: String,
    /// Who holds this copy (e.g. `city`, or a partner's name after a share).
    pub holder: String,
    /// Never empty, strictly increasing versions.
    versions: Vec<KeyVersion>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_id", &self.key_id)
            .field("lab", &self.lab)
            .field("created_at", &self.created_at)
            .field("holder", &self.holder)
            .field("versions", &self.versions)
            .finish()
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, KeyError> {
    let mut buf = Zeroizing::new([0u8; N]);
    getrandom::fill(&mut buf[..]).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(buf)
}

fn check_name(what: &'static str, value: &str) -> Result<(), KeyError> {
    let reason = if value.trim().is_empty() {
        Some("it is empty")
    } else if value.chars().any(char::is_control) {
        Some("it contains control characters")
    } else if value.chars().count() > 200 {
        Some("it is longer than 200 characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(KeyError::InvalidName {
            what,
            value: value.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn check_passphrase(passphrase: &str) -> Result<(), KeyError> {
    if passphrase.is_empty() {
        return Err(KeyError::WeakPassphrase {
            reason: "it is empty".to_string(),
        });
    }
    let chars = passphrase.chars().count();
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(KeyError::WeakPassphrase {
            reason: format!(
                "it has {chars} characters, use at least {MIN_PASSPHRASE_CHARS} (a few unrelated words are best)"
            ),
        });
    }
    Ok(())
}

impl KeyRing {
    /// A new key for `lab`, held by `holder`, with a random version-1 secret.
    pub fn generate(lab: &str, holder: &str) -> Result<KeyRing, KeyError> {
        check_name("lab", lab)?;
        check_name("holder", holder)?;
        let id = random::<8>()?;
        let created_at = now();
        let first = KeyVersion {
            version: 1,
            created_at: created_at.clone(),
            secret: random::<32>()?,
        };
        Ok(KeyRing {
            key_id: HEXLOWER.encode(&id[..]),
            lab: lab.to_string(),
            created_at,
            holder: holder.to_string(),
            versions: vec![first],
        })
    }

    /// Adds a new version with a fresh secret and returns its number. Old versions are kept.
    pub fn rotate(&mut self) -> Result<u32, KeyError> {
        let current = self.current_version();
        let version = current
            .checked_add(1)
            .ok_or(KeyError::VersionOverflow(current))?;
        self.versions.push(KeyVersion {
            version,
            created_at: now(),
            secret: random::<32>()?,
        });
        Ok(version)
    }

    fn current(&self) -> &KeyVersion {
        self.versions
            .last()
            .expect("a key ring always has at least one version")
    }

    /// The newest version, the one new pseudonyms are made with.
    pub fn current_version(&self) -> u32 {
        self.current().version
    }

    /// The secret of `version`, if the ring has it.
    pub fn secret(&self, version: u32) -> Option<&[u8; 32]> {
        self.versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| &*v.secret)
    }

    /// The version numbers, oldest first.
    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.versions.iter().map(|v| v.version)
    }

    /// The versions with their creation times, oldest first.
    pub fn key_versions(&self) -> &[KeyVersion] {
        &self.versions
    }

    /// A pseudonymizer for `kind` under the current version.
    pub fn pseudonymizer(&self, kind: &str, weak: bool) -> Pseudonymizer {
        let v = self.current();
        Pseudonymizer::new(&v.secret, v.version, &self.lab, kind, weak)
    }

    /// A pseudonymizer for `kind` under `version`, if the ring has it.
    pub fn pseudonymizer_for(&self, version: u32, kind: &str, weak: bool) -> Option<Pseudonymizer> {
        self.secret(version)
            .map(|secret| Pseudonymizer::new(secret, version, &self.lab, kind, weak))
    }

    /// The JSON of the versions with their secrets in hex: the encrypted payload of key files
    /// and shares.
    fn versions_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let mut s = Zeroizing::new(String::with_capacity(32 + self.versions.len() * 192));
        s.push_str("{\"versions\":[");
        for (i, v) in self.versions.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"version\":");
            s.push_str(&v.version.to_string());
            s.push_str(",\"created_at\":");
            s.push_str(&Value::String(v.created_at.clone()).to_string());
            s.push_str(",\"secret\":\"");
            HEXLOWER.encode_append(&v.secret[..], &mut s);
            s.push_str("\"}");
        }
        s.push_str("]}");
        Zeroizing::new(s.as_bytes().to_vec())
    }

    /// Saves the ring encrypted under `passphrase` with the default Argon2id parameters.
    pub fn save(&self, path: &Path, passphrase: &str) -> Result<(), KeyError> {
        self.save_with(path, passphrase, &KdfParams::default())
    }

    /// Saves the ring encrypted under `passphrase` with the given Argon2id parameters (at least
    /// the floor `open` accepts). The write is atomic and the file is readable only by its owner.
    pub fn save_with(
        &self,
        path: &Path,
        passphrase: &str,
        params: &KdfParams,
    ) -> Result<(), KeyError> {
        let header = vec![
            ("format", Value::from(KEY_FORMAT)),
            ("format_version", Value::from(FORMAT_VERSION)),
            ("key_id", Value::from(self.key_id.as_str())),
            ("lab", Value::from(self.lab.as_str())),
            ("holder", Value::from(self.holder.as_str())),
            ("created_at", Value::from(self.created_at.as_str())),
        ];
        let body = seal_envelope(path, header, &self.versions_plaintext(), passphrase, params)?;
        write_atomic(path, body.as_bytes(), 0o600)
    }

    /// Opens a key file saved by [`KeyRing::save`].
    pub fn open(path: &Path, passphrase: &str) -> Result<KeyRing, KeyError> {
        let bytes = read_file(path)?;
        let (header, plaintext) = open_envelope(path, &bytes, KEY_FORMAT, "key file", passphrase)?;
        #[derive(Deserialize)]
        struct Header {
            key_id: String,
            lab: String,
            holder: String,
            created_at: String,
        }
        let h: Header =
            serde_json::from_value(Value::Object(header)).map_err(|e| KeyError::NotAKeyFile {
                path: path.to_path_buf(),
                what: "key file",
                detail: e.to_string(),
            })?;
        let versions = parse_versions(&plaintext, &path.display().to_string())?;
        Ok(KeyRing {
            key_id: h.key_id,
            lab: h.lab,
            created_at: h.created_at,
            holder: h.holder,
            versions,
        })
    }

    /// Seals the ring to a partner's public key: the returned bytes are a key-share file that
    /// only the holder of the matching [`PartnerIdentity`] can open (with
    /// [`KeyRing::open_share`]). It contains no secret in clear.
    ///
    /// # Panics
    ///
    /// If the operating system's random number generator fails during encapsulation (the HPKE
    /// crate draws its ephemeral key from it and does not report that failure).
    pub fn seal_for(&self, to: &PartnerPublicKey) -> Result<Vec<u8>, KeyError> {
        let fingerprint = to.fingerprint();
        let header = vec![
            ("format", Value::from(SHARE_FORMAT)),
            ("format_version", Value::from(FORMAT_VERSION)),
            ("key_id", Value::from(self.key_id.as_str())),
            ("lab", Value::from(self.lab.as_str())),
            ("created_at", Value::from(self.created_at.as_str())),
            ("from", Value::from(self.holder.as_str())),
            ("to", Value::from(to.name.as_str())),
            ("recipient_fingerprint", Value::from(fingerprint.as_str())),
            ("suite", Value::from(SHARE_SUITE)),
            ("sealed_at", Value::from(now())),
        ];
        let aad = canonical_json(&object_of(&header));
        let info = share_info(&self.key_id, &self.lab, &fingerprint);
        let pk = <ShareKem as hpke::Kem>::PublicKey::from_bytes(&to.bytes)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let plaintext = self.versions_plaintext();
        let (encapped, ciphertext) = hpke::single_shot_seal::<ShareAead, ShareKdf, ShareKem>(
            &OpModeS::Base,
            &pk,
            &info,
            &plaintext,
            aad.as_bytes(),
        )
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let mut fields = header;
        fields.push((
            "encapsulated_key",
            Value::from(BASE64.encode(&encapped.to_bytes())),
        ));
        fields.push(("ciphertext", Value::from(BASE64.encode(&ciphertext))));
        Ok(pretty(&fields).into_bytes())
    }

    /// Opens a key share sealed to `identity`. The ring has the sender's key id, lab, versions
    /// and secrets, and `holder` set to the identity's name.
    pub fn open_share(body: &[u8], identity: &PartnerIdentity) -> Result<KeyRing, KeyError> {
        let invalid = |detail: String| KeyError::InvalidShare { detail };
        let value: Value =
            serde_json::from_slice(body).map_err(|e| invalid(format!("it is not JSON ({e})")))?;
        let Value::Object(mut header) = value else {
            return Err(invalid("it is not a JSON object".to_string()));
        };
        let field = |header: &Map<String, Value>, name: &str| -> Result<String, KeyError> {
            header
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| KeyError::InvalidShare {
                    detail: format!("the {name:?} field is missing or not a string"),
                })
        };
        let format = field(&header, "format")?;
        if format != SHARE_FORMAT {
            return Err(invalid(format!(
                "its format is {format:?}, expected {SHARE_FORMAT:?}"
            )));
        }
        if header.get("format_version").and_then(Value::as_u64) != Some(u64::from(FORMAT_VERSION)) {
            return Err(invalid(format!(
                "format version {} is not supported, this datalab reads version {FORMAT_VERSION}",
                header.get("format_version").unwrap_or(&Value::Null)
            )));
        }
        let suite = field(&header, "suite")?;
        if suite != SHARE_SUITE {
            return Err(invalid(format!(
                "it uses the cipher suite {suite:?}, this datalab supports only {SHARE_SUITE:?}"
            )));
        }
        let sealed_fingerprint = field(&header, "recipient_fingerprint")?;
        let public = identity.public();
        let identity_fingerprint = public.fingerprint();
        if sealed_fingerprint != identity_fingerprint {
            return Err(KeyError::WrongRecipient {
                sealed_to: field(&header, "to")?,
                sealed_fingerprint,
                identity: identity.name.clone(),
                identity_fingerprint,
            });
        }
        let encapped = take_base64(&mut header, "encapsulated_key").map_err(invalid)?;
        let ciphertext = take_base64(&mut header, "ciphertext").map_err(invalid)?;
        let key_id = field(&header, "key_id")?;
        let lab = field(&header, "lab")?;
        let created_at = field(&header, "created_at")?;
        let aad = canonical_json(&Value::Object(header));
        let info = share_info(&key_id, &lab, &sealed_fingerprint);
        let encapped = <ShareKem as hpke::Kem>::EncappedKey::from_bytes(&encapped)
            .map_err(|_| invalid("the encapsulated key has the wrong length".to_string()))?;
        let sk = identity.private_key()?;
        let plaintext = hpke::single_shot_open::<ShareAead, ShareKdf, ShareKem>(
            &OpModeR::Base,
            &sk,
            &encapped,
            &info,
            &ciphertext,
            aad.as_bytes(),
        )
        .map_err(|_| KeyError::ShareAltered)?;
        let plaintext = Zeroizing::new(plaintext);
        let versions = parse_versions(&plaintext, "the key share")?;
        Ok(KeyRing {
            key_id,
            lab,
            created_at,
            holder: identity.name.clone(),
            versions,
        })
    }
}

fn share_info(key_id: &str, lab: &str, fingerprint: &str) -> Vec<u8> {
    let mut info = SHARE_INFO.to_vec();
    info.extend_from_slice(key_id.as_bytes());
    info.push(0);
    info.extend_from_slice(lab.as_bytes());
    info.push(0);
    info.extend_from_slice(fingerprint.as_bytes());
    info
}

fn parse_versions(plaintext: &[u8], what: &str) -> Result<Vec<KeyVersion>, KeyError> {
    #[derive(Deserialize)]
    struct Doc {
        versions: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        version: u32,
        created_at: String,
        secret: String,
    }
    let corrupt = |detail: String| KeyError::Corrupt {
        what: what.to_string(),
        detail,
    };
    let mut doc: Doc = serde_json::from_slice(plaintext)
        .map_err(|e| corrupt(format!("the decrypted key versions are not valid ({e})")))?;
    if doc.versions.is_empty() {
        return Err(corrupt("it holds no key version".to_string()));
    }
    let mut out: Vec<KeyVersion> = Vec::with_capacity(doc.versions.len());
    let mut previous = 0u32;
    let mut failure = None;
    for entry in &mut doc.versions {
        if entry.version <= previous {
            failure = Some(format!(
                "key version {} comes after version {previous}",
                entry.version
            ));
            break;
        }
        previous = entry.version;
        let mut secret = Zeroizing::new([0u8; 32]);
        let decoded = HEXLOWER.decode_len(entry.secret.len()).ok() == Some(32)
            && HEXLOWER
                .decode_mut(entry.secret.as_bytes(), &mut secret[..])
                .is_ok();
        if !decoded {
            failure = Some(format!(
                "the secret of version {} is not 64 hex characters",
                entry.version
            ));
            break;
        }
        out.push(KeyVersion {
            version: entry.version,
            created_at: std::mem::take(&mut entry.created_at),
            secret,
        });
    }
    for entry in &mut doc.versions {
        entry.secret.zeroize();
    }
    match failure {
        Some(detail) => Err(corrupt(detail)),
        None => Ok(out),
    }
}

/// An X25519 key pair that lets a partner custodian receive key shares.
pub struct PartnerIdentity {
    name: String,
    created_at: String,
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl std::fmt::Debug for PartnerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerIdentity")
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("fingerprint", &fingerprint_of(&self.public))
            .finish_non_exhaustive()
    }
}

fn fingerprint_of(public: &[u8; 32]) -> String {
    let digest = Sha256::digest(public);
    HEXLOWER.encode(&digest[..8])
}

impl PartnerIdentity {
    /// A new random identity for the partner `name` (e.g. `"regional labour agency"`).
    pub fn generate(name: &str) -> Result<PartnerIdentity, KeyError> {
        check_name("partner name", name)?;
        let ikm = random::<32>()?;
        let (sk, pk) = ShareKem::derive_keypair(&ikm[..]);
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&sk.to_bytes());
        let mut public = [0u8; 32];
        public.copy_from_slice(&pk.to_bytes());
        Ok(PartnerIdentity {
            name: name.to_string(),
            created_at: now(),
            secret,
            public,
        })
    }

    /// The partner's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, to give to the custodian that will seal a key share.
    pub fn public(&self) -> PartnerPublicKey {
        PartnerPublicKey {
            name: self.name.clone(),
            bytes: self.public,
        }
    }

    fn private_key(&self) -> Result<<ShareKem as hpke::Kem>::PrivateKey, KeyError> {
        <ShareKem as hpke::Kem>::PrivateKey::from_bytes(&self.secret[..])
            .map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// Saves the identity encrypted under `passphrase` (default Argon2id parameters).
    pub fn save(&self, path: &Path, passphrase: &str) -> Result<(), KeyError> {
        self.save_with(path, passphrase, &KdfParams::default())
    }

    /// Saves the identity encrypted under `passphrase` with the given Argon2id parameters.
    pub fn save_with(
        &self,
        path: &Path,
        passphrase: &str,
        params: &KdfParams,
    ) -> Result<(), KeyError> {
        let header = vec![
            ("format", Value::from(IDENTITY_FORMAT)),
            ("format_version", Value::from(FORMAT_VERSION)),
            ("name", Value::from(self.name.as_str())),
            ("created_at", Value::from(self.created_at.as_str())),
            ("fingerprint", Value::from(fingerprint_of(&self.public))),
        ];
        let body = seal_envelope(path, header, &self.secret[..], passphrase, params)?;
        write_atomic(path, body.as_bytes(), 0o600)
    }

    /// Opens an identity file saved by [`PartnerIdentity::save`].
    pub fn open(path: &Path, passphrase: &str) -> Result<PartnerIdentity, KeyError> {
        let bytes = read_file(path)?;
        let (header, plaintext) =
            open_envelope(path, &bytes, IDENTITY_FORMAT, "identity file", passphrase)?;
        #[derive(Deserialize)]
        struct Header {
            name: String,
            created_at: String,
            fingerprint: String,
        }
        let h: Header =
            serde_json::from_value(Value::Object(header)).map_err(|e| KeyError::NotAKeyFile {
                path: path.to_path_buf(),
                what: "identity file",
                detail: e.to_string(),
            })?;
        let corrupt = |detail: &str| KeyError::Corrupt {
            what: path.display().to_string(),
            detail: detail.to_string(),
        };
        if plaintext.len() != 32 {
            return Err(corrupt("the private key does not have 32 bytes"));
        }
        let sk = <ShareKem as hpke::Kem>::PrivateKey::from_bytes(&plaintext)
            .map_err(|_| corrupt("the private key is not valid"))?;
        let pk = ShareKem::sk_to_pk(&sk);
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&sk.to_bytes());
        let mut public = [0u8; 32];
        public.copy_from_slice(&pk.to_bytes());
        if fingerprint_of(&public) != h.fingerprint {
            return Err(corrupt(
                "the recorded fingerprint does not match the private key",
            ));
        }
        Ok(PartnerIdentity {
            name: h.name,
            created_at: h.created_at,
            secret,
            public,
        })
    }
}

/// A partner's public key: what a custodian needs to seal a key share to the partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerPublicKey {
    /// The partner's name.
    pub name: String,
    bytes: [u8; 32],
}

impl PartnerPublicKey {
    /// First 16 hex characters of the SHA-256 of the key: compare it over the phone before
    /// sealing a share.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.bytes)
    }

    /// Writes the public key as a small JSON file (atomic write).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let fields = vec![
            ("format", Value::from(PUBLIC_KEY_FORMAT)),
            ("format_version", Value::from(FORMAT_VERSION)),
            ("name", Value::from(self.name.as_str())),
            ("x25519", Value::from(BASE64.encode(&self.bytes))),
            ("fingerprint", Value::from(self.fingerprint())),
        ];
        write_atomic(path, pretty(&fields).as_bytes(), 0o644)
    }

    /// Reads a public key file written by [`PartnerPublicKey::save`], checking its fingerprint.
    pub fn load(path: &Path) -> Result<PartnerPublicKey, KeyError> {
        let bytes = read_file(path)?;
        let mut header = read_header(path, &bytes, PUBLIC_KEY_FORMAT, "public key file")?;
        let not_key = |detail: String| KeyError::NotAKeyFile {
            path: path.to_path_buf(),
            what: "public key file",
            detail,
        };
        let raw = take_base64(&mut header, "x25519").map_err(not_key)?;
        let name = header
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| not_key("the \"name\" field is missing".to_string()))?;
        let recorded = header
            .get("fingerprint")
            .and_then(Value::as_str)
            .ok_or_else(|| not_key("the \"fingerprint\" field is missing".to_string()))?;
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| not_key(format!("the key has {} bytes, expected 32", raw.len())))?;
        let key = PartnerPublicKey {
            name: name.to_string(),
            bytes,
        };
        if key.fingerprint() != recorded {
            return Err(KeyError::Corrupt {
                what: path.display().to_string(),
                detail: format!(
                    "the recorded fingerprint {recorded} does not match the key ({}): the file was altered",
                    key.fingerprint()
                ),
            });
        }
        Ok(key)
    }
}

// ---------------------------------------------------------------------------------------------
// Envelope: JSON header + argon2id + XChaCha20-Poly1305, the header as associated data.

/// The JSON object of `fields`, in order (for the associated data the order does not matter:
/// [`canonical_json`] sorts keys).
fn object_of(fields: &[(&str, Value)]) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect(),
    )
}

/// Compact JSON with object keys sorted, independent of `serde_json`'s map ordering features:
/// the associated data authenticated by the file encryption.
fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// Pretty JSON of `fields` in the given order, with a final newline.
fn pretty(fields: &[(&str, Value)]) -> String {
    struct Ordered<'a>(&'a [(&'a str, Value)]);
    impl Serialize for Ordered<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }
    let mut out = match serde_json::to_string_pretty(&Ordered(fields)) {
        Ok(s) => s,
        // Serializing strings and numbers into a String cannot fail.
        Err(e) => unreachable!("serializing JSON values failed: {e}"),
    };
    out.push('\n');
    out
}

fn derive_file_key(
    passphrase: &str,
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let argon_params =
        argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| KeyError::Crypto(format!("argon2id parameters: {e}")))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut key[..])
        .map_err(|e| KeyError::Crypto(format!("argon2id: {e}")))?;
    Ok(key)
}

/// Encrypts `plaintext` under `passphrase`; returns the file body: `header` fields, then `kdf`,
/// `aead`, `nonce` and `ciphertext`.
fn seal_envelope(
    path: &Path,
    header: Vec<(&str, Value)>,
    plaintext: &[u8],
    passphrase: &str,
    params: &KdfParams,
) -> Result<String, KeyError> {
    check_passphrase(passphrase)?;
    params.check(path)?;
    let salt = random::<16>()?;
    let nonce = random::<24>()?;
    let mut fields = header;
    fields.push((
        "kdf",
        serde_json::json!({
            "algorithm": KDF_ALGORITHM,
            "version": KDF_VERSION,
            "m_cost_kib": params.m_cost_kib,
            "t_cost": params.t_cost,
            "p_cost": params.p_cost,
            "salt": BASE64.encode(&salt[..]),
        }),
    ));
    fields.push(("aead", Value::from(AEAD)));
    let aad = canonical_json(&object_of(&fields));
    let key = derive_file_key(passphrase, &salt[..], params)?;
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let ciphertext = cipher
        .encrypt(
            &XNonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
    fields.push(("nonce", Value::from(BASE64.encode(&nonce[..]))));
    fields.push(("ciphertext", Value::from(BASE64.encode(&ciphertext))));
    Ok(pretty(&fields))
}

/// Parses a datalab JSON file and checks its `format` and `format_version`.
fn read_header(
    path: &Path,
    bytes: &[u8],
    format: &'static str,
    what: &'static str,
) -> Result<Map<String, Value>, KeyError> {
    let not_key = |detail: String| KeyError::NotAKeyFile {
        path: path.to_path_buf(),
        what,
        detail,
    };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| not_key(format!("it is not JSON ({e})")))?;
    let Value::Object(header) = value else {
        return Err(not_key("it is not a JSON object".to_string()));
    };
    match header.get("format").and_then(Value::as_str) {
        Some(f) if f == format => {}
        Some(f) if f.starts_with("datalab-") => {
            return Err(KeyError::WrongFileKind {
                path: path.to_path_buf(),
                found: f.to_string(),
                expected: format,
            });
        }
        Some(f) => return Err(not_key(format!("its format is {f:?}, expected {format:?}"))),
        None => return Err(not_key("it has no \"format\" field".to_string())),
    }
    match header.get("format_version") {
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => Ok(header),
        other => Err(KeyError::UnsupportedFormatVersion {
            path: path.to_path_buf(),
            found: other.map_or_else(|| "(missing)".to_string(), Value::to_string),
            supported: FORMAT_VERSION,
        }),
    }
}

/// Removes a base64 string field from `map` and decodes it.
fn take_base64(map: &mut Map<String, Value>, name: &str) -> Result<Vec<u8>, String> {
    let value = map
        .remove(name)
        .ok_or_else(|| format!("the {name:?} field is missing"))?;
    let text = value
        .as_str()
        .ok_or_else(|| format!("the {name:?} field is not a string"))?;
    BASE64
        .decode(text.as_bytes())
        .map_err(|e| format!("the {name:?} field is not base64 ({e})"))
}

/// Decrypts a file written by [`seal_envelope`]: returns its header (without `nonce` and
/// `ciphertext`) and the plaintext.
fn open_envelope(
    path: &Path,
    bytes: &[u8],
    format: &'static str,
    what: &'static str,
    passphrase: &str,
) -> Result<(JsonObject, Zeroizing<Vec<u8>>), KeyError> {
    let mut header = read_header(path, bytes, format, what)?;
    let not_key = |detail: String| KeyError::NotAKeyFile {
        path: path.to_path_buf(),
        what,
        detail,
    };
    let nonce = take_base64(&mut header, "nonce").map_err(not_key)?;
    let ciphertext = take_base64(&mut header, "ciphertext").map_err(not_key)?;
    #[derive(Deserialize)]
    struct Kdf {
        algorithm: String,
        version: u32,
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
        salt: String,
    }
    let kdf: Kdf = header
        .get("kdf")
        .cloned()
        .ok_or_else(|| not_key("it has no \"kdf\" field".to_string()))
        .and_then(|v| {
            serde_json::from_value(v).map_err(|e| not_key(format!("the \"kdf\" field: {e}")))
        })?;
    if kdf.algorithm != KDF_ALGORITHM || kdf.version != KDF_VERSION {
        return Err(KeyError::UnsupportedAlgorithm {
            path: path.to_path_buf(),
            what: "key derivation",
            found: format!("{} version {}", kdf.algorithm, kdf.version),
            supported: "argon2id version 19",
        });
    }
    let aead = header.get("aead").and_then(Value::as_str).unwrap_or("");
    if aead != AEAD {
        return Err(KeyError::UnsupportedAlgorithm {
            path: path.to_path_buf(),
            what: "encryption",
            found: aead.to_string(),
            supported: AEAD,
        });
    }
    let params = KdfParams {
        m_cost_kib: kdf.m_cost_kib,
        t_cost: kdf.t_cost,
        p_cost: kdf.p_cost,
    };
    params.check(path)?;
    let salt = BASE64
        .decode(kdf.salt.as_bytes())
        .map_err(|e| not_key(format!("the salt is not base64 ({e})")))?;
    if salt.len() < argon2::MIN_SALT_LEN {
        return Err(not_key(format!("the salt has only {} bytes", salt.len())));
    }
    let nonce: [u8; 24] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| not_key(format!("the nonce has {} bytes, expected 24", nonce.len())))?;
    let aad = canonical_json(&Value::Object(header.clone()));
    let key = derive_file_key(passphrase, &salt, &params)?;
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let plaintext = cipher
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| KeyError::WrongPassphrase {
            path: path.to_path_buf(),
        })?;
    Ok((header, Zeroizing::new(plaintext)))
}

fn read_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|e| KeyError::Io {
        action: "read",
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes `contents` to a temporary file next to `path`, syncs it and renames it over `path`.
fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeyError> {
    let io = |action: &'static str, p: &Path, e: std::io::Error| KeyError::Io {
        action,
        path: p.to_path_buf(),
        message: e.to_string(),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".datalab-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("create a temporary file in", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("set permissions on", tmp.path(), e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io("write", path, e))?;
    tmp.persist(path).map_err(|e| io("write", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small Argon2id parameters (the accepted floor) to keep tests fast.
    const FAST: KdfParams = KdfParams {
        m_cost_kib: MIN_M_COST_KIB,
        t_cost: 1,
        p_cost: 1,
    };
    const PASS: &str = "correct horse battery";

    fn ring() -> KeyRing {
        KeyRing::generate("welfare-lab", "city").expect("generate")
    }

    fn saved(ring: &KeyRing) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("city.key");
        ring.save_with(&path, PASS, &FAST).expect("save");
        (dir, path)
    }

    /// Rewrites a JSON field of the file at `path`.
    fn edit(path: &Path, f: impl FnOnce(&mut Map<String, Value>)) {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json");
        f(v.as_object_mut().expect("object"));
        std::fs::write(path, serde_json::to_vec_pretty(&v).expect("json")).expect("write");
    }

    fn assert_same_secrets(a: &KeyRing, b: &KeyRing) {
        assert_eq!(
            a.versions().collect::<Vec<_>>(),
            b.versions().collect::<Vec<_>>()
        );
        for v in a.versions() {
            assert_eq!(a.secret(v), b.secret(v), "version {v}");
        }
    }

    #[test]
    fn generate() {
        let r = ring();
        assert_eq!(r.key_id.len(), 16);
        assert!(r.key_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(r.current_version(), 1);
        assert_eq!(r.versions().collect::<Vec<_>>(), vec![1]);
        assert!(r.secret(1).is_some());
        assert!(r.secret(2).is_none());
        assert_ne!(r.secret(1), ring().secret(1), "secrets are random");
        assert_ne!(r.key_id, ring().key_id);
        let shown = format!("{r:?}");
        let hex = HEXLOWER.encode(r.secret(1).expect("v1"));
        assert!(
            !shown.contains(&hex),
            "Debug must not show secrets: {shown}"
        );
        assert!(matches!(
            KeyRing::generate("", "city"),
            Err(KeyError::InvalidName { what: "lab", .. })
        ));
        assert!(matches!(
            KeyRing::generate("lab\0x", "city"),
            Err(KeyError::InvalidName { .. })
        ));
    }

    #[test]
    fn save_open_roundtrip() {
        let r = ring();
        let (_dir, path) = saved(&r);
        let text = std::fs::read_to_string(&path).expect("read");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["format"], "datalab-key");
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["kdf"]["algorithm"], "argon2id");
        assert_eq!(v["kdf"]["version"], 19);
        assert_eq!(v["kdf"]["m_cost_kib"], MIN_M_COST_KIB);
        assert_eq!(v["aead"], "xchacha20poly1305");
        assert!(
            text.starts_with("{\n  \"format\": \"datalab-key\""),
            "{text}"
        );
        let hex = HEXLOWER.encode(r.secret(1).expect("v1"));
        assert!(!text.contains(&hex));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = KeyRing::open(&path, PASS).expect("open");
        assert_eq!(back.key_id, r.key_id);
        assert_eq!(back.lab, r.lab);
        assert_eq!(back.holder, r.holder);
        assert_eq!(back.created_at, r.created_at);
        assert_same_secrets(&r, &back);
    }

    #[test]
    fn default_parameters_roundtrip() {
        let r = ring();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.json");
        r.save(&path, PASS).expect("save");
        let v: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(v["kdf"]["m_cost_kib"], 65536);
        assert_eq!(v["kdf"]["t_cost"], 3);
        assert_eq!(v["kdf"]["p_cost"], 1);
        assert_same_secrets(&r, &KeyRing::open(&path, PASS).expect("open"));
    }

    #[test]
    fn wrong_passphrase() {
        let (_dir, path) = saved(&ring());
        let err = KeyRing::open(&path, "wrong passphrase here").expect_err("must fail");
        assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("wrong passphrase, or the key file was altered"),
            "{err}"
        );
    }

    #[test]
    fn tampered_header_fails() {
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m.insert("lab".into(), Value::from("other-lab"));
        });
        let err = KeyRing::open(&path, PASS).expect_err("must fail");
        assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err:?}");

        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m.insert("holder".into(), Value::from("someone else"));
        });
        assert!(matches!(
            KeyRing::open(&path, PASS),
            Err(KeyError::WrongPassphrase { .. })
        ));

        // An added header field is authenticated too.
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m.insert("note".into(), Value::from("hello"));
        });
        assert!(matches!(
            KeyRing::open(&path, PASS),
            Err(KeyError::WrongPassphrase { .. })
        ));

        // Raising the cost parameters (still in range) changes the header: fails.
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m["kdf"]["t_cost"] = Value::from(2);
        });
        assert!(matches!(
            KeyRing::open(&path, PASS),
            Err(KeyError::WrongPassphrase { .. })
        ));
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            let ct = m["ciphertext"].as_str().expect("string").to_string();
            let mut raw = BASE64.decode(ct.as_bytes()).expect("base64");
            raw[10] ^= 1;
            m.insert("ciphertext".into(), Value::from(BASE64.encode(&raw)));
        });
        assert!(matches!(
            KeyRing::open(&path, PASS),
            Err(KeyError::WrongPassphrase { .. })
        ));
    }

    #[test]
    fn weak_kdf_parameters_refused() {
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m["kdf"]["m_cost_kib"] = Value::from(64);
        });
        let err = KeyRing::open(&path, PASS).expect_err("must fail");
        assert!(
            matches!(err, KeyError::KdfParams { m_cost_kib: 64, .. }),
            "{err:?}"
        );
        let (_dir, path) = saved(&ring());
        edit(&path, |m| {
            m["kdf"]["t_cost"] = Value::from(0);
        });
        assert!(matches!(
            KeyRing::open(&path, PASS),
            Err(KeyError::KdfParams { t_cost: 0, .. })
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        let weak = KdfParams {
            m_cost_kib: 1024,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(matches!(
            ring().save_with(&dir.path().join("k"), PASS, &weak),
            Err(KeyError::KdfParams { .. })
        ));
    }

    #[test]
    fn weak_passphrases_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k");
        for p in ["", "short", "1234567", "àèìòùàè"] {
            let err = ring().save_with(&path, p, &FAST).expect_err(p);
            assert!(
                matches!(err, KeyError::WeakPassphrase { .. }),
                "{p}: {err:?}"
            );
        }
        assert!(!path.exists());
        ring()
            .save_with(&path, "12345678", &FAST)
            .expect("8 characters are enough");
    }

    #[test]
    fn not_a_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.csv");
        std::fs::write(&path, "name,age\nmario,40\n").expect("write");
        let err = KeyRing::open(&path, PASS).expect_err("must fail");
        assert!(matches!(err, KeyError::NotAKeyFile { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("data.csv") && msg.contains("is not a datalab key file"),
            "{msg}"
        );

        let other = dir.path().join("other.json");
        std::fs::write(&other, r#"{"format":"something"}"#).expect("write");
        assert!(matches!(
            KeyRing::open(&other, PASS),
            Err(KeyError::NotAKeyFile { .. })
        ));

        let missing = dir.path().join("missing.key");
        let err = KeyRing::open(&missing, PASS).expect_err("must fail");
        assert!(
            matches!(err, KeyError::Io { action: "read", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("missing.key"));

        // An identity file is not a key file.
        let id_path = dir.path().join("agency.identity");
        PartnerIdentity::generate("agency")
            .expect("generate")
            .save_with(&id_path, PASS, &FAST)
            .expect("save");
        let err = KeyRing::open(&id_path, PASS).expect_err("must fail");
        assert_eq!(
            err.to_string(),
            format!(
                "{} is a datalab-identity file, not a datalab-key file",
                id_path.display()
            )
        );

        let future = dir.path().join("future.key");
        std::fs::write(&future, r#"{"format":"datalab-key","format_version":2}"#).expect("write");
        assert!(matches!(
            KeyRing::open(&future, PASS),
            Err(KeyError::UnsupportedFormatVersion { .. })
        ));
    }

    #[test]
    fn rotation_keeps_old_versions() {
        let mut r = ring();
        let v1 = r.pseudonymizer("tax_code", false);
        let old = v1.pseudonym("RSSMRA85T10A562S");
        assert!(old.starts_with("p1."));
        assert_eq!(r.rotate().expect("rotate"), 2);
        assert_eq!(r.rotate().expect("rotate"), 3);
        assert_eq!(r.current_version(), 3);
        assert_eq!(r.versions().collect::<Vec<_>>(), vec![1, 2, 3]);
        let new = r
            .pseudonymizer("tax_code", false)
            .pseudonym("RSSMRA85T10A562S");
        assert!(new.starts_with("p3."));
        assert_ne!(old[3..], new[3..]);
        let (_dir, path) = saved(&r);
        let back = KeyRing::open(&path, PASS).expect("open");
        assert_eq!(back.current_version(), 3);
        let again = back
            .pseudonymizer_for(1, "tax_code", false)
            .expect("v1 kept")
            .pseudonym("RSSMRA85T10A562S");
        assert_eq!(again, old);
        assert_eq!(
            back.pseudonymizer("tax_code", false)
                .pseudonym("RSSMRA85T10A562S"),
            new
        );
        assert!(back.pseudonymizer_for(4, "tax_code", false).is_none());
    }

    #[test]
    fn share_to_partner_links() {
        let mut city = ring();
        city.rotate().expect("rotate");
        let agency = PartnerIdentity::generate("regional labour agency").expect("generate");
        let dir = tempfile::tempdir().expect("tempdir");

        // The agency sends its public key file; the city seals the key to it.
        let pub_path = dir.path().join("agency.pub.json");
        agency.public().save(&pub_path).expect("save public");
        let public = PartnerPublicKey::load(&pub_path).expect("load public");
        assert_eq!(public, agency.public());
        assert_eq!(public.fingerprint().len(), 16);
        let share = city.seal_for(&public).expect("seal");

        // The agency keeps its identity in an encrypted file.
        let id_path = dir.path().join("agency.identity");
        agency
            .save_with(&id_path, PASS, &FAST)
            .expect("save identity");
        let agency = PartnerIdentity::open(&id_path, PASS).expect("open identity");
        assert_eq!(agency.name(), "regional labour agency");

        let theirs = KeyRing::open_share(&share, &agency).expect("open share");
        assert_eq!(theirs.key_id, city.key_id);
        assert_eq!(theirs.lab, city.lab);
        assert_eq!(theirs.created_at, city.created_at);
        assert_eq!(theirs.holder, "regional labour agency");
        assert_same_secrets(&city, &theirs);
        for kind in ["tax_code", "name_birth"] {
            for id in ["RSSMRA85T10A562S", "ROSSI|MARIO|1985-12-10|M"] {
                assert_eq!(
                    theirs.pseudonymizer(kind, false).pseudonym(id),
                    city.pseudonymizer(kind, false).pseudonym(id)
                );
                assert_eq!(
                    theirs
                        .pseudonymizer_for(1, kind, true)
                        .map(|p| p.pseudonym(id)),
                    city.pseudonymizer_for(1, kind, true)
                        .map(|p| p.pseudonym(id))
                );
            }
        }
    }

    #[test]
    fn share_never_contains_secrets() {
        let mut city = ring();
        city.rotate().expect("rotate");
        let agency = PartnerIdentity::generate("agency").expect("generate");
        let share = city.seal_for(&agency.public()).expect("seal");
        let text = String::from_utf8(share.clone()).expect("utf8");
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["format"], "datalab-key-share");
        assert_eq!(v["from"], "city");
        assert_eq!(v["to"], "agency");
        assert_eq!(v["recipient_fingerprint"], agency.public().fingerprint());
        for version in city.versions() {
            let secret = city.secret(version).expect("secret");
            for encoded in [
                HEXLOWER.encode(secret),
                data_encoding::HEXUPPER.encode(secret),
                BASE64.encode(secret),
                data_encoding::BASE64_NOPAD.encode(secret),
                data_encoding::BASE64URL_NOPAD.encode(secret),
            ] {
                assert!(!text.contains(&encoded), "share contains {encoded}");
            }
            assert!(
                !share.windows(32).any(|w| w == secret),
                "share contains the raw secret"
            );
        }
    }

    #[test]
    fn share_to_another_identity_fails() {
        let city = ring();
        let agency = PartnerIdentity::generate("agency").expect("generate");
        let other = PartnerIdentity::generate("province").expect("generate");
        let share = city.seal_for(&agency.public()).expect("seal");
        let err = KeyRing::open_share(&share, &other).expect_err("must fail");
        assert!(matches!(err, KeyError::WrongRecipient { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("this share was sealed to agency (key ")
                && msg.contains(", not to province (key "),
            "{msg}"
        );

        // Same name, different key: the fingerprint decides.
        let impostor = PartnerIdentity::generate("agency").expect("generate");
        assert!(matches!(
            KeyRing::open_share(&share, &impostor),
            Err(KeyError::WrongRecipient { .. })
        ));
    }

    #[test]
    fn tampered_share_fails() {
        let city = ring();
        let agency = PartnerIdentity::generate("agency").expect("generate");
        let share = city.seal_for(&agency.public()).expect("seal");
        let tamper = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut v: Value = serde_json::from_slice(&share).expect("json");
            f(v.as_object_mut().expect("object"));
            serde_json::to_vec(&v).expect("json")
        };
        let lab = tamper(&|m| {
            m.insert("lab".into(), Value::from("other-lab"));
        });
        assert!(matches!(
            KeyRing::open_share(&lab, &agency),
            Err(KeyError::ShareAltered)
        ));
        let from = tamper(&|m| {
            m.insert("from".into(), Value::from("mallory"));
        });
        assert!(matches!(
            KeyRing::open_share(&from, &agency),
            Err(KeyError::ShareAltered)
        ));
        let ct = tamper(&|m| {
            let mut raw = BASE64
                .decode(m["ciphertext"].as_str().expect("string").as_bytes())
                .expect("base64");
            raw[0] ^= 0x80;
            m.insert("ciphertext".into(), Value::from(BASE64.encode(&raw)));
        });
        assert!(matches!(
            KeyRing::open_share(&ct, &agency),
            Err(KeyError::ShareAltered)
        ));
        assert!(matches!(
            KeyRing::open_share(b"hello", &agency),
            Err(KeyError::InvalidShare { .. })
        ));
        // A key file is not a share.
        let (_dir, path) = saved(&city);
        let err = KeyRing::open_share(&std::fs::read(&path).expect("read"), &agency)
            .expect_err("must fail");
        assert!(matches!(err, KeyError::InvalidShare { .. }), "{err:?}");
    }

    #[test]
    fn identity_file() {
        let agency = PartnerIdentity::generate("agency").expect("generate");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agency.identity");
        agency.save_with(&path, PASS, &FAST).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"format\": \"datalab-identity\""));
        assert!(!text.contains(&HEXLOWER.encode(&agency.secret[..])));
        assert!(!text.contains(&BASE64.encode(&agency.secret[..])));
        let back = PartnerIdentity::open(&path, PASS).expect("open");
        assert_eq!(back.public(), agency.public());
        assert!(matches!(
            PartnerIdentity::open(&path, "not the passphrase"),
            Err(KeyError::WrongPassphrase { .. })
        ));
        edit(&path, |m| {
            m.insert("name".into(), Value::from("mallory"));
        });
        assert!(matches!(
            PartnerIdentity::open(&path, PASS),
            Err(KeyError::WrongPassphrase { .. })
        ));
        assert!(!format!("{agency:?}").contains(&HEXLOWER.encode(&agency.secret[..])));
    }

    #[test]
    fn public_key_file() {
        let agency = PartnerIdentity::generate("agency").expect("generate");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("agency.pub");
        agency.public().save(&path).expect("save");
        let v: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(v["format"], "datalab-public-key");
        assert_eq!(v["name"], "agency");
        assert_eq!(v["fingerprint"], agency.public().fingerprint());
        // Altering the key is detected by the fingerprint.
        edit(&path, |m| {
            let mut raw = BASE64
                .decode(m["x25519"].as_str().expect("string").as_bytes())
                .expect("base64");
            raw[0] ^= 1;
            m.insert("x25519".into(), Value::from(BASE64.encode(&raw)));
        });
        let err = PartnerPublicKey::load(&path).expect_err("must fail");
        assert!(matches!(err, KeyError::Corrupt { .. }), "{err:?}");
        assert!(matches!(
            PartnerPublicKey::load(&dir.path().join("nope")),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v = serde_json::json!({"b": 1, "a": {"d": "x\"y", "c": [1, 2]}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":[1,2],"d":"x\"y"},"b":1}"#);
    }
}
