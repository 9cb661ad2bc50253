//! Every environment variable datalab reads, declared in one place. Capability crates never
//! read the environment; only the binary does, here.

/// One environment variable and what it does.
pub struct EnvVar {
    pub name: &'static str,
    pub doc: &'static str,
}

/// The default for `--project` (otherwise the current folder).
pub const DATALAB_PROJECT: EnvVar = EnvVar {
    name: "DATALAB_PROJECT",
    doc: "project folder used when --project is not given (default: the current folder)",
};

/// The passphrase of a key file (custodian commands), for scripts.
pub const DATALAB_KEY_PASSPHRASE: EnvVar = EnvVar {
    name: "DATALAB_KEY_PASSPHRASE",
    doc: "passphrase of the custodian's key file (and of a partner's identity) for key, pseudonymize and reidentify; without it the passphrase is typed at the terminal (not echoed) or read from a pipe",
};

/// Who runs a release or approves an output (recorded in the release log).
pub const DATALAB_USER: EnvVar = EnvVar {
    name: "DATALAB_USER",
    doc: "name recorded as who made a release or approved an output (default: USER)",
};

/// The login name, the last fallback for who acts.
pub const USER: EnvVar = EnvVar {
    name: "USER",
    doc: "login name, recorded in release logs when DATALAB_USER and --by are not given",
};

/// A new account's password, for scripts (`datalab user add`, `datalab user password`).
pub const DATALAB_PASSWORD: EnvVar = EnvVar {
    name: "DATALAB_PASSWORD",
    doc: "password of the account being created or changed by `datalab user add` / `user password`; without it the password is typed at the terminal (twice, not echoed) or read from a pipe",
};

/// All of them, for `datalab env` and the README.
pub const ALL: &[EnvVar] = &[
    DATALAB_PROJECT,
    DATALAB_KEY_PASSPHRASE,
    DATALAB_USER,
    DATALAB_PASSWORD,
    USER,
];

/// Who acts: `--by`, else `DATALAB_USER`, else `USER`, else "unknown".
pub fn user(by: Option<String>) -> String {
    by.or_else(|| std::env::var(DATALAB_USER.name).ok())
        .or_else(|| std::env::var(USER.name).ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The key passphrase: from `DATALAB_KEY_PASSPHRASE`, else typed at the terminal without echo,
/// else one line read from standard input (a pipe).
pub fn key_passphrase(what: &str) -> anyhow::Result<String> {
    secret(&DATALAB_KEY_PASSPHRASE, "passphrase", what, false)
}

/// An account's new password: from `DATALAB_PASSWORD`, else typed twice at the terminal without
/// echo, else one line read from standard input (a pipe).
pub fn password(what: &str) -> anyhow::Result<String> {
    secret(&DATALAB_PASSWORD, "password", what, true)
}

/// A secret from `var`, else typed at the terminal without echo (twice when `confirm`), else
/// one line read from standard input (a pipe); empty is a usage error.
fn secret(var: &EnvVar, kind: &str, what: &str, confirm: bool) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if let Ok(p) = std::env::var(var.name) {
        return Ok(p);
    }
    let p = if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(format!("{kind} for {what}: "))?;
        if confirm && p != rpassword::prompt_password("again: ")? {
            anyhow::bail!(crate::cmd::UsageError(format!("the two {kind}s differ")));
        }
        p
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if p.is_empty() {
        anyhow::bail!(crate::cmd::UsageError(format!(
            "no {kind} for {what}: set {} or type it",
            var.name
        )));
    }
    Ok(p)
}
