//! The audit trail: an append-only, hash-chained log of what people did.
//!
//! Every entry carries the hash of the one before it, and its own hash covers its fields and
//! that link, so editing an entry, deleting one, reordering them or inserting one breaks the
//! chain at that point. Deleting the newest entries leaves a shorter chain that is still
//! consistent; to catch that, the store also keeps the head (the last sequence number and hash)
//! outside the log, and [`verify`] compares the two.

use serde::{Deserialize, Serialize};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, as the audit trail names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Login,
    LoginFailed,
    Logout,
    Query,
    Export,
    Release,
    Approval,
    ReidentificationRequest,
    UserAdded,
    UserChanged,
    TokenCreated,
    TokenRevoked,
    Denied,
}

impl Action {
    /// The action's name in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::Logout => "logout",
            Action::Query => "query",
            Action::Export => "export",
            Action::Release => "release",
            Action::Approval => "approval",
            Action::ReidentificationRequest => "reidentification_request",
            Action::UserAdded => "user_added",
            Action::UserChanged => "user_changed",
            Action::TokenCreated => "token_created",
            Action::TokenRevoked => "token_revoked",
            Action::Denied => "denied",
        }
    }
}

/// An event about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who: a user name, or `public` for an anonymous request.
    pub actor: String,
    /// The actor's role when acting.
    pub role: String,
    pub action: Action,
    /// What it was done to (a release, a file, a user, a SQL digest).
    pub target: String,
    /// Anything else worth keeping, as JSON (the SQL text, a purpose, a client address).
    pub detail: serde_json::Value,
}

/// One recorded entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entry {
    /// 1 for the first entry, then one more per entry, with no gap.
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev: String,
    /// BLAKE3 of the fields above, hex.
    pub hash: String,
}

impl Entry {
    /// Chains `event` after the entry `seq - 1` whose hash is `prev`.
    pub fn chain(seq: i64, prev: &str, event: &Event) -> Entry {
        let mut e = Entry {
            seq,
            at: event.at.clone(),
            actor: event.actor.clone(),
            role: event.role.clone(),
            action: event.action.as_str().to_string(),
            target: event.target.clone(),
            detail: event.detail.clone(),
            prev: prev.to_string(),
            hash: String::new(),
        };
        e.hash = e.computed_hash();
        e
    }

    /// The hash the entry's fields give: every field is length-prefixed, so no two different
    /// entries hash the same text.
    pub fn computed_hash(&self) -> String {
        let mut h = blake3::Hasher::new();
        let detail = serde_json::to_string(&self.detail).expect("json serializes");
        for field in [
            self.seq.to_string().as_str(),
            &self.at,
            &self.actor,
            &self.role,
            &self.action,
            &self.target,
            &detail,
            &self.prev,
        ] {
            h.update(&(field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

/// The newest entry as recorded apart from the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Break {
    #[error("entry {seq}: its hash does not match its content (edited)")]
    Edited { seq: i64 },
    #[error(
        "entry {seq}: it does not follow entry {after} (an entry was deleted, inserted or moved)"
    )]
    Unlinked { seq: i64, after: i64 },
    #[error("entry {seq}: sequence number out of order, expected {expected}")]
    Sequence { seq: i64, expected: i64 },
    #[error(
        "the log ends at entry {last} but its head records entry {head} (entries were deleted from the end)"
    )]
    Truncated { last: i64, head: i64 },
    #[error(
        "the log's last entry {last} does not match the recorded head (the head or the last entry was replaced)"
    )]
    HeadMismatch { last: i64 },
}

/// What a verification found when the chain holds.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Verified {
    pub entries: i64,
    pub head: String,
}

/// Checks the chain `entries` (in sequence order) against the recorded `head`.
///
/// # Errors
/// The first [`Break`] found.
pub fn verify(entries: &[Entry], head: Option<&Head>) -> Result<Verified, Break> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected {
            return Err(Break::Sequence {
                seq: e.seq,
                expected,
            });
        }
        if e.computed_hash() != e.hash {
            return Err(Break::Edited { seq: e.seq });
        }
        if e.prev != prev {
            return Err(Break::Unlinked {
                seq: e.seq,
                after: e.seq - 1,
            });
        }
        prev = e.hash.clone();
    }
    let last = entries.last().map_or(0, |e| e.seq);
    match head {
        Some(h) if h.seq > last => {
            return Err(Break::Truncated { last, head: h.seq });
        }
        Some(h) if h.seq != last || h.hash != prev => {
            return Err(Break::HeadMismatch { last });
        }
        None if last > 0 => return Err(Break::HeadMismatch { last }),
        _ => {}
    }
    Ok(Verified {
        entries: last,
        head: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(actor: &str, action: Action, target: &str) -> Event {
        Event {
            at: "2025-03-14T10:00:00Z".into(),
            actor: actor.into(),
            role: "analyst".into(),
            action,
            target: target.into(),
            detail: serde_json::json!({"n": 1}),
        }
    }

    fn chain(n: usize) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
            out.push(Entry::chain(
                i as i64 + 1,
                &prev,
                &event("anna", Action::Query, &format!("q{i}")),
            ));
        }
        out
    }

    fn head(c: &[Entry]) -> Head {
        let l = c.last().unwrap();
        Head {
            seq: l.seq,
            hash: l.hash.clone(),
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let v = verify(&c, Some(&head(&c))).unwrap();
        assert_eq!(v.entries, 5);
        assert_eq!(v.head, c[4].hash);
        assert_eq!(verify(&[], None).unwrap().entries, 0);
    }

    #[test]
    fn the_hash_is_blake3_of_length_prefixed_fields() {
        // Recomputed by hand from the documented layout.
        let e = Entry::chain(1, GENESIS, &event("anna", Action::Login, "session"));
        let mut h = blake3::Hasher::new();
        for f in [
            "1",
            "2025-03-14T10:00:00Z",
            "anna",
            "analyst",
            "login",
            "session",
            "{\"n\":1}",
            GENESIS,
        ] {
            h.update(&(f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
        }
        assert_eq!(e.hash, h.finalize().to_hex().to_string());
    }

    #[test]
    fn every_kind_of_tampering_is_found_where_it_happened() {
        let c = chain(5);
        let h = head(&c);

        let mut edited = c.clone();
        edited[2].target = "something else".into();
        assert_eq!(verify(&edited, Some(&h)), Err(Break::Edited { seq: 3 }));

        // Edited and rehashed: the next entry no longer points at it.
        let mut rehashed = c.clone();
        rehashed[2].actor = "mallory".into();
        rehashed[2].hash = rehashed[2].computed_hash();
        assert_eq!(
            verify(&rehashed, Some(&h)),
            Err(Break::Unlinked { seq: 4, after: 3 })
        );

        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(
            verify(&deleted, Some(&h)),
            Err(Break::Sequence {
                seq: 3,
                expected: 2
            })
        );

        // Deleted and renumbered: the hashes give it away.
        let mut renumbered = c.clone();
        renumbered.remove(1);
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.seq = i as i64 + 1;
        }
        assert_eq!(verify(&renumbered, Some(&h)), Err(Break::Edited { seq: 2 }));

        let mut truncated = c.clone();
        truncated.truncate(3);
        assert_eq!(
            verify(&truncated, Some(&h)),
            Err(Break::Truncated { last: 3, head: 5 })
        );

        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert!(verify(&swapped, Some(&h)).is_err());

        // The last entry replaced by a consistent forgery: the head disagrees.
        let mut forged = c.clone();
        forged[4] = Entry::chain(5, &c[3].hash, &event("mallory", Action::Export, "all"));
        assert_eq!(
            verify(&forged, Some(&h)),
            Err(Break::HeadMismatch { last: 5 })
        );
    }
}
