//! Who may see what, after the Five Safes' "safe people".

use serde::{Deserialize, Serialize};
use std::fmt;

/// A role in the lab. Only `Public` needs no account; the others are local accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Anyone: only released, disclosure-checked aggregates for the public.
    Public,
    /// A partner body: its own sources and the aggregates released to partners.
    Partner,
    /// The lab's analyst: pseudonymized microdata and read-only SQL; exports go through the gate.
    Analyst,
    /// The lab's output checker: approves what waits at the gate.
    Checker,
    /// Manages accounts and reads the audit trail.
    Admin,
}

impl Role {
    /// Every role, from the least to the most trusted.
    pub const ALL: [Role; 5] = [
        Role::Public,
        Role::Partner,
        Role::Analyst,
        Role::Checker,
        Role::Admin,
    ];

    /// The role's name as written in accounts and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Partner => "partner",
            Role::Analyst => "analyst",
            Role::Checker => "checker",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name (`output_checker` is accepted for `checker`).
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "public" => Some(Role::Public),
            "partner" => Some(Role::Partner),
            "analyst" => Some(Role::Analyst),
            "checker" | "output_checker" => Some(Role::Checker),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether the role works inside the lab (safe setting): analyst, checker, admin. Only lab
    /// roles may see values the gate has not released.
    pub fn is_lab(self) -> bool {
        matches!(self, Role::Analyst | Role::Checker | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_lab_roles_are_lab() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Output-Checker"), Some(Role::Checker));
        assert_eq!(Role::parse("root"), None);
        let lab: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_lab()).collect();
        assert_eq!(lab, [Role::Analyst, Role::Checker, Role::Admin]);
    }
}
